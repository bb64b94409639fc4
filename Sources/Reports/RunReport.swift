// A run's report as data: summary rows, verdict, chart sections and incident tables. ReportHTML and
// ReportMarkdown render the same value, so the two files can never disagree on a number.
import Config
import EXRIO
import Foundation
import RunFiles

/// One chart with the few numbers that stand in for it in Markdown (and sit under it in HTML).
public struct ReportSection: Sendable {
    public var title: String
    /// Shown instead of (or above) the chart: "No validation yet.", a definition.
    public var note: String?
    public var chart: SVGChart?
    public var keyNumbers: [String]
}

/// Overflow and non-finite incident counts of one source file.
public struct FileIncidents: Sendable, Equatable {
    public var file: String
    public var overflow: Int
    public var overflowPixels: Int
    public var nonfinite: Int
    public var firstStep: Int
    public var lastStep: Int

    public init(file: String, overflow: Int, overflowPixels: Int, nonfinite: Int, firstStep: Int, lastStep: Int) {
        self.file = file
        self.overflow = overflow
        self.overflowPixels = overflowPixels
        self.nonfinite = nonfinite
        self.firstStep = firstStep
        self.lastStep = lastStep
    }
}

public struct RunReport: Sendable {
    public var name: String
    public var run: RunLogContents
    public var stats: RunStats
    public var summary: [(label: String, value: String)]
    /// Metric, final model, final identity, gain, best model (step); empty without validation.
    public var validationTable: [[String]]
    public var sections: [ReportSection]
    /// Worst first, at most `incidentCap`; `incidentsNotShown` counts the rest.
    public var worstIncidents: [Incident]
    public var incidentsNotShown: Int
    public var byFile: [FileIncidents]

    public static let incidentCap = 50

    public static func load(_ directory: String) throws -> RunReport {
        RunReport(try RunLogReader.read(dir: directory))
    }

    public init(_ run: RunLogContents) {
        self.run = run
        stats = RunStats(run)
        name = Self.runName(run)
        summary = Self.summaryRows(run, stats)
        validationTable = Self.validationRows(stats)
        sections = RunSections(run: run, stats: stats).all
        let sorted = Self.worstFirst(run.incidents)
        worstIncidents = Array(sorted.prefix(Self.incidentCap))
        incidentsNotShown = max(0, sorted.count - Self.incidentCap)
        byFile = Self.fileCounts(run.incidents)
    }

    /// config.yaml's top-level `name`, else the directory's name.
    /// The files whose unfinished last line was skipped, by name.
    var skippedFileNames: [String] { run.skippedPartialLastLine.map { ($0 as NSString).lastPathComponent } }

    static func runName(_ run: RunLogContents) -> String {
        if let text = run.configText, let map = try? StrictYAML.parse(text),
            let n = try? map.optional("name", String.self), !n.isEmpty
        {
            return n
        }
        let trimmed = run.directory.hasSuffix("/") ? String(run.directory.dropLast()) : run.directory
        return (trimmed as NSString).lastPathComponent
    }

    static func summaryRows(_ run: RunLogContents, _ s: RunStats) -> [(label: String, value: String)] {
        var rows: [(label: String, value: String)] = [("Run", runName(run)), ("Directory", run.directory)]
        rows.append(
            ("Steps", s.steps == 0 ? "none" : "\(ReportText.count(s.steps)) (step \(s.firstStep) to \(s.lastStep))"))
        rows.append(("Wall time", s.wallSeconds.map(ReportText.duration) ?? "n/a"))
        rows.append(("Steps per second", s.stepsPerSecond.map(ReportText.number) ?? "n/a"))
        if let wait = run.metrics.last(where: { $0.kind == "train" })?.dataWaitFraction {
            rows.append(("Data wait (last)", ReportText.percent(wait)))
        }
        rows.append(
            (
                "Overflow incidents / pixels",
                "\(ReportText.count(s.overflowIncidents)) / \(ReportText.count(s.overflowPixels))"
            ))
        rows.append(("Skipped steps (non-finite)", ReportText.count(s.skippedSteps)))
        return rows
    }

