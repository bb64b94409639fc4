// A run's report as data: summary rows, verdict, chart sections and incident tables. ReportHTML and
// ReportMarkdown render the same value, so the two files can never disagree on a number.
import Config
import EXRIO
import Foundation
import RunFiles

/// One chart with the few numbers that stand in for it in Markdown (and sit under it in HTML).
package struct ReportSection: Sendable {
    package var title: String
    /// Shown instead of (or above) the chart: "No validation yet.", a definition.
    package var note: String?
    package var chart: SVGChart?
    package var keyNumbers: [String]
}

/// Overflow and non-finite incident counts of one source file.
package struct FileIncidents: Sendable, Equatable {
    package var file: String
    package var overflow: Int
    package var overflowPixels: Int
    package var nonfinite: Int
    package var firstStep: Int
    package var lastStep: Int

    package init(file: String, overflow: Int, overflowPixels: Int, nonfinite: Int, firstStep: Int, lastStep: Int) {
        self.file = file
        self.overflow = overflow
        self.overflowPixels = overflowPixels
        self.nonfinite = nonfinite
        self.firstStep = firstStep
        self.lastStep = lastStep
    }
}

/// A table the HTML and the Markdown both render: a note above it, its header and rows, and which columns are numbers.
package struct ReportTable: Sendable {
    package var note: String
    package var header: [String]
    package var rows: [[String]]
    package var numeric: Set<Int>
}

