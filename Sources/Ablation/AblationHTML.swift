// comparison.html: one self-contained page (inline CSS and SVG, no script, no URL): the table, the claims with
// their verdicts in words and colour, and the variants' curves side by side.
import Foundation
import Reports

enum AblationHTML {
    static let style =
        ReportHTML.style.replacingOccurrences(of: "max-width:820px", with: "max-width:1100px") + """

            .claim{border-left:6px solid #888;padding:6px 12px;margin:10px 0;background:#f6f8fa}
            .supported,.helps{border-color:#009E73}.not-supported,.hurts{border-color:#D55E00}.inconclusive{border-color:#999}
            .scroll{overflow-x:auto}
            """

    static func render(_ c: AblationComparison) -> String {
        let h = ReportText.html
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        s += "<title>Ablation comparison</title>\n<style>\n\(style)\n</style>\n</head>\n<body>\n"
        s += "<h1>Ablation comparison</h1>\n"
        for map in AblationText.stabilityMaps(c) {
            s += "<h2>\(h(map.title))</h2>\n<div class=\"scroll\">\n"
            s += ReportHTML.table(map.header, map.rows, numeric: []) + "</div>\n"
        }
        for g in c.groups { s += group(g, width: binWidth(c)) }
        for r in AblationText.recommendations(c) {
            // The Markdown's **bold** spans become <strong>.
            let items = r.lines.map { line in
                "<li>"
                    + h(line).components(separatedBy: "**").enumerated()
                    .map { i, part in i % 2 == 1 ? "<strong>\(part)</strong>" : part }.joined() + "</li>"
            }
            s += "<h2>\(h(r.title))</h2>\n<ul>" + items.joined() + "</ul>\n"
        }
        s +=
            "<h2>Runs</h2>\n"
            + ReportHTML.table(["Variant", "Seed", "Status", "Directory"], AblationText.runRows(c), numeric: [1])
        s +=
            "<h2>Definitions</h2>\n<ul class=\"note\">" + AblationText.definitions.map { "<li>\(h($0))</li>" }.joined()
            + "</ul>\n"
        return s + "</body>\n</html>\n"
    }

    /// One group's table, terms, claims and curves; under its own heading when it has a title.
    static func group(_ g: AblationGroup, width: Int) -> String {
        let h = ReportText.html
        let h2 = g.title.isEmpty ? "h2" : "h3"
        var s = g.title.isEmpty ? "" : "<h2>\(h(g.title))</h2>\n"
        s +=
            "<div class=\"scroll\">\n"
            + ReportHTML.table(
                AblationText.tableHeader, AblationText.tableRows(g.table),
                numeric: Set(2..<AblationText.tableHeader.count)) + "</div>\n"
        let terms = AblationText.termNames(g.table)
        if !terms.isEmpty {
            s += "<\(h2)>Final validation loss terms</\(h2)>\n"
            s += ReportHTML.table(["Variant"] + terms, AblationText.termRows(g.table), numeric: Set(1...terms.count))
        }
        s += "<\(h2)>Claims</\(h2)>\n"
        for cl in g.claims {
            // The verdict is written out: the colour only repeats it.
            let css = cl.verdict.rawValue.replacingOccurrences(of: " ", with: "-")
            s += "<div class=\"claim \(css)\">\n<p><strong>\(h(cl.name)): \(h(cl.verdict.rawValue))</strong></p>\n"
            s += "<p>\(h(cl.statement))</p>\n<p class=\"note\">Measured: \(h(AblationText.claimMeasured(cl)))"
            s += cl.note.isEmpty ? "" : " (\(h(cl.note)))"
            s += ".</p>\n</div>\n"
        }
        s +=
            "<\(h2)>Validation PSNR-mu</\(h2)>\n<p class=\"note\">Model, mean over finished seeds at each validation step.</p>\n"
        s += figure(
            SVGChart(
                title: "Validation PSNR-mu", yLabel: "PSNR-mu (dB)",
                series: g.table.map { ChartSeries($0.variant, meanCurve($0.runs.map(\.valPsnrMu))) }))
        s += "<\(h2)>Overflow incidents per step</\(h2)>\n"
        s +=
            "<p class=\"note\">Training monitor, mean over seeds, averaged over bins of \(width) step\(width == 1 ? "" : "s").</p>\n"
        var incidents = SVGChart(
            title: "Overflow incidents per step", yLabel: "incidents / step",
            series: g.table.map { ChartSeries($0.variant, binnedIncidents($0.runs, width: width)) })
        incidents.includeZero = true
        s += figure(incidents)
        s +=
            "<\(h2)>Training loss</\(h2)>\n<p class=\"note\">Each variant's own total (terms differ), mean over seeds.</p>\n"
        s += figure(
            SVGChart(
                title: "Training loss", yLabel: "loss",
                series: g.table.map { ChartSeries($0.variant, meanCurve($0.runs.map(\.trainLoss))) }, logY: true))
        return s
    }

    static func figure(_ chart: SVGChart) -> String {
        var chart = chart
        chart.showTitle = false
        chart.width = 1000
        return "<figure>\n\(chart.render())\n</figure>\n"
    }

    /// Mean over the curves that have a point at each x; x in increasing order.
    static func meanCurve(_ curves: [[ChartPoint]]) -> [ChartPoint] {
        var sums: [Double: (Double, Int)] = [:]
        for curve in curves {
            for p in curve {
                let (s, n) = sums[p.x] ?? (0, 0)
                sums[p.x] = (s + p.y, n + 1)
            }
        }
        return sums.keys.sorted().map { x in ChartPoint(x, sums[x]!.0 / Double(sums[x]!.1)) }
    }

    /// About 100 bins over the longest run, so 10,000 steps of mostly zeros stay readable.
    static func binWidth(_ c: AblationComparison) -> Int {
        let last = c.groups.flatMap(\.table).flatMap { $0.runs.compactMap { $0.incidentsByStep.last?.step } }.max() ?? 1
        return max(1, (last + 99) / 100)
    }

    /// Incidents per step in bins of `width` steps (steps 1...width are bin 0), mean over runs; x = the bin's last step.
    static func binnedIncidents(_ runs: [AblationRunNumbers], width: Int) -> [ChartPoint] {
        guard !runs.isEmpty else { return [] }
        var bins: [Int: Double] = [:]
        for r in runs {
            for (step, n) in r.incidentsByStep { bins[(step - 1) / width, default: 0] += Double(n) }
        }
        return bins.keys.sorted().map { b in ChartPoint(Double((b + 1) * width), bins[b]! / Double(width * runs.count))
        }
    }
}
