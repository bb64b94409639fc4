// `hdrpatch inspect`: its report, its JSON, and its exit status and error lines for bad files.
import EXRIO
import Foundation
import TestSupport
import Testing

struct InspectTests {
    /// A 40 x 24 float image with one negative pixel and one NaN pixel.
    static func makeImage() -> HDRImage {
        var img = HDRImage(width: 40, height: 24)
        for c in 0..<3 {
            for y in 0..<24 { for x in 0..<40 { img[c, y, x] = Float(1 + x + 100 * y) / Float(1 + c) } }
        }
        img[0, 0, 0] = -3
        img[1, 5, 5] = .nan
        return img
    }

    @Test func textReportOfGoodFile() throws {
        let dir = ScratchDir()
        let path = dir.file("a.exr")
        try EXRWriter.write(Self.makeImage(), to: path, options: EXRWriteOptions(pixelType: .float, compression: .piz))
        let r = try CLI.run(["inspect", path])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        #expect(r.stdout.contains("\(path): OpenEXR 40 x 24, scanline, piz"))
        #expect(r.stdout.contains("channels        B float, G float, R float   (read as RGB: R, G, B)"))
        #expect(r.stdout.contains("pixels          1 negative (clamped to 0), 1 NaN, 0 Inf"))
        #expect(r.stdout.contains("dynamic range   "))
        #expect(r.stdout.contains(" ms (file and decode)"))
    }

    struct Record: Decodable {
        var path: String
        var info: ImageInfo
        var luminance: LuminanceStats
        var pixels: PixelCounts
    }

    @Test func jsonReport() throws {
        let dir = ScratchDir()
        let path = dir.file("t.exr")
        try EXRWriter.write(
            Self.makeImage(), to: path,
            options: EXRWriteOptions(
                pixelType: .float, compression: .zip, tiling: EXRTiling(width: 16, height: 16)))
        let r = try CLI.run(["inspect", "--json", path])
        #expect(r.status == 0)
        // JSONDecoder, not JSONSerialization: the latter rounds doubles on Linux.
        let recs = try JSONDecoder().decode([Record].self, from: Data(r.stdout.utf8))
        #expect(recs.count == 1)
        let rec = try #require(recs.first)
        #expect(rec.path == path)
        #expect(rec.info.width == 40 && rec.info.height == 24)
        #expect(rec.info.compression == "zip" && rec.info.storage == "tiled" && rec.info.tile?.width == 16)
        #expect(rec.pixels == PixelCounts(negativeClamped: 1, nan: 1, inf: 0))
        // The statistics printed are exactly those the library computes for the decoded image.
        let loaded = try ImageReader.read(path: path)
        #expect(rec.luminance == LuminanceStats(loaded.image))
        #expect(rec.luminance.pixels == 40 * 24 - 1)
        // Key names are part of the stable interface.
        for key in [
            "\"negative_clamped\"", "\"dynamic_range_stops\"", "\"data_window\"", "\"selected_channels\"",
            "\"file_bytes\""
        ] {
            #expect(r.stdout.contains(key), "missing \(key)")
        }
    }

    @Test func badFilesGiveOneErrorLineEachAndExitOneWhileGoodOnesAreReported() throws {
        let dir = ScratchDir()
        let good = dir.file("good.exr")
        try EXRWriter.write(Self.makeImage(), to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = dir.file("truncated.exr")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let text = dir.file("notes.exr")
        try Data("not an image\n".utf8).write(to: URL(fileURLWithPath: text))
        let missing = dir.file("missing.exr")
        let r = try CLI.run(["inspect", truncated, good, text, missing, dir.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\(good): OpenEXR 40 x 24"))
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "stderr: \(r.stderr)")
        #expect(lines[0].hasPrefix("error: \(truncated): "))
        #expect(lines[1] == "error: \(text): not an OpenEXR or Radiance file (unrecognised magic bytes)")
        #expect(lines[2] == "error: \(missing): No such file or directory")
        #expect(lines[3] == "error: \(dir.path): is a directory")
    }

    @Test func fifoIsRefusedWithoutWaitingForAWriter() throws {
        let dir = ScratchDir()
        let fifo = dir.file("pipe.exr")
        #expect(mkfifo(fifo, 0o644) == 0)
        let r = try CLI.run(["inspect", fifo], timeout: 20)
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(fifo): not a regular file\n")
    }

    @Test func partAndLayerOptions() throws {
        let dir = ScratchDir()
        let path = dir.file("mp.exr")
        let n = 8 * 4
        let ones = [Float](repeating: 1, count: n)
        let twos = [Float](repeating: 2, count: n)
        try EXRWriter.write(
            parts: [
                EXRPart(name: "beauty", width: 8, height: 4, channels: ["R", "G", "B"].map { ($0, .half, ones) }),
                EXRPart(
                    name: "aov", width: 8, height: 4,
                    channels: ["diffuse.R", "diffuse.G", "diffuse.B"].map { ($0, .half, twos) })
            ], to: path)
        let r = try CLI.run(["inspect", "--part", "aov", "--layer", "diffuse", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("part 1 of 2 ('aov')"))
        #expect(r.stdout.contains("max 2 "))
        let bad = try CLI.run(["inspect", "--part", "aov", path])
        #expect(bad.status == 1)
        #expect(
            bad.stderr
                == "error: \(path): no R, G, B or Y channel; channels found: diffuse.B, diffuse.G, diffuse.R; layers: diffuse (select one with --layer)\n"
        )
    }

    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/interop")

    /// RGBA half files written by another OpenEXR (PyPI openexr 3.5, maketx, exrmaketiled) — what renderers and
    /// compositors write by default — used to kill `inspect` with SIGSEGV inside OpenEXRCore for every codec Core
    /// decodes. One process reads all of them; the exit status, not a signal, says how it went.
    @Test func inspectReadsRGBAHalfFilesFromOtherWriters() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.interop.path).filter {
            $0.hasSuffix(".exr") && $0.contains("-half-") && !$0.hasPrefix("layout-")
                || $0.hasPrefix("layout-RGBA-half-")
        }.sorted()
        #expect(names.count >= 60)
        let paths = names.map { Self.interop.appendingPathComponent($0).path }
        let r = try CLI.run(["inspect", "--json"] + paths)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        let recs = try JSONDecoder().decode([Record].self, from: Data(r.stdout.utf8))
        #expect(recs.count == paths.count)
        for rec in recs {
            #expect(rec.info.selectedChannels == ["R", "G", "B"], "\(rec.path)")
            #expect(rec.info.channels.contains { $0.name == "A" && $0.type == .half }, "\(rec.path)")
            #expect(rec.luminance.pixels > 0, "\(rec.path)")
        }
    }
}
