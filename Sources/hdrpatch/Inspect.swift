// `hdrpatch inspect`: header facts, luminance statistics and pixel problems of EXR / Radiance files.
import ArgumentParser
import EXRIO
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print size, windows, channels, compression, luminance range and pixel problems of image files.",
        discussion: """
            Exit status is 0 when every file was read, 1 otherwise; unreadable files are reported as \
            `error: <path>: <reason>` on standard error and the others are still reported. \
            Luminance is Rec. 709 (0.2126 R + 0.7152 G + 0.0722 B) over finite pixels, after negative values \
            are clamped to 0; dynamic range is log2(max / smallest positive) in stops.
            """
    )

    @Argument(help: "EXR (.exr) or Radiance (.hdr) files.")
    var files: [String]

    @Option(help: "EXR part to read: an index or a part name.")
    var part: String = "0"

    @Option(help: "EXR layer whose R, G, B (or Y) channels to read, e.g. 'diffuse' for diffuse.R.")
    var layer: String?

    @Option(help: "Threads for EXR decoding.")
    var threads: Int = 2

    @Flag(help: "Print a JSON array with one object per file read.")
    var json = false

    struct Record: Encodable {
        var path: String
        var fileBytes: Int
        var info: ImageInfo
        var luminance: LuminanceStats?
        var pixels: PixelCounts
        /// Wall time of the read (file and decode), shown in the text report only: JSON stays reproducible.
        var readMilliseconds: Double = 0
        enum CodingKeys: String, CodingKey {
            case path
            case fileBytes = "file_bytes"
            case info, luminance, pixels
        }
    }

    func run() throws {
        let options = ReadOptions(part: partSelector(part), layer: layer, threads: max(threads, 0))
        var records: [Record] = []
        var failed = false
        for path in files {
            do {
                let start = DispatchTime.now().uptimeNanoseconds
                let loaded = try ImageReader.read(path: path, options: options)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                let record = Record(
                    path: path, fileBytes: size, info: loaded.info,
                    luminance: LuminanceStats(loaded.image), pixels: loaded.counts,
                    readMilliseconds: elapsed)
                if json { records.append(record) } else { print(Self.text(record)) }
            } catch let e as FileError {
                printError(e.description)
                failed = true
            } catch {
                printError("\(path): \(error)")
                failed = true
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(records), as: UTF8.self))
        }
        if failed { throw ExitCode(1) }
    }

    static func text(_ r: Record) -> String {
        let i = r.info
        var lines: [String] = []
        let partText =
            i.parts.count > 1
            ? ", part \(i.part) of \(i.parts.count)" + (i.parts[i.part].name.map { " ('\($0)')" } ?? "")
            : ""
        var layout = i.storage
        if let t = i.tile {
            layout += " \(t.width)x\(t.height) tiles, \(t.levelMode.rawValue) level(s) \(t.levelsX)x\(t.levelsY)"
        }
        lines.append(
            "\(r.path): \(i.format == .exr ? "OpenEXR" : "Radiance") \(i.width) x \(i.height), \(layout), \(i.compression)\(partText)"
        )
        lines.append("  data window     \(i.dataWindow)   display window \(i.displayWindow)")
        let chans = i.channels.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ")
        lines.append("  channels        \(chans)   (read as RGB: \(i.selectedChannels.joined(separator: ", ")))")
        if let e = i.exposure, e != 1 {
            lines.append("  exposure        \(fmt(e)) (header EXPOSURE; values kept as stored)")
        }
        if let l = r.luminance {
            lines.append(
                "  luminance       min \(fmt(l.min))  median \(fmt(l.median))  max \(fmt(l.max))"
                    + (l.minPositive.map { "  (min positive \(fmt($0)))" } ?? ""))
            lines.append(
                "  dynamic range   "
                    + (l.dynamicRangeStops.map { String(format: "%.2f stops", $0) } ?? "n/a (no positive pixel)"))
        } else {
            lines.append("  luminance       n/a (no finite pixel)")
        }
        let c = r.pixels
        lines.append("  pixels          \(c.negativeClamped) negative (clamped to 0), \(c.nan) NaN, \(c.inf) Inf")
        lines.append("  read            " + String(format: "%.1f ms", r.readMilliseconds) + " (file and decode)")
        return lines.joined(separator: "\n")
    }
}

/// Compact number formatting for reports: 6 significant digits.
func fmt(_ v: Double) -> String { String(format: "%.6g", v) }
