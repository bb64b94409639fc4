// report.md: the same report as report.html in text and tables; each chart becomes its key numbers.
import RunFiles

enum ReportMarkdown {
    static func render(_ r: RunReport) -> String {
        var s = "# Run report: \(r.name)\n\n"
        s += ReportText.markdownTable(["Item", "Value"], r.summary.map { [$0.label, $0.value] }) + "\n\n"
        s += "## Verdict\n\n" + r.stats.verdict.joined(separator: " ") + "\n\n"
        s += "## Validation\n\n"
        if r.validationTable.isEmpty {
            s += "No validation yet.\n\n"
        } else {
            s +=
                ReportText.markdownTable(
                    ["Metric", "Model (last)", "Identity (last)", "Gain", "Best model"], r.validationTable) + "\n\n"
            if let note = r.validationNote { s += note + "\n\n" }
        }
        if let note = r.testNote {
            s += "## Held-out test\n\n\(note)\n\n"
            s += ReportText.markdownTable(["Metric", "Model", "Identity", "Gain"], r.testTable) + "\n\n"
            if !r.testImagesTable.isEmpty {
                s += RunReport.testImagesNote + "\n\n"
                s += ReportText.markdownTable(RunReport.testImagesHeader, r.testImagesTable) + "\n\n"
            }
        }
        if !r.pictures.isEmpty {
            s += "## Pictures\n\n\(RunDirectory.imagesCaption)\n\n"
            s +=
                r.pictures.map { "![\($0.name)](\(RunDirectory.imagesName)/\($0.name))" }.joined(separator: "\n")
                + "\n\n"
        }
        for sec in r.sections where sec.title != "Validation" {
            s += sec.title.hasPrefix("Validation") ? "### \(sec.title)\n\n" : "## \(sec.title)\n\n"
            if let note = sec.note { s += note + "\n\n" }
            if !sec.keyNumbers.isEmpty { s += sec.keyNumbers.map { "- \($0)" }.joined(separator: "\n") + "\n\n" }
        }
        s += "## Incidents\n\n"
        if r.worstIncidents.isEmpty {
            s += "No incidents recorded.\n\n"
        } else {
            for t in r.incidentTables {
                s += t.note + "\n\n" + ReportText.markdownTable(t.header, t.rows) + "\n\n"
            }
            if r.incidentsNotShown > 0 {
                s += "\(ReportText.count(r.incidentsNotShown)) more not shown (see incidents.csv).\n\n"
            }
        }
        if let config = r.run.configText {
            // A fence longer than any backtick run inside keeps the config verbatim.
            s += "## Configuration\n\n````yaml\n\(config)\(config.hasSuffix("\n") ? "" : "\n")````\n\n"
        }
        if !r.run.skippedPartialLastLine.isEmpty {
            s += "Skipped (being written): \(r.skippedFileNames.joined(separator: ", ")).\n"
        }
        return s
    }
}
