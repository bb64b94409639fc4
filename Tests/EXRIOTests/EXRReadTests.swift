// Reader features: tiles with levels, data windows, parts, layers, luminance files, pixel types and problems.
import Foundation
import TestSupport
import Testing

@testable import EXRIO

struct EXRReadTests {
    let img = TestImages.smooth(width: 40, height: 24)

    func planes(_ image: HDRImage) -> [[Float]] {
        let n = image.planeCount
        return (0..<3).map { Array(image.pixels[($0 * n)..<(($0 + 1) * n)]) }
    }

    @Test(arguments: [TileLevelMode.mipmap, .ripmap])
    func tiledWithLevelsReadsLevelZero(_ mode: TileLevelMode) throws {
        let dir = ScratchDir()
        try EXRWriter.write(
            img, to: dir.file("t.exr"),
            options: EXRWriteOptions(
                pixelType: .float, compression: .zip, tiling: EXRTiling(width: 8, height: 8, levelMode: mode)))
        let back = try ImageReader.read(path: dir.file("t.exr"))
        #expect(back.image == img)
        #expect(back.info.tile?.levelMode == mode)
        // 40 x 24 with ROUND_DOWN: levels 40, 20, 10, 5, 2, 1 in x and 24, 12, 6, 3, 1 in y.
        #expect(back.info.tile?.levelsX == (mode == .mipmap ? 6 : 6))
        #expect(back.info.tile?.levelsY == (mode == .mipmap ? 6 : 5))
    }

    @Test func dataWindowNotAtOrigin() throws {
        let dir = ScratchDir()
        try EXRWriter.write(
            img, to: dir.file("dw.exr"), options: EXRWriteOptions(pixelType: .float, originX: -7, originY: 13))
        let back = try ImageReader.read(path: dir.file("dw.exr"))
        #expect(back.info.dataWindow == PixelBox(minX: -7, minY: 13, maxX: 32, maxY: 36))
        #expect(back.image == img)
    }