package struct RunReport: Sendable {
    package var name: String
    package var run: RunLogContents
    package var stats: RunStats
    package var summary: [(label: String, value: String)]
    /// Metric, final model, final identity, gain, best model (step); empty without validation.
    package var validationTable: [[String]]
    /// The held-out `data.test` set scored when the run ended (metric, model, identity, gain), and where from;
    /// empty and nil when the run has no test record.
    package var testTable: [[String]]
    package var testNote: String?
    /// The held-out images scored alone, grouped by the photograph they were cut from (by file without a manifest):
    /// source, images, and their mean gains in PSNR-mu, PU21-PSNR and PSNR-mu in clip, and their clipped share;
    /// empty when the test record has no per-image scores.
    package var testImagesTable: [[String]]
    /// How many passes per patch the validations restored with, beside the held-out test's and the pictures'
    /// (`validationPassesNote`); nil when both are one pass.
    package var validationNote: String?
    /// The run's pictures (`images/*.png`, by name), embedded in report.html and linked from report.md.
    package var pictures: [(name: String, png: [UInt8])] = []
    package var sections: [ReportSection]
    /// Worst first, at most `incidentCap`; `incidentsNotShown` counts the rest.
    package var worstIncidents: [Incident]
    package var incidentsNotShown: Int
    package var byFile: [FileIncidents]
    /// Each training pair's source image and crop, from the data set's manifest; nil (and `sourcesUnknown` says
    /// why) when there is none to read.
    package var sources: PairSources?
    package var sourcesUnknown: String?
    /// The incident tables, in order: by source image (or pair file), delta at incident steps, worst first.
    package var incidentTables: [ReportTable] = []

    package static let incidentCap = 50

    /// Reads the run directory and, for the incident tables, its training set's manifest.
    package static func load(_ directory: String) throws -> RunReport {
        let run = try RunLogReader.read(dir: directory)
        let (sources, why) = PairSources.load(configText: run.configText)
        var report = RunReport(run, sources: sources, sourcesUnknown: why)
        report.pictures = try Self.pictures(in: RunDirectory(directory).images)
        return report
    }

    package init(_ run: RunLogContents, sources: PairSources? = nil, sourcesUnknown: String? = nil) {
        self.sources = sources
        self.sourcesUnknown = sources == nil ? sourcesUnknown : nil
        self.run = run
        stats = RunStats(run, sourceImages: sources?.byFile.mapValues(\.image) ?? [:])
        name = Self.runName(run)
        summary = Self.summaryRows(run, stats)
        validationTable = Self.validationRows(stats)
        validationNote = validationTable.isEmpty ? nil : Self.validationPassesNote(configText: run.configText)
        let test = run.metrics.last { $0.kind == "test" }
        testTable = test.map(Self.testRows) ?? []
        testImagesTable = test.map { Self.testImageRows($0.images ?? []) } ?? []
        testNote = test.map { t in
            "\(t.data ?? "?"): \(ReportText.count(t.model?.patches ?? 0)) held-out images, each restored whole with "
                + "\(t.checkpoint ?? "?") (step \(t.step)\(t.weights == "ema" ? ", its EMA weights" : "")), as "
                + "`hdrpatch evaluate` does."
        }
        sections = RunSections(run: run, stats: stats).all
        let sorted = Self.worstFirst(run.incidents)
        worstIncidents = Array(sorted.prefix(Self.incidentCap))
        incidentsNotShown = max(0, sorted.count - Self.incidentCap)
        byFile = Self.fileCounts(
            run.incidents.map { i in
                var j = i
                if let src = sources?.byFile[i.file] { j.file = src.image }
                return j
            })
        if let first = run.incidents.first(where: { $0.kind == .overflow }) {
            summary.append(("First overflow incident", "step \(first.step)"))
        }
        incidentTables = Self.incidentTables(self)
    }

    static func incidentTables(_ r: RunReport) -> [ReportTable] {
        guard !r.worstIncidents.isEmpty else { return [] }
        let bySource = r.sources != nil
        var tables = [
            ReportTable(
                note: bySource
                    ? "By source image (from \(r.sources!.manifest)), most first."
                    : "By pair file, most first (source images unknown: \(r.sourcesUnknown ?? "no manifest")).",
                header: [bySource ? "Source image" : "File", "Overflow", "Overflow pixels", "Non-finite", "Steps"],
                rows: r.byFile.map {
                    [
                        $0.file, ReportText.count($0.overflow), ReportText.count($0.overflowPixels),
                        ReportText.count($0.nonfinite), "\($0.firstStep) to \($0.lastStep)"
                    ]
                }, numeric: [1, 2, 3])
        ]
        if let delta = deltaAtIncidents(r.run) { tables.append(delta) }
        var header = ["Step", "Kind", "File", "x", "y", "Value", "Detail"]
        if bySource { header += ["Source image", "Source x", "Source y"] }
        tables.append(
            ReportTable(
                note: "Worst first: non-finite (the step was skipped), then overflow by pixel count; x, y in the pair"
                    + (bySource ? ", and in its source image." : "."),
                header: header,
                rows: r.worstIncidents.map { i in
                    var row = ReportHTML.incidentRow(i)
                    if bySource {
                        let src = r.sources!.byFile[i.file]
                        row += [
                            src?.image ?? "?", src.map { String($0.x + i.x) } ?? "?",
                            src.map { String($0.y + i.y) } ?? "?"
                        ]
                    }
                    return row
                }, numeric: bySource ? [0, 3, 4, 5, 8, 9] : [0, 3, 4, 5]))
        return tables
    }

    /// The residual at the time: mean delta p99 and max over the steps with an overflow incident, and over the
    /// steps without, from monitor.jsonl.
    static func deltaAtIncidents(_ run: RunLogContents) -> ReportTable? {
        let with = run.monitor.filter { $0.overflowIncidents > 0 }
        let without = run.monitor.filter { $0.overflowIncidents == 0 }
        guard !with.isEmpty else { return nil }
        func row(_ name: String, _ m: [MonitorRecord]) -> [String] {
            let n = Double(max(m.count, 1))
            let p99 = m.reduce(0) { $0 + ($1.deltaPercentiles["p99"] ?? .nan) } / n
            let mx = m.reduce(0) { $0 + $1.deltaMax } / n
            return [
                name, ReportText.count(m.count), m.isEmpty ? "n/a" : ReportText.number(p99),
                m.isEmpty ? "n/a" : ReportText.number(mx)
            ]
        }
        return ReportTable(
            note:
                "The residual delta at the time (training monitor), steps with an overflow incident against the rest.",
            header: ["Steps", "Count", "Mean delta p99", "Mean delta max"],
            rows: [row("with an incident", with), row("without", without)], numeric: [1, 2, 3])
    }

    /// config.yaml's top-level `name`, else the directory's name.
    /// The files whose unfinished last line was skipped, by name.
    var skippedFileNames: [String] { run.skippedPartialLastLine.map { ($0 as NSString).lastPathComponent } }

    /// "Each validation restored the images with 1 pass per patch (train.val_self_ensemble); the held-out test and
    /// the pictures with 8 (model.self_ensemble)." from the run's resolved config (JSON); nil when both are 1 or
    /// the config cannot be read.
    static func validationPassesNote(configText: String?) -> String? {
        guard let text = configText,
            let config = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else { return nil }
        let restore = (config["model"] as? [String: Any])?["self_ensemble"] as? Int ?? 1
        let validate = (config["train"] as? [String: Any])?["val_self_ensemble"] as? Int
        let passes = { (n: Int) in n == 1 ? "1 pass" : "\(n) passes" }
        switch validate {
        case let v? where v != restore:
            return "Each validation restored the images with \(passes(v)) per patch (train.val_self_ensemble); the "
                + "held-out test and the pictures with \(restore) (model.self_ensemble)."
        default:
            return restore == 1
                ? nil
                : "Every restore of this run, validations included, averages \(passes(restore)) per patch "
                    + "(model.self_ensemble)."
        }
    }

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

    /// Every `.png` in `dir`, sorted by name (none when the directory is absent).
    static func pictures(in dir: String) throws -> [(name: String, png: [UInt8])] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return try names.filter { $0.hasSuffix(".png") }.sorted().map { name in
            (name, try FileBytes.read(dir + "/" + name))
        }
    }

    static func testRows(_ t: MetricsRecord) -> [[String]] {
        guard let m = t.model, let i = t.identity else { return [] }
        let db = { (v: Double) in String(format: "%.2f", v) }
        let l1Gain = i.logL1 > 0 ? (m.logL1 - i.logL1) / i.logL1 : .nan
        return [
            ["PSNR-mu, NTIRE (dB)", db(m.psnrMu), db(i.psnrMu), ReportText.signedDecibels(m.psnrMu - i.psnrMu)],
            ["PU21-PSNR (dB)", db(m.pu21Psnr), db(i.pu21Psnr), ReportText.signedDecibels(m.pu21Psnr - i.pu21Psnr)],
            [
                "log-L1", ReportText.number(m.logL1), ReportText.number(i.logL1),
                l1Gain.isFinite ? (l1Gain <= 0 ? "-" : "+") + ReportText.percent(abs(l1Gain)) : "n/a"
            ]
        ] + clipRows(m, i)
    }

    /// What `testImagesTable` shows.
    package static let testImagesNote =
        "By source photograph: each held-out image scored alone (its gain over the identity), then averaged over "
        + "the images cut from the same photograph; the gain in clip over those of them with clipped pixels."

    /// The header of `testImagesTable`.
    package static let testImagesHeader = [
        "Source photograph", "Images", "PSNR-mu gain", "PU21-PSNR gain", "PSNR-mu gain in clip", "Clipped share"
    ]

    /// `images` grouped by source (the file name of the photograph; the pair's own name when the set has no
    /// manifest), in order of first appearance: how many, and the means over them of each image's gain (model minus
    /// identity, dB) and clipped share. The in-clip gain averages the images with clipped pixels ("n/a" if none).
    package static func testImageRows(_ images: [ImageScore]) -> [[String]] {
        var order: [String] = []
        var groups: [String: [ImageScore]] = [:]
        for image in images {
            let key = image.source.map { ($0 as NSString).lastPathComponent } ?? image.name
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(image)
        }
        func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
        return order.map { key in
            let g = groups[key]!
            let psnr = mean(g.map { $0.model.psnrMu - $0.identity.psnrMu })!
            let pu21 = mean(g.map { $0.model.pu21Psnr - $0.identity.pu21Psnr })!
            let clip = mean(
                g.compactMap { s in s.model.psnrMuClip.flatMap { m in s.identity.psnrMuClip.map { m - $0 } } })
            let share = mean(g.map(\.model.clipFraction))!
            return [
                key, "\(g.count)", ReportText.signedDecibels(psnr), ReportText.signedDecibels(pu21),
                clip.map(ReportText.signedDecibels) ?? "n/a", String(format: "%.1f%%", 100 * share)
            ]
        }
    }

    /// PSNR-mu and PU21-PSNR where the input clipped (metric with how much clipped, model, identity, gain); none
    /// when no image or patch clipped.
    static func clipRows(_ m: EvalMetrics, _ i: EvalMetrics) -> [[String]] {
        guard let mc = m.psnrMuClip, let ic = i.psnrMuClip, let mp = m.pu21PsnrClip, let ip = i.pu21PsnrClip else {
            return []
        }
        let db = { (v: Double) in String(format: "%.2f", v) }
        let share = String(format: "%.1f%% of pixels in %d of %d", 100 * m.clipFraction, m.clipSamples, m.patches)
        var rows = [
            ["PSNR-mu in \(m.regionName) (dB; \(share))", db(mc), db(ic), ReportText.signedDecibels(mc - ic)],
            ["PU21-PSNR in \(m.regionName) (dB)", db(mp), db(ip), ReportText.signedDecibels(mp - ip)]
        ]
        if let mr = m.logCorrClip, let ir = i.logCorrClip {
            rows.append([
                "shape in \(m.regionName): log-luminance correlation with the target (0: a flat fill)",
                String(format: "%.3f", mr), String(format: "%.3f", ir), String(format: "%+.3f", mr - ir)
            ])
        }
        return rows
    }

    static func validationRows(_ s: RunStats) -> [[String]] {
        guard let last = s.validations.last, let best = s.bestValidation else { return [] }
        let db = { (v: Double) in String(format: "%.2f", v) }
        let l1Gain = last.identity.logL1 > 0 ? (last.model.logL1 - last.identity.logL1) / last.identity.logL1 : .nan
        return [
            [
                "PSNR-mu, NTIRE (dB)", db(last.model.psnrMu), db(last.identity.psnrMu),
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
            + zip(
                clipRows(last.model, last.identity),
                [
                    best.model.psnrMuClip.map(db), best.model.pu21PsnrClip.map(db),
                    best.model.logCorrClip.map { String(format: "%.3f", $0) }
                ]
            ).map { row, b in row + [b.map { "\($0) (step \(best.step))" } ?? "n/a"] }
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
    package func html() -> String { ReportHTML.render(self) }

    /// report.md's text: the same sections, charts replaced by their key numbers.
    package func markdown() -> String { ReportMarkdown.render(self) }

    /// Writes report.html and report.md into the run directory, each atomically; returns their paths.
    package func write() throws -> (html: String, markdown: String) {
        let dir = RunDirectory(run.directory)
        let htmlPath = dir.reportHTML
        let mdPath = dir.reportMarkdown
        try Self.writeAtomically(html(), to: htmlPath)
        try Self.writeAtomically(markdown(), to: mdPath)
        return (htmlPath, mdPath)
    }

    /// Atomically (`FileBytes.atomicWrite`): a browser refreshing the report never sees half a file.
    package static func writeAtomically(_ text: String, to path: String) throws {
        do {
            try FileBytes.atomicWrite(path, text: text)
        } catch let e as FileError {
            throw FileError(path: e.path, reason: "cannot write: \(e.reason)")
        }
    }
}
