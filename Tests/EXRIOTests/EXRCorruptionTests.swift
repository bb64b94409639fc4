// Hundreds of corrupt variants of valid files: every read must end in an image or an FileError,
// in this process (a crash or trap would take the whole test run down).
import Foundation
import TestSupport
import Testing

@testable import EXRIO

struct EXRCorruptionTests {
    struct Base {
        var name: String
        var bytes: [UInt8]
    }

    static func bases() throws -> [Base] {
        let dir = ScratchDir()
        let img = TestImages.smooth(width: 37, height: 29)
        var out: [Base] = []
        func add(_ name: String, _ options: EXRWriteOptions) throws {
            try EXRWriter.write(img, to: dir.file(name), options: options)
            out.append(Base(name: name, bytes: try Array(Data(contentsOf: URL(fileURLWithPath: dir.file(name))))))
        }
        try add("zip-half.exr", EXRWriteOptions(pixelType: .half, compression: .zip))
        try add(
            "piz-float-tiled.exr",
            EXRWriteOptions(pixelType: .float, compression: .piz, tiling: EXRTiling(width: 16, height: 16)))
        try add("dwab-half.exr", EXRWriteOptions(pixelType: .half, compression: .dwab))
        try add("dwaa-float.exr", EXRWriteOptions(pixelType: .float, compression: .dwaa))
        try add("rle-half.exr", EXRWriteOptions(pixelType: .half, compression: .rle))
        try add(
            "b44a-half-mip.exr",
            EXRWriteOptions(
                pixelType: .half, compression: .b44a,
                tiling: EXRTiling(width: 8, height: 8, levelMode: .mipmap)))
        try add("pxr24-float.exr", EXRWriteOptions(pixelType: .float, compression: .pxr24))
        let n = img.planeCount
        let planes = (0..<3).map { Array(img.pixels[($0 * n)..<(($0 + 1) * n)]) }
        let parts = ["a", "b"].map { name in
            EXRPart(
                name: name, width: 37, height: 29, channels: zip(["R", "G", "B"], planes).map { ($0, .half, $1) },
                compression: .zips)
        }
        try EXRWriter.write(parts: parts, to: dir.file("multipart.exr"))
        out.append(
            Base(
                name: "multipart.exr",
                bytes: try Array(Data(contentsOf: URL(fileURLWithPath: dir.file("multipart.exr"))))))
        // Layouts only other writers produced here (tools/fixtures/interop_matrix.py): RGBA half with an unused
        // alpha for the codecs Core decodes, channel counts 2 and 5, mixed types, a subsampled channel, levels.
        for name in interopBases {
            let path = InteropManifest.directory.appendingPathComponent(name).path
            out.append(Base(name: name, bytes: try Array(Data(contentsOf: URL(fileURLWithPath: path)))))
        }
        return out
    }

    static let interopBases = [
        "layout-RGBA-half-piz.exr", "layout-RGBA-half-zips.exr", "storage-tiled-half-zip.exr",
        "storage-tiled-randomY-half-rle.exr", "layout-RGBAZ-float-pxr24.exr", "layout-YA-half-none.exr",
        "mixed-tiled-piz.exr", "subsampled-alpha-half-zip.exr", "levels-mipmap-half-piz.exr",
        "levels-ripmap-half-b44.exr", "multipart-a.exr", "layout-RGBA-half-dwaa.exr"
    ]

