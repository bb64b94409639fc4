// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) that works offline.
import Foundation
import RunFiles

package enum ReportHTML {
    package static let style = """
        body{font-family:sans-serif;max-width:820px;margin:24px auto;padding:0 16px;color:#222;line-height:1.45}
        h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
        th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .verdict{background:#f6f8fa;border-left:4px solid #0072B2;padding:8px 12px}
        .note{color:#555;font-size:13px}.keys{font-size:12px;color:#444;margin:2px 0 0 0;padding-left:18px}
        pre{background:#f6f8fa;padding:8px;font-size:12px;overflow-x:auto}svg,img{max-width:100%;height:auto}figure{margin:8px 0}
        """

    static func render(_ r: RunReport) -> String {
        let h = ReportText.html
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        s += "<title>Run report: \(h(r.name))</title>\n<style>\n\(style)\n</style>\n</head>\n<body>\n"
        s += "<h1>Run report: \(h(r.name))</h1>\n"
        s += table(nil, r.summary.map { [$0.label, $0.value] }, numeric: [])
        s += "<h2>Verdict</h2>\n<p class=\"verdict\">\(h(r.stats.verdict.joined(separator: " ")))</p>\n"
        s += "<h2>Validation</h2>\n"
        if r.validationTable.isEmpty {
            s += "<p class=\"note\">No validation yet.</p>\n"
        } else {
            s += table(
                ["Metric", "Model (last)", "Identity (last)", "Gain", "Best model"], r.validationTable,
                numeric: [1, 2, 3])
            if let note = r.validationNote { s += "<p class=\"note\">\(h(note))</p>\n" }
        }
        if let note = r.testNote {
            s += "<h2>Held-out test</h2>\n<p class=\"note\">\(h(note))</p>\n"
            s += table(["Metric", "Model", "Identity", "Gain"], r.testTable, numeric: [1, 2, 3])
            if !r.testImagesTable.isEmpty {
                s += "<p class=\"note\">\(h(RunReport.testImagesNote))</p>\n"
                s += table(RunReport.testImagesHeader, r.testImagesTable, numeric: [1, 2, 3, 4, 5])
            }
        }
        if !r.pictures.isEmpty {
            s += "<h2>Pictures</h2>\n<p class=\"note\">\(h(RunDirectory.imagesCaption))</p>\n"
            for p in r.pictures {
                s += "<figure><img alt=\"\(h(p.name))\" src=\"data:image/png;base64,"
                s +=
                    Data(p.png).base64EncodedString()
                    + "\"><figcaption class=\"note\">\(h(p.name))</figcaption></figure>\n"
            }
        }
        for sec in r.sections { s += section(sec) }
        s += incidents(r)
        if let config = r.run.configText {
            s += "<h2>Configuration</h2>\n<pre>\(h(config))</pre>\n"
        }
        if !r.run.skippedPartialLastLine.isEmpty {
            s += "<p class=\"note\">Skipped (being written): \(h(r.skippedFileNames.joined(separator: ", "))).</p>\n"
        }
        return s + "</body>\n</html>\n"
    }

    static func section(_ sec: ReportSection) -> String {
        // The validation table already says "No validation yet"; validation charts sit under its heading.
        if sec.title == "Validation" { return "" }
        var s = sec.title.hasPrefix("Validation") ? "" : "<h2>\(ReportText.html(sec.title))</h2>\n"
        if let note = sec.note { s += "<p class=\"note\">\(ReportText.html(note))</p>\n" }
        if var chart = sec.chart {
            chart.showTitle = sec.title.hasPrefix("Validation")
            s += "<figure>\n\(chart.render())\n</figure>\n"
        }
        if !sec.keyNumbers.isEmpty {
            s += "<ul class=\"keys\">" + sec.keyNumbers.map { "<li>\(ReportText.html($0))</li>" }.joined() + "</ul>\n"
        }
        return s
    }

    static func incidents(_ r: RunReport) -> String {
        var s = "<h2>Incidents</h2>\n"
        guard !r.worstIncidents.isEmpty else { return s + "<p class=\"note\">No incidents recorded.</p>\n" }
        for t in r.incidentTables {
            s += "<p class=\"note\">\(ReportText.html(t.note))</p>\n" + table(t.header, t.rows, numeric: t.numeric)
        }
        if r.incidentsNotShown > 0 {
            s += "<p class=\"note\">\(ReportText.count(r.incidentsNotShown)) more not shown (see incidents.csv).</p>\n"
        }
        return s
    }

    static func incidentRow(_ i: Incident) -> [String] {
        [String(i.step), i.kind.rawValue, i.file, String(i.x), String(i.y), ReportText.number(i.value), i.detail]
    }

    package static func table(_ header: [String]?, _ rows: [[String]], numeric: Set<Int>) -> String {
        var s = "<table>\n"
        if let header { s += "<tr>" + header.map { "<th>\(ReportText.html($0))</th>" }.joined() + "</tr>\n" }
        for row in rows {
            s +=
                "<tr>"
                + row.enumerated().map { i, v in
                    (numeric.contains(i) ? "<td class=\"n\">" : "<td>") + ReportText.html(v) + "</td>"
                }.joined() + "</tr>\n"
        }
        return s + "</table>\n"
    }
}