    static func validationRows(_ s: RunStats) -> [[String]] {
        guard let last = s.validations.last, let best = s.bestValidation else { return [] }
        let db = { (v: Double) in String(format: "%.2f", v) }
        let l1Gain = last.identity.logL1 > 0 ? (last.model.logL1 - last.identity.logL1) / last.identity.logL1 : .nan
        return [
            [
                "PSNR-mu (dB)", db(last.model.psnrMu), db(last.identity.psnrMu),
                ReportText.signedDecibels(last.model.psnrMu - last.identity.psnrMu),
                "\(db(best.model.psnrMu)) (step \(best.step))"
            ],
            [
                "PU21-PSNR (dB)", db(last.model.pu21Psnr), db(last.identity.pu21Psnr),
                ReportText.signedDecibels(last.model.pu21Psnr - last.identity.pu21Psnr),
                "\(db(best.model.pu21Psnr)) (step \(best.step))"
            ],
            [
                "log-L1", ReportText.number(last.model.logL1), ReportText.number(last.identity.logL1),
                l1Gain.isFinite ? (l1Gain <= 0 ? "-" : "+") + ReportText.percent(abs(l1Gain)) : "n/a",
                "\(ReportText.number(best.model.logL1)) (step \(best.step))"
            ]
        ]
    }

    /// Non-finite incidents first (they skipped a step), by step; then overflow by pixel count, largest first.
    static func worstFirst(_ incidents: [Incident]) -> [Incident] {
        incidents.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let xf = x.kind != .overflow
            let yf = y.kind != .overflow
            if xf != yf { return xf }
            if !xf {
                let xv = x.value.isNaN ? -Double.infinity : x.value
                let yv = y.value.isNaN ? -Double.infinity : y.value
                if xv != yv { return xv > yv }
            }
            if x.step != y.step { return x.step < y.step }
            return a.offset < b.offset
        }.map(\.element)
    }

    static func fileCounts(_ incidents: [Incident]) -> [FileIncidents] {
        var map: [String: FileIncidents] = [:]
        for i in incidents {
            var f =
                map[i.file]
                ?? FileIncidents(
                    file: i.file, overflow: 0, overflowPixels: 0, nonfinite: 0,
                    firstStep: i.step, lastStep: i.step)
            if i.kind == .overflow {
                f.overflow += 1
                if i.value.isFinite { f.overflowPixels += Int(i.value) }
            } else {
                f.nonfinite += 1
            }
            f.firstStep = min(f.firstStep, i.step)
            f.lastStep = max(f.lastStep, i.step)
            map[i.file] = f
        }
        return map.values.sorted {
            let a = $0.overflow + $0.nonfinite
            let b = $1.overflow + $1.nonfinite
            return a != b ? a > b : $0.file < $1.file
        }
    }

    /// report.html's text: one page, inline CSS and SVG, no script and no URL.
    public func html() -> String { ReportHTML.render(self) }

    /// report.md's text: the same sections, charts replaced by their key numbers.
    public func markdown() -> String { ReportMarkdown.render(self) }

    /// Writes report.html and report.md into the run directory, each atomically; returns their paths.
    public func write() throws -> (html: String, markdown: String) {
        let dir = RunDirectory(run.directory)
        let htmlPath = dir.reportHTML
        let mdPath = dir.reportMarkdown
        try Self.writeAtomically(html(), to: htmlPath)
        try Self.writeAtomically(markdown(), to: mdPath)
        return (htmlPath, mdPath)
    }

    /// Atomically (`FileBytes.atomicWrite`): a browser refreshing the report never sees half a file.
    public static func writeAtomically(_ text: String, to path: String) throws {
        do {
            try FileBytes.atomicWrite(path, text: text)
        } catch let e as FileError {
            throw FileError(path: e.path, reason: "cannot write: \(e.reason)")
        }
    }
}