    /// Truncations (at every header byte region and spread over the data), single-bit flips, random byte
    /// runs, and edits of header fields and chunk offsets to extreme values.
    static func variants(of base: Base, rng: inout TestRNG) -> [(label: String, bytes: [UInt8], mustFail: Bool)] {
        let b = base.bytes
        var out: [(String, [UInt8], Bool)] = []
        let table = EXRBytes.offsetTable(b)
        var cuts = Set((0..<min(table + 16, b.count)).filter { $0 % 7 == 0 })
        for k in 0..<12 { cuts.insert(table + (b.count - table) * k / 12) }
        cuts.insert(b.count - 1)
        for c in cuts.sorted() where c < b.count { out.append(("truncate@\(c)", Array(b[0..<c]), true)) }
        for _ in 0..<25 {
            var m = b
            let i = rng.below(m.count)
            m[i] ^= UInt8(1 << rng.below(8))
            out.append(("flip@\(i)", m, false))
        }
        for _ in 0..<6 {
            var m = b
            let at = rng.below(m.count)
            let len = 1 + rng.below(24)
            for j in at..<min(at + len, m.count) { m[j] = UInt8(truncatingIfNeeded: rng.next()) }
            out.append(("garbage@\(at)+\(len)", m, false))
        }
        let extremes: [Int32] = [.min, .max, -1, 0, 1 << 30, 65_535, -65_536]
        for attr in ["dataWindow", "displayWindow", "tiles", "chunkCount"] {
            guard let a = EXRBytes.attribute(b, attr) else { continue }
            for field in stride(from: 0, to: min(a.size, 16), by: 4) {
                let v = extremes[rng.below(extremes.count)]
                var m = b
                EXRBytes.setInt32(&m, a.offset + field, v)
                out.append(("\(attr)+\(field)=\(v)", m, false))
            }
        }
        if let c = EXRBytes.attribute(b, "compression") {
            for v: UInt8 in [10, 200, 255] {
                var m = b
                m[c.offset] = v
                out.append(("compression=\(v)", m, true))
            }
        }
        if let ch = EXRBytes.attribute(b, "channels") {
            // The first channel's pixel type follows its NUL-terminated name.
            if let nul = b[ch.offset...].firstIndex(of: 0) {
                for v: Int32 in [3, -1, 1000] {
                    var m = b
                    EXRBytes.setInt32(&m, nul + 1, v)
                    out.append(("channel type=\(v)", m, true))
                }
            }
        }
        let chunks = max(1, min(4, (b.count - table) / 8))
        for k in 0..<chunks {
            for v: UInt64 in [0, 8, UInt64(table), UInt64(b.count), UInt64(b.count) + 4096, .max] {
                var m = b
                EXRBytes.setUInt64(&m, table + 8 * k, v)
                out.append(("offset[\(k)]=\(v)", m, false))
            }
        }
        return out
    }

    @Test func corruptFilesEndInImageOrError() throws {
        var rng = TestRNG(seed: 0x5EED)
        var total = 0
        var images = 0
        var errors = 0
        var reasons: [String: Int] = [:]
        // tools/fuzz/run.sh sets this to memory-check the same variants outside Swift.
        let dump = ProcessInfo.processInfo.environment["HDRPATCH_CORRUPT_DUMP"]
        for base in try Self.bases() {
            if let dump { try Data(base.bytes).write(to: URL(fileURLWithPath: "\(dump)/\(base.name)-base.exr")) }
            // Rip-maps: only the levels (lx, 0) are located before decoding (OpenEXRCore 3.1.5 computes the chunk
            // index of levels with y > 0 wrongly, see validateChunks), so a cut in the other levels still yields
            // level 0 — which must then be exactly the intact file's.
            let intact =
                base.name.contains("ripmap")
                ? try ImageReader.read(bytes: base.bytes, path: base.name, options: ReadOptions(maxPixels: 1 << 24))
                    .image : nil
            for (k, v) in Self.variants(of: base, rng: &rng).enumerated() {
                total += 1
                let name = "\(base.name)[\(v.label)]"
                if let dump {
                    try Data(v.bytes).write(
                        to: URL(fileURLWithPath: "\(dump)/\(base.name)-\(String(format: "%03d", k)).exr"))
                }
                do {
                    let loaded = try ImageReader.read(
                        bytes: v.bytes, path: name, options: ReadOptions(maxPixels: 1 << 24))
                    images += 1
                    if let intact, v.label.hasPrefix("truncate@") {
                        #expect(
                            loaded.image == intact, "\(name): a cut rip-map decoded other pixels than the intact file")
                    } else {
                        #expect(!v.mustFail, "\(name) decoded although it must not: \(loaded.info.compression)")
                    }
                    #expect(loaded.image.pixels.count == 3 * loaded.image.width * loaded.image.height)
                } catch let e as FileError {
                    errors += 1
                    #expect(e.path == name)
                    #expect(!e.reason.isEmpty && !e.reason.contains("\n"))
                    reasons[String(e.reason.prefix(40)), default: 0] += 1
                } catch {
                    Issue.record("\(name): unexpected error type \(type(of: error)): \(error)")
                }
            }
        }
        print("corruption: \(total) variants, \(images) decoded, \(errors) errors")
        for (r, n) in reasons.sorted(by: { $0.value > $1.value }).prefix(12) { print("  \(n) x \(r)") }
        #expect(total >= 300)
        #expect(errors > total / 2)
    }
}
