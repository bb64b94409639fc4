// The report as written: incident order and cap, well-formed offline HTML, Markdown tables, determinism.
import EXRIO
import Foundation
import Reports
import RunFiles
import TestSupport
import Testing

struct RunReportTests {
    static func report(validation: Bool = true) throws -> (RunReport, ScratchDir) {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path, validation: validation)
        return (try RunReport.load(dir.path), dir)
    }

    /// The held-out images by source photograph: grouped by the source's file name in order of first appearance
    /// (the pair's own name without one), each gain the mean of its images' gains; the in-clip gain over the images
    /// with clipped pixels only.
    @Test func heldOutImagesAreAveragedBySourcePhotograph() {
        func metrics(_ psnr: Double, _ pu21: Double, clip: Double?, share: Double) -> EvalMetrics {
            EvalMetrics(
                psnrMu: psnr, pu21Psnr: pu21, logL1: 0.1, terms: [:], loss: 0, overflowPixels: 0, overflowIncidents: 0,
                patches: 1, psnrMuClip: clip, pu21PsnrClip: clip.map { $0 - 5 }, clipSamples: clip == nil ? 0 : 1,
                clipFraction: share)
        }
        let identity = metrics(20, 15, clip: 10, share: 0.2)
        let images = [
            ImageScore(
                name: "000000.exr", source: "data/heldout/sources/Candle.exr",
                model: metrics(24, 16, clip: 14, share: 0.2), identity: identity),
            ImageScore(
                name: "000001.exr", source: "data/heldout/sources/Desk.exr",
                model: metrics(23, 18, clip: 12, share: 0.4), identity: metrics(20, 15, clip: 10, share: 0.4)),
            ImageScore(
                name: "000002.exr", source: "data/heldout/sources/Candle.exr",
                model: metrics(22, 15, clip: nil, share: 0), identity: metrics(20, 15, clip: nil, share: 0)),
            ImageScore(name: "lone.exr", model: metrics(21, 15.5, clip: nil, share: 0), identity: identity)
        ]
        #expect(
            RunReport.testImageRows(images) == [
                ["Candle.exr", "2", "+3.00 dB", "+0.50 dB", "+4.00 dB", "10.0%"],
                ["Desk.exr", "1", "+3.00 dB", "+3.00 dB", "+2.00 dB", "40.0%"],
                ["lone.exr", "1", "+1.00 dB", "+0.50 dB", "n/a", "0.0%"]
            ])
        #expect(RunReport.testImageRows([]).isEmpty)
    }

    @Test func incidentsWorstFirstAndCapped() throws {
        let (r, _) = try Self.report()
        #expect(r.worstIncidents.count == RunReport.incidentCap)
        #expect(r.incidentsNotShown == 124 - RunReport.incidentCap)
        // Non-finite first by step, then overflow by pixel count: step 30's four 40-pixel patches, then step 29's.
        #expect(r.worstIncidents.prefix(2).map(\.kind) == [.nonfiniteLoss, .nonfiniteGradient])
        #expect(r.worstIncidents[2...5].allSatisfy { $0.step == 30 && $0.value == 40 })
        #expect(r.worstIncidents[6].step == 29)
        let values = r.worstIncidents.dropFirst(2).map(\.value)
        #expect(values == values.sorted(by: >))
        #expect(r.byFile.map(\.file) == ["sunrise.exr", SyntheticRun.lake, "a.exr"])
        #expect(
            r.byFile[0]
                == FileIncidents(
                    file: "sunrise.exr", overflow: 120, overflowPixels: 3060, nonfinite: 1,
                    firstStep: 1, lastStep: 50))
    }

    @Test func htmlIsSelfContainedClosedAndEscaped() throws {
        let (r, dir) = try Self.report()
        let paths = try r.write()
        #expect(paths.html == dir.path + "/report.html" && paths.markdown == dir.path + "/report.md")
        let html = try String(contentsOfFile: paths.html, encoding: .utf8)
        let opened = html.components(separatedBy: "<svg").count - 1
        #expect(opened == r.sections.filter { $0.chart != nil }.count && opened >= 12)
        #expect(html.components(separatedBy: "</svg>").count - 1 == opened)
        for tag in ["table", "figure", "ul", "pre", "html", "body"] {
            #expect(
                html.components(separatedBy: "<\(tag)").count == html.components(separatedBy: "</\(tag)>").count,
                "\(tag)")
        }
        #expect(!html.lowercased().contains("http"))
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("lake &lt;&amp;&gt;.exr"))
        #expect(!html.contains("lake <&>"))
        #expect(html.contains("<title>Run report: synth-run</title>"))
        #expect(html.contains("74 more not shown (see incidents.csv)."))
        #expect(html.contains("Learnable scale"))
        // No stray temp files are left beside the report.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["config.yaml", "incidents.csv", "metrics.jsonl", "monitor.jsonl", "report.html", "report.md"])
    }

    @Test func markdownHasTablesAndKeyNumbers() throws {
        let (r, _) = try Self.report()
        let md = r.markdown()
        #expect(md.hasPrefix("# Run report: synth-run\n"))
        #expect(
            md.contains(
                "| File | Overflow | Overflow pixels | Non-finite | Steps |\n| --- | --- | --- | --- | --- |\n"
                    + "| sunrise.exr | 120 | 3,060 | 1 | 1 to 50 |\n| lake <&>.exr | 2 | 14 | 0 | 100 to 200 |\n| a.exr | 0 | 0 | 1 | 51 to 51 |"
            ))
        #expect(md.contains("| PSNR-mu, NTIRE (dB) | 32.50 | 28.40 | +4.10 dB | 32.50 (step 300) |"))
        #expect(md.contains("| log-L1 | 0.08 | 0.12 | -33% | 0.08 (step 300) |"))
        #expect(md.contains("| 50 | nonfinite_loss | sunrise.exr | 0 | 0 | NaN | log_huber |"))
        #expect(md.contains("- incidents: last 0 (step 300), min 0 (step 31), max 4 (step 1)"))
        #expect(md.contains("- grad norm: last 1.007 (step 300)"))
        #expect(md.contains("- clamp hit: last 0.12% (step 300), min 0.12% (step 31), max 5% (step 1)"))
        #expect(md.contains("## Verdict\n\n122 overflow incidents"))
        #expect(!md.contains("<svg"))
    }

    @Test func runWithoutValidationStillReports() throws {
        let (r, _) = try Self.report(validation: false)
        #expect(r.markdown().contains("## Validation\n\nNo validation yet.\n"))
        #expect(r.html().contains("<h2>Validation</h2>\n<p class=\"note\">No validation yet.</p>"))
        #expect(r.sections.contains { $0.title == "Training loss" && $0.chart != nil })
    }

    @Test func incidentsOnlyRunStillReports() throws {
        let dir = ScratchDir()
        try SyntheticRun.csv(Array(SyntheticRun.records().incidents.prefix(3)))
            .write(toFile: dir.file("incidents.csv"), atomically: false, encoding: .utf8)
        for empty in ["metrics.jsonl", "monitor.jsonl"] {
            try "".write(toFile: dir.file(empty), atomically: false, encoding: .utf8)
        }
        let r = try RunReport.load(dir.path)
        #expect(
            r.stats.verdict.first
                == "3 overflow incidents (33 overflow pixels) by step 1, 100% of them in the first step.")
        #expect(r.sections.first { $0.title == "Collapse indicator" }?.chart == nil)
        let html = r.html()
        #expect(!html.contains("<svg") && html.contains("No records."))
        #expect(r.name == (dir.path as NSString).lastPathComponent)
    }

    @Test func sameRecordsGiveSameBytes() throws {
        let (r, dir) = try Self.report()
        let first = try r.write()
        let html1 = try Data(contentsOf: URL(fileURLWithPath: first.html))
        let md1 = try Data(contentsOf: URL(fileURLWithPath: first.markdown))
        let again = try RunReport.load(dir.path).write()
        #expect(try Data(contentsOf: URL(fileURLWithPath: again.html)) == html1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: again.markdown)) == md1)
    }

    /// Incidents are traced to their source image and position through the training set's manifest.
    @Test func incidentsNameTheirSourceImageAndPositionFromTheManifest() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path, config: nil)
        let train = dir.file("train")
        try FileManager.default.createDirectory(atPath: train, withIntermediateDirectories: true)
        // The synthetic incidents are in sunrise.exr, "lake <&>.exr" and a.exr: pairs of a synth set here.
        let manifest = """
            {"pairs": [
              {"id": "sunrise", "source": "/srv/hdr/forest.exr", "crop": {"x": 100, "y": 200, "width": 64, "height": 64}},
              {"id": "a", "source": "/srv/hdr/city.exr"}
            ], "version": 1}
            """
        try manifest.write(toFile: train + "/manifest.json", atomically: true, encoding: .utf8)
        try "{\"data\": {\"train\": \"\(train)\"}, \"name\": \"x\"}\n"
            .write(toFile: dir.file("config.yaml"), atomically: true, encoding: .utf8)
        let r = try RunReport.load(dir.path)
        #expect(r.sources?.byFile["sunrise.exr"] == PairSources.Source(image: "forest.exr", x: 100, y: 200))
        let bySource = try #require(r.incidentTables.first)
        #expect(bySource.note == "By source image (from \(train)/manifest.json), most first.")
        #expect(bySource.header.first == "Source image")
        // 121 incidents of sunrise.exr (120 overflow, 1 non-finite) now count for forest.exr.
        #expect(bySource.rows.first?.prefix(4) == ["forest.exr", "120", "3,060", "1"])
        let worst = try #require(r.incidentTables.last)
        #expect(worst.header.suffix(3) == ["Source image", "Source x", "Source y"])
        // The non-finite gradient of a.exr at (8, 8), a full-image pair: city.exr at (8, 8).
        #expect(worst.rows.contains { $0[2] == "a.exr" && Array($0.suffix(3)) == ["city.exr", "8", "8"] })
        // A pair the manifest does not list keeps its own name, not a guess.
        #expect(bySource.rows.contains { $0[0] == SyntheticRun.lake && $0[1] == "2" })
        #expect(r.summary.contains { $0.label == "First overflow incident" && $0.value == "step 1" })
        let delta = try #require(r.incidentTables.first { $0.header.first == "Steps" })
        #expect(delta.rows.map { $0[1] } == ["32", "268"])
        #expect(r.markdown().contains("| forest.exr | 120 |"))
    }

    @Test func withoutAManifestIncidentsAreByPairFileAndSayWhy() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path)
        let r = try RunReport.load(dir.path)
        #expect(r.sources == nil)
        #expect(
            r.incidentTables.first?.note
                == "By pair file, most first (source images unknown: the run's config names no training set).")
    }

    /// The run's images/*.png, embedded as data URIs in report.html (no file fetched) and linked from report.md.
    @Test func theReportEmbedsTheRunsPictures() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path, validation: true)
        let images = RunDirectory(dir.path).images
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let rgb: [UInt8] = (0..<18).map { UInt8($0 * 14) }
        try PNGFile.write(images + "/val-b.png", rgb: rgb, width: 3, height: 2)
        try PNGFile.write(images + "/test-a.png", rgb: rgb.reversed(), width: 3, height: 2)
        let r = try RunReport.load(dir.path)
        #expect(r.pictures.map(\.name) == ["test-a.png", "val-b.png"])
        let png = try FileBytes.read(images + "/val-b.png")
        let paths = try r.write()
        let html = try String(contentsOfFile: paths.html, encoding: .utf8)
        #expect(
            html.contains("<img alt=\"val-b.png\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"))
        let md = try String(contentsOfFile: paths.markdown, encoding: .utf8)
        #expect(
            md.contains("## Pictures\n\n")
                && md.contains("![test-a.png](images/test-a.png)\n![val-b.png](images/val-b.png)"))
    }
}
