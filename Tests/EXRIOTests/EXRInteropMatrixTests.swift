// EXR files written by independent OpenEXR writers (PyPI openexr 3.5, OpenImageIO's maketx, exrmaketiled),
// checked against the pixels OpenEXR 3.5 itself decodes from each file. Generated, with its manifest, by
// tools/fixtures/interop_matrix.py (the regeneration command is in its header); none of it comes from EXRWriter.
import Foundation
import Testing

@testable import EXRIO

struct InteropManifest: Decodable {
    struct Read: Decodable {
        var expect: String
        var part: Int?
        var part_name: String?
        var layer: String?
        var width: Int?
        var height: Int?
        var fnv: String?
        var sums: [Double]?
        var exact_source: Bool?
        var contains: String?

        var options: ReadOptions {
            ReadOptions(part: part_name.map { .name($0) } ?? .index(part ?? 0), layer: layer)
        }

        var label: String {
            var text = part_name.map { "part '\($0)'" } ?? "part \(part ?? 0)"
            if let layer { text += ", layer \(layer)" }
            return text
        }
    }

    struct File: Decodable {
        var file: String
        var group: String
        var codec: String
        var types: [String]
        var storage: String
        var writer: String
        var reads: [Read]
    }

    var openexr: String
    var files: [File]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/interop")

    static func load() throws -> InteropManifest {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(InteropManifest.self, from: data)
    }

    func path(_ f: File) -> String { Self.directory.appendingPathComponent(f.file).path }
}

/// FNV-1a 64 over the float32 planes' little-endian bytes: the hash the generator computes with numpy.
func fnv1a64(_ values: [Float]) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for v in values {
        var bits = v.bitPattern.littleEndian
        for _ in 0..<4 {
            h ^= UInt64(bits & 0xFF)
            h = h &* 0x0000_0100_0000_01B3
            bits >>= 8
        }
    }
    return h
}

struct EXRInteropMatrixTests {
    /// Checks one read against the manifest; returns a description of each mismatch (empty when it matches).
    static func check(
        _ read: InteropManifest.Read, of file: InteropManifest.File, path: String,
        threads: Int = 2
    ) -> [String] {
        var options = read.options
        options.threads = threads
        let what = "\(file.file) (\(read.label), \(threads) threads)"
        switch read.expect {
        case "pixels":
            let loaded: LoadedImage
            do {
                loaded = try ImageReader.read(path: path, options: options)
            } catch {
                return ["\(what): \(error)"]
            }
            var problems: [String] = []
            if loaded.image.width != read.width || loaded.image.height != read.height {
                problems.append(
                    "\(what): \(loaded.image.width) x \(loaded.image.height), expected \(read.width ?? -1) x \(read.height ?? -1)"
                )
                return problems
            }
            let hash = String(fnv1a64(loaded.image.pixels), radix: 16)
            let want = read.fnv.map { String(repeating: "0", count: max(0, 16 - $0.count)) + $0 } ?? ""
            let got = String(repeating: "0", count: 16 - hash.count) + hash
            if got != want {
                let n = loaded.image.planeCount
                let sums = (0..<3).map { c in
                    loaded.image.pixels[(c * n)..<((c + 1) * n)].reduce(0.0) { $0 + Double($1) }
                }
                problems.append(
                    "\(what): pixels differ from OpenEXR's decode (hash \(got), expected \(want); sums \(sums), expected \(read.sums ?? []))"
                )
            }
            if loaded.counts != PixelCounts() { problems.append("\(what): unexpected pixel counts \(loaded.counts)") }
            if !file.codec.contains("+"), loaded.info.compression != file.codec {
                problems.append("\(what): compression reported as \(loaded.info.compression)")
            }
            let storage = file.storage.hasPrefix("tiled") ? "tiled" : "scanline"
            if file.storage != "multipart", loaded.info.storage != storage {
                problems.append("\(what): storage reported as \(loaded.info.storage)")
            }
            return problems
        case "error":
            do {
                _ = try ImageReader.read(path: path, options: options)
                return ["\(what): read, but an error containing '\(read.contains ?? "")' was expected"]
            } catch let e as FileError {
                var problems: [String] = []
                if e.path != path { problems.append("\(what): error names \(e.path)") }
                if !e.reason.contains(read.contains ?? "\u{0}") {
                    problems.append("\(what): error '\(e.reason)' lacks '\(read.contains ?? "")'")
                }
                if e.description.contains("\n") { problems.append("\(what): error is not one line") }
                return problems
            } catch {
                return ["\(what): unexpected error type \(error)"]
            }
        default:
            return ["\(file.file): unknown expectation \(read.expect)"]
        }
    }

    @Test func everyFileOfTheMatrixReadsAsOpenEXRDecodesIt() throws {
        let manifest = try InteropManifest.load()
        var problems: [String] = []
        var reads = 0
        for file in manifest.files {
            for read in file.reads {
                problems += Self.check(read, of: file, path: manifest.path(file))
                reads += 1
            }
        }
        print(
            "interop matrix: \(manifest.files.count) files, \(reads) reads, \(problems.count) mismatches (reference: OpenEXR \(manifest.openexr))"
        )
        #expect(manifest.files.count >= 300)
        #expect(
            problems.isEmpty,
            Comment(rawValue: "\(problems.count) mismatches:\n" + problems.prefix(40).joined(separator: "\n")))
    }

    /// The regression: RGBA half files from another writer made OpenEXRCore 3.1 write through a null pointer
    /// (SIGSEGV) for every codec Core decodes, scanline and tiled. Each is read here serially, and with more
    /// decoding threads than chunks, and must equal OpenEXR's own decode.
    @Test func rgbaHalfFilesFromAnotherWriterDecodeExactly() throws {
        let manifest = try InteropManifest.load()
        let rgbaHalf = manifest.files.filter {
            $0.types == ["half"] && ($0.file.contains("-RGBA-") || $0.group == "storage" || $0.group == "levels")
        }
        let codecs = Set(rgbaHalf.map(\.codec))
        let storages = Set(rgbaHalf.map(\.storage))
        #expect(codecs.count == 10, "codecs covered: \(codecs.sorted())")
        #expect(storages.isSuperset(of: ["scanline", "tiled", "tiled-mipmap", "tiled-ripmap"]))
        var problems: [String] = []
        for file in rgbaHalf {
            for read in file.reads {
                for threads in [0, 2, 7] {
                    problems += Self.check(read, of: file, path: manifest.path(file), threads: threads)
                }
            }
        }
        #expect(rgbaHalf.count >= 60)
        #expect(problems.isEmpty, Comment(rawValue: problems.prefix(20).joined(separator: "\n")))
    }

    /// Codecs OpenEXR 3.1 does not have are refused before any decoding, with a line that names them.
    @Test func newerCodecsAreOneLineErrorsNamingTheCodec() throws {
        let manifest = try InteropManifest.load()
        let newer = manifest.files.filter { $0.group == "newer-codec" }
        #expect(Set(newer.map(\.codec)).isSuperset(of: ["zstd", "htj2k256", "htj2k32"]))
        for file in newer {
            do {
                _ = try ImageReader.read(path: manifest.path(file))
                Issue.record("\(file.file) read")
            } catch let e as FileError {
                #expect(e.reason.contains("compression \(file.codec)"), "\(e)")
                #expect(e.reason.contains("OpenEXR 3.1"), "\(e)")
            }
        }
    }
}