    @Test func multiPartByIndexAndName() throws {
        let dir = ScratchDir()
        let other = HDRImage(width: 40, height: 24, pixels: img.pixels.map { $0 * 2 })
        let parts = [("beauty", img, false), ("albedo", other, true)].map { name, image, tiled in
            EXRPart(
                name: name, width: 40, height: 24,
                channels: zip(["R", "G", "B"], planes(image)).map { ($0, PixelType.float, $1) },
                compression: .piz, tiling: tiled ? EXRTiling(width: 16, height: 16) : nil)
        }
        try EXRWriter.write(parts: parts, to: dir.file("mp.exr"))
        let first = try ImageReader.read(path: dir.file("mp.exr"))
        #expect(first.image == img && first.info.part == 0 && first.info.parts.count == 2)
        let byName = try ImageReader.read(path: dir.file("mp.exr"), options: ReadOptions(part: .name("albedo")))
        #expect(byName.image == other && byName.info.storage == "tiled")
        #expect(try ImageReader.read(path: dir.file("mp.exr"), options: ReadOptions(part: .index(1))).image == other)
        let e = #expect(throws: FileError.self) {
            try ImageReader.read(path: dir.file("mp.exr"), options: ReadOptions(part: .name("depth")))
        }
        #expect(e?.reason == "no part named 'depth'; parts: beauty, albedo")
        #expect(throws: FileError.self) {
            try ImageReader.read(path: dir.file("mp.exr"), options: ReadOptions(part: .index(2)))
        }
    }

    @Test func layersSelectableAndRequiredWhenAmbiguous() throws {
        let dir = ScratchDir()
        let p = planes(img)
        let doubled = p.map { $0.map { $0 * 2 } }
        var channels: [(name: String, type: PixelType, plane: [Float])] = []
        for (c, n) in ["R", "G", "B"].enumerated() {
            channels.append(("diffuse." + n, .half, p[c]))
            channels.append(("specular." + n, .float, doubled[c]))
        }
        channels.append(("A", .half, [Float](repeating: 1, count: p[0].count)))
        try EXRWriter.write(parts: [EXRPart(width: 40, height: 24, channels: channels)], to: dir.file("l.exr"))
        let spec = try ImageReader.read(path: dir.file("l.exr"), options: ReadOptions(layer: "specular"))
        #expect(spec.image.pixels == doubled.flatMap { $0 })
        #expect(spec.info.selectedChannels == ["specular.R", "specular.G", "specular.B"])
        let diffuse = try ImageReader.read(path: dir.file("l.exr"), options: ReadOptions(layer: "diffuse"))
        #expect(diffuse.image == TestImages.halfRounded(img))
        let e = #expect(throws: FileError.self) { try ImageReader.read(path: dir.file("l.exr")) }
        #expect(e?.reason.hasPrefix("no R, G, B or Y channel; channels found: ") == true)
        #expect(e?.reason.hasSuffix("layers: diffuse, specular (select one with --layer)") == true)
        let missing = #expect(throws: FileError.self) {
            try ImageReader.read(path: dir.file("l.exr"), options: ReadOptions(layer: "normal"))
        }
        #expect(missing?.reason.hasPrefix("no layer 'normal'") == true)
    }

    @Test func luminanceOnlyBecomesGrey() throws {
        let dir = ScratchDir()
        let y = planes(img)[1]
        try EXRWriter.write(
            parts: [EXRPart(width: 40, height: 24, channels: [("Y", .float, y)])], to: dir.file("y.exr"))
        let back = try ImageReader.read(path: dir.file("y.exr"))
        #expect(back.image.pixels == y + y + y)
        #expect(back.info.selectedChannels == ["Y", "Y", "Y"])
    }

    @Test func luminanceChromaConvertsToRGB() throws {
        let dir = ScratchDir()
        try EXRWriter.writeLuminanceChroma(img, to: dir.file("yc.exr"))
        let back = try ImageReader.read(path: dir.file("yc.exr"))
        #expect(Set(back.info.channels.map(\.name)) == ["Y", "RY", "BY"])
        #expect(back.info.selectedChannels == ["Y", "RY", "BY"])
        // Chroma is stored at half resolution, so colours blur; luminance structure must survive.
        let err = TestImages.maxRelativeError(back.image, img, floor: 1e-2)
        #expect(err < 0.25, "YC error \(err)")
        let l1 = LuminanceStats(back.image)!
        let l0 = LuminanceStats(img)!
        #expect(abs(l1.max / l0.max - 1) < 0.02)
    }

    @Test func uintChannelsReadAsFloat() throws {
        let dir = ScratchDir()
        let values = (0..<(40 * 24)).map { Float($0 * 7) }
        try EXRWriter.write(
            parts: [EXRPart(width: 40, height: 24, channels: ["R", "G", "B"].map { ($0, .uint, values) })],
            to: dir.file("u.exr"))
        let back = try ImageReader.read(path: dir.file("u.exr"))
        #expect(back.info.channels.map(\.type) == [.uint, .uint, .uint])
        #expect(back.image.pixels == values + values + values)
    }

    @Test func partialRGBAndUnusableChannelsAreErrorsListingChannels() throws {
        let dir = ScratchDir()
        let p = planes(img)
        try EXRWriter.write(
            parts: [
                EXRPart(width: 40, height: 24, channels: [("R", .half, p[0]), ("G", .half, p[1]), ("A", .half, p[2])])
            ],
            to: dir.file("rg.exr"))
        let e1 = #expect(throws: FileError.self) { try ImageReader.read(path: dir.file("rg.exr")) }
        #expect(e1?.reason == "missing channel B; channels found: A, G, R")
        try EXRWriter.write(
            parts: [EXRPart(width: 40, height: 24, channels: [("Z", .float, p[0]), ("A", .half, p[1])])],
            to: dir.file("z.exr"))
        let e2 = #expect(throws: FileError.self) { try ImageReader.read(path: dir.file("z.exr")) }
        #expect(e2?.description == "\(dir.file("z.exr")): no R, G, B or Y channel; channels found: A, Z")
    }

    @Test func negativeNaNAndInfAreCountedPerPixel() throws {
        let dir = ScratchDir()
        var bad = img
        bad[0, 0, 0] = -1
        bad[1, 0, 0] = -2  // one pixel, two negative channels
        bad[2, 5, 5] = -0.5
        bad[0, 1, 1] = .nan
        bad[1, 2, 2] = .infinity
        bad[2, 3, 3] = -.infinity
        try EXRWriter.write(bad, to: dir.file("bad.exr"), options: EXRWriteOptions(pixelType: .float))
        let back = try ImageReader.read(path: dir.file("bad.exr"))
        #expect(back.counts == PixelCounts(negativeClamped: 2, nan: 1, inf: 2))
        #expect(back.image[0, 0, 0] == 0 && back.image[1, 0, 0] == 0 && back.image[2, 5, 5] == 0)
        #expect(back.image[0, 1, 1].isNaN && back.image[1, 2, 2] == .infinity && back.image[2, 3, 3] == -.infinity)
    }

    @Test func halfOverflowIsClampedAndCountedOrRefused() throws {
        let dir = ScratchDir()
        var hot = img
        hot[0, 0, 0] = 1e6
        hot[1, 3, 4] = 70000
        hot[2, 9, 9] = .infinity
        hot[2, 1, 1] = -1e5
        hot[0, 2, 2] = 65504  // exactly the largest half: kept
        let report = try EXRWriter.write(hot, to: dir.file("h.exr"))
        #expect(report.halfOverflow == 4)
        let back = try ImageReader.read(path: dir.file("h.exr"))
        #expect(back.image.pixels.allSatisfy { $0.isFinite })
        #expect(back.image[0, 0, 0] == 65504 && back.image[1, 3, 4] == 65504 && back.image[2, 9, 9] == 65504)
        #expect(back.image[0, 2, 2] == 65504)
        #expect(back.counts.negativeClamped == 1)

        // Strict: refused, and the existing file at the path is left untouched.
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.file("h.exr")))
        let e = #expect(throws: FileError.self) {
            try EXRWriter.write(hot, to: dir.file("h.exr"), options: EXRWriteOptions(strict: true))
        }
        #expect(e?.reason.hasPrefix("4 values exceed the half-float range") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("h.exr"))) == before)
        // Float output keeps the values as they are.
        let f = try EXRWriter.write(
            hot, to: dir.file("f.exr"), options: EXRWriteOptions(pixelType: .float, strict: true))
        #expect(f.halfOverflow == 0)
        #expect(try ImageReader.read(path: dir.file("f.exr")).image[0, 0, 0] == 1e6)
    }

    @Test func failedWriteLeavesNoFileBehind() throws {
        let dir = ScratchDir()
        let e = #expect(throws: FileError.self) {
            try EXRWriter.write(img, to: dir.file("missing-dir/x.exr"))
        }
        #expect(e?.path == dir.file("missing-dir/x.exr"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers.isEmpty)
    }

    @Test func absurdDataWindowIsRefusedBeforeAllocation() throws {
        let dir = ScratchDir()
        try EXRWriter.write(img, to: dir.file("ok.exr"))
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: dir.file("ok.exr"))))
        let dw = try #require(EXRBytes.attribute(bytes, "dataWindow"))
        #expect(dw.size == 16)
        EXRBytes.setInt32(&bytes, dw.offset + 8, 2_000_000_000)
        EXRBytes.setInt32(&bytes, dw.offset + 12, 2_000_000_000)
        let e = #expect(throws: FileError.self) { try ImageReader.read(bytes: bytes, path: "huge.exr") }
        // Core refuses it, or our pixel limit does; either way no multi-gigabyte allocation happened.
        #expect(e != nil)
        print("absurd data window: \(e?.reason ?? "")")
        // A data window within Core's limits but beyond ours is refused by ours, naming the size.
        var big = try Array(Data(contentsOf: URL(fileURLWithPath: dir.file("ok.exr"))))
        EXRBytes.setInt32(&big, dw.offset + 8, 39)
        EXRBytes.setInt32(&big, dw.offset + 12, 23)
        let small = ReadOptions(maxPixels: 100)
        let e2 = #expect(throws: FileError.self) { try ImageReader.read(bytes: big, path: "x.exr", options: small) }
        #expect(e2?.reason == "part 0: data window 40 x 24 exceeds the limit of 100 pixels")
    }

    @Test func chunkOffsetPastEndIsAnError() throws {
        let dir = ScratchDir()
        try EXRWriter.write(img, to: dir.file("ok.exr"), options: EXRWriteOptions(compression: .zip))
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: dir.file("ok.exr"))))
        let table = EXRBytes.offsetTable(bytes)
        EXRBytes.setUInt64(&bytes, table + 8, UInt64(bytes.count) + 1_000_000)
        let e = #expect(throws: FileError.self) { try ImageReader.read(bytes: bytes, path: "x.exr") }
        #expect(e?.path == "x.exr")
    }

    @Test func notAnImageAndMissingFiles() throws {
        let dir = ScratchDir()
        #expect(throws: FileError(path: dir.file("nope.exr"), reason: "No such file or directory")) {
            try ImageReader.read(path: dir.file("nope.exr"))
        }
        #expect(throws: FileError(path: dir.path, reason: "is a directory")) { try ImageReader.read(path: dir.path) }
        #expect(
            throws: FileError(path: "t.txt", reason: "not an OpenEXR or Radiance file (unrecognised magic bytes)")
        ) {
            try ImageReader.read(bytes: Array("hello".utf8), path: "t.txt")
        }
        #expect(throws: FileError(path: "e.exr", reason: "empty file")) {
            try ImageReader.read(bytes: [], path: "e.exr")
        }
    }
}
