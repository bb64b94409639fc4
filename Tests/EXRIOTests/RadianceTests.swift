// Tests of the Radiance RGBE codec; every fixture is built here from bytes or by the encoder.

import Testing

@testable import EXRIO

private typealias Decoded = (image: HDRImage, info: ImageInfo)

private func decode(_ bytes: [UInt8], maxPixels: Int = 1 << 28) -> Result<Decoded, FileError> {
    bytes.withUnsafeBytes { raw in
        Result { () throws(FileError) -> Decoded in
            let (image, info) = try Radiance.decode(raw, path: "test.hdr", maxPixels: maxPixels)
            return (image, info)
        }
    }
}

private func decoded(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> Decoded {
    switch decode(bytes) {
    case .success(let d): return d
    case .failure(let e):
        Issue.record("unexpected error: \(e)", sourceLocation: sourceLocation)
        throw e
    }
}

/// The failure reason, or nil (and a recorded issue) when decoding succeeded.
private func failure(
    _ bytes: [UInt8], maxPixels: Int = 1 << 28,
    sourceLocation: SourceLocation = #_sourceLocation
) -> String? {
    switch decode(bytes, maxPixels: maxPixels) {
    case .success:
        Issue.record("decoding succeeded, expected an error", sourceLocation: sourceLocation)
        return nil
    case .failure(let e):
        #expect(e.path == "test.hdr", sourceLocation: sourceLocation)
        #expect(!e.reason.isEmpty, sourceLocation: sourceLocation)
        return e.reason
    }
}

private func file(_ headerLines: [String], _ resolution: String, _ data: [UInt8]) -> [UInt8] {
    Array((headerLines.joined(separator: "\n") + "\n\n" + resolution + "\n").utf8) + data
}

private let standard = ["#?RADIANCE", "FORMAT=32-bit_rle_rgbe"]

private func pixel(_ image: HDRImage, _ x: Int, _ y: Int) -> [Float] {
    (0..<3).map { image[$0, y, x] }
}

private func randomImage(width: Int, height: Int, seed: UInt64) -> HDRImage {
    var rng = TestRNG(seed: seed)
    var image = HDRImage(width: width, height: height)
    for i in image.pixels.indices {
        // (1 + u) * 2^k, k in -20...19: spans 2^-20 ... 2^20 with every exponent equally likely.
        let k = Int(rng.next() % 40) - 20
        image.pixels[i] = Float((1 + rng.unit()) * Double(sign: .plus, exponent: k, significand: 1))
    }
    return image
}

@Suite("Radiance RGBE codec")
struct RadianceTests {
    @Test func decodesHandBuiltFlatPixelsExactly() throws {
        let bytes = file(standard, "-Y 1 +X 3", [128, 64, 32, 129, 255, 0, 10, 140, 200, 100, 50, 0])
        let (image, info) = try decoded(bytes)
        #expect(image.width == 3 && image.height == 1)
        // (b + 0.5) * 2^(e - 136)
        #expect(pixel(image, 0, 0) == [1.00390625, 0.50390625, 0.25390625])
        #expect(pixel(image, 1, 0) == [4088, 8, 168])
        #expect(pixel(image, 2, 0) == [0, 0, 0])
        #expect(info.compression == "none")
    }

    @Test func reportsHeaderFacts() throws {
        let (_, info) = try decoded(file(["#?RGBE"], "-Y 2 +X 3", [UInt8](repeating: 130, count: 24)))
        let box = PixelBox(minX: 0, minY: 0, maxX: 2, maxY: 1)
        let expected = ImageInfo(
            format: .radiance, width: 3, height: 2, dataWindow: box, displayWindow: box,
            channels: ["R", "G", "B"].map { ChannelInfo(name: $0, type: .rgbe) }, selectedChannels: ["R", "G", "B"],
            compression: "none", storage: "scanline", tile: nil, parts: [PartSummary(index: 0, name: nil)], part: 0,
            exposure: 1)
        #expect(info == expected)
    }

    @Test(arguments: [(5, 4, true), (5, 4, false), (37, 5, true), (37, 5, false), (300, 2, true)])
    func roundTripsRandomValues(width: Int, height: Int, runLength: Bool) throws {
        let image = randomImage(width: width, height: height, seed: UInt64(width * 1000 + height))
        let bytes = Radiance.encode(image, runLength: runLength)
        let (back, info) = try decoded(bytes)
        #expect(back.width == width && back.height == height)
        #expect(info.compression == (runLength && width >= 8 ? "rle" : "none"))
        var worst = 0.0
        for y in 0..<height {
            for x in 0..<width {
                let a = pixel(image, x, y)
                let b = pixel(back, x, y)
                let m = Double(a.max()!)
                for c in 0..<3 { worst = max(worst, abs(Double(a[c]) - Double(b[c])) / m) }
            }
        }
        #expect(worst <= 1.0 / 128, "worst relative error \(worst)")
        #expect(worst > 0, "the RGBE quantum should show somewhere")
        // Decoded values sit at quantum centres, so re-encoding them gives the same bytes.
        let again = Radiance.encode(back, runLength: runLength)
        let differing = zip(again, bytes).filter { $0 != $1 }.count
        #expect(again.count == bytes.count && differing == 0, "\(differing) bytes differ")
    }

    @Test func runLengthCodingShrinksFlatRegionsAndKeepsValues() throws {
        var image = HDRImage(width: 64, height: 3, fill: 0.75)
        for x in 10..<13 { image[0, 1, x] = 3 }  // a short literal span among runs
        image[2, 2, 63] = 100
        let rle = Radiance.encode(image)
        let flat = Radiance.encode(image, runLength: false)
        #expect(rle.count < flat.count / 4)
        let (a, ai) = try decoded(rle)
        let (b, bi) = try decoded(flat)
        #expect(a == b)
        #expect(ai.compression == "rle" && bi.compression == "none")
        // 3 is stored as (192, e 130) and 0.75 as (192, e 128): they come back at their quantum centres.
        #expect(pixel(a, 11, 1)[0] == 3.0078125 && pixel(a, 0, 0) == [0.751953125, 0.751953125, 0.751953125])
    }

    @Test func writesTheStandardHeader() {
        let bytes = Radiance.encode(HDRImage(width: 2, height: 3, fill: 1))
        let expected = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 3 +X 2\n"
        #expect(Array(bytes.prefix(expected.utf8.count)) == Array(expected.utf8))
        #expect(bytes.count == expected.utf8.count + 2 * 3 * 4)
    }

    @Test func expandsOldStyleRepeatPixelsWithGrowingShift() throws {
        let p: [UInt8] = [128, 64, 32, 129]
        let q: [UInt8] = [200, 200, 200, 130]
        // p, 2 repeats, then 1 << 8 repeats (consecutive), q, then 2 repeats (shift reset by q).
        let data = p + [1, 1, 1, 2] + [1, 1, 1, 1] + q + [1, 1, 1, 2]
        let width = 1 + 2 + 256 + 1 + 2
        let (image, info) = try decoded(file(standard, "-Y 1 +X \(width)", data))
        let pv: [Float] = [1.00390625, 0.50390625, 0.25390625]
        let qv: [Float] = [3.1328125, 3.1328125, 3.1328125]
        for x in 0..<259 { #expect(pixel(image, x, 0) == pv, "x = \(x)") }
        for x in 259..<262 { #expect(pixel(image, x, 0) == qv, "x = \(x)") }
        #expect(info.compression == "none")
    }

    @Test func rejectsBadOldStyleRepeats() {
        let p: [UInt8] = [128, 64, 32, 129]
        #expect(failure(file(standard, "-Y 1 +X 3", [1, 1, 1, 1] + p + p))?.contains("no previous pixel") == true)
        #expect(failure(file(standard, "-Y 1 +X 3", p + [1, 1, 1, 3]))?.contains("overruns") == true)
        // Two consecutive repeats: 1 + (1 << 8) pixels after p cannot fit a 10-pixel scanline.
        #expect(failure(file(standard, "-Y 1 +X 10", p + [1, 1, 1, 1, 1, 1, 1, 1]))?.contains("overruns") == true)
    }

    /// Displayed 3 x 2 image: a b c / d e f. Each case lists the pixels in the order the file stores them.
    @Test(arguments: [
        ("-Y 2 +X 3", "abcdef"), ("-Y 2 -X 3", "cbafed"), ("+Y 2 +X 3", "defabc"), ("+Y 2 -X 3", "fedcba"),
        ("+X 3 -Y 2", "adbecf"), ("+X 3 +Y 2", "daebfc"), ("-X 3 -Y 2", "cfbead"), ("-X 3 +Y 2", "fcebda")
    ])
    func mapsEveryOrientationToTopDownLeftRight(resolution: String, order: String) throws {
        let letters = Array("abcdef")
        // Letter i is stored with red byte 130 + i, so its decoded red is (130 + i + 0.5) / 128.
        var data: [UInt8] = []
        for ch in order { data += [UInt8(130 + letters.firstIndex(of: ch)!), 7, 9, 129] }
        let (image, _) = try decoded(file(standard, resolution, data))
        #expect(image.width == 3 && image.height == 2)
        for y in 0..<2 {
            for x in 0..<3 {
                let i = y * 3 + x
                let expected: [Float] = [(Float(130 + i) + 0.5) / 128, 7.5 / 128, 9.5 / 128]
                #expect(
                    pixel(image, x, y) == expected,
                    "\(resolution): pixel (\(x), \(y)) should be \(letters[i])")
            }
        }
    }

    @Test func multipliesExposureLinesWithoutScalingPixels() throws {
        let data: [UInt8] = [128, 64, 32, 129]
        let plain = try decoded(file(standard, "-Y 1 +X 1", data))
        let exposed = try decoded(
            file(
                ["#?RADIANCE", "EXPOSURE=2.5", "SOFTWARE=test", "EXPOSURE= 0.5 ", "FORMAT=32-bit_rle_rgbe"],
                "-Y 1 +X 1", data))
        #expect(plain.info.exposure == 1)
        #expect(exposed.info.exposure == 1.25)
        #expect(exposed.image == plain.image)
        #expect(failure(file(["#?RADIANCE", "EXPOSURE=bright"], "-Y 1 +X 1", data))?.contains("EXPOSURE") == true)
    }

    @Test func acceptsMissingFormatLineAndOtherProgramNames() throws {
        let (image, _) = try decoded(file(["#?RGBE", "# a comment"], "-Y 1 +X 1", [128, 64, 32, 129]))
        #expect(pixel(image, 0, 0) == [1.00390625, 0.50390625, 0.25390625])
    }

    @Test func everyTruncationOfAValidFileThrows() throws {
        var image = HDRImage(width: 10, height: 3, fill: 0.5)
        for x in 0..<5 { image[1, 1, x] = Float(x) + 1 }
        let bytes = Radiance.encode(image)
        #expect(try decoded(bytes).info.compression == "rle")
        for length in 0..<bytes.count {
            if case .success = decode(Array(bytes.prefix(length))) {
                Issue.record("prefix of \(length) of \(bytes.count) bytes decoded")
            }
        }
        let reason = failure(Array(bytes.dropLast()))
        #expect(reason == "unexpected end of data in scanline 2")
    }

    @Test func rejectsUnsupportedFormats() {
        #expect(
            failure(file(["#?RADIANCE", "FORMAT=32-bit_rle_xyze"], "-Y 1 +X 1", [128, 0, 0, 129]))
                == "XYZE format is not supported")
        let reason = failure(file(["#?RADIANCE", "FORMAT=16-bit_gray"], "-Y 1 +X 1", [128, 0, 0, 129]))
        #expect(reason?.contains("16-bit_gray") == true)
    }

    @Test func rejectsBadHeadersAndResolutions() {
        let pix: [UInt8] = [128, 0, 0, 129]
        #expect(failure(Array("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n".utf8))?.contains("resolution") == true)
        #expect(failure(Array("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n".utf8))?.contains("header") == true)
        for res in ["-Y 1", "-Y 1 +Y 1", "Y 1 +X 1", "-Y one +X 1", "-Y 1 +X 1 extra", "-Y 99999999999999999999 +X 1"] {
            #expect(failure(file(standard, res, pix))?.contains("resolution") == true, "\(res)")
        }
        #expect(failure(file(standard, "-Y 0 +X 1", pix))?.contains("size") == true)
        #expect(failure(file(standard, "-Y -2 +X 1", pix))?.contains("size") == true)
        // A garbage header with no blank line is refused after 64 KiB.
        let garbage = Array("#?RADIANCE\n".utf8) + [UInt8](repeating: 0x41, count: 100_000)
        #expect(failure(garbage)?.contains("65536") == true)
    }

    @Test func refusesHugeImagesBeforeAllocating() {
        // Allocating 10^16 floats would crash the test process, so reaching the check is the test.
        let reason = failure(file(standard, "-Y 100000000 +X 100000000", [128, 0, 0, 129]), maxPixels: 1 << 28)
        #expect(reason?.contains("100000000 x 100000000") == true)
        #expect(
            failure(file(standard, "-Y 3037000500 +X 3037000500", []), maxPixels: .max)?.contains("exceeds") == true)
        #expect(failure(file(standard, "-Y 2 +X 3", [UInt8](repeating: 130, count: 24)), maxPixels: 5) != nil)
    }

    @Test func rejectsBadRunLengthScanlines() {
        let res = "-Y 1 +X 8"
        // A run of 9 in an 8-pixel scanline.
        #expect(failure(file(standard, res, [2, 2, 0, 8, 128 + 9, 100]))?.contains("overruns") == true)
        // A literal span of 9.
        #expect(
            failure(file(standard, res, [2, 2, 0, 8, 9] + [UInt8](repeating: 1, count: 9)))?
                .contains("overruns") == true)
        #expect(failure(file(standard, res, [2, 2, 0, 8, 0]))?.contains("zero-length") == true)
        #expect(failure(file(standard, res, [2, 2, 0, 9, 136, 100]))?.contains("9 pixels") == true)
    }

    @Test func recognisesTheMagic() {
        func looks(_ s: [UInt8]) -> Bool { s.withUnsafeBytes { Radiance.looksLikeRadiance($0) } }
        #expect(looks(Array("#?RADIANCE\n".utf8)))
        #expect(looks(Array("#?".utf8)))
        #expect(!looks(Array("#".utf8)))
        #expect(!looks([]))
        #expect(!looks([0x76, 0x2F, 0x31, 0x01]))  // OpenEXR magic
        #expect(!looks(Array("P6\n".utf8)))
        #expect(failure([0x76, 0x2F, 0x31, 0x01])?.contains("magic") == true)
    }

    @Test func encodesNegativeNaNAndInfiniteValuesAsDocumented() throws {
        #expect(Radiance.rgbe(-1, 0.5, .nan) == (0, 128, 0, 128))
        #expect(Radiance.rgbe(-1, -2, .nan) == (0, 0, 0, 0))
        #expect(Radiance.rgbe(1e-33, 0, 0) == (0, 0, 0, 0))
        #expect(Radiance.rgbe(.infinity, 1, 0) == (255, 0, 0, 255))
        #expect(Radiance.rgbe(.greatestFiniteMagnitude, 0, 0) == (255, 0, 0, 255))
        #expect(Radiance.rgbe(0x1p127, 0x1p126, 0) == (255, 128, 0, 255))
        // The largest value below saturation keeps its own exponent.
        #expect(Radiance.rgbe(0x1.fep126, 0, 0) == (255, 0, 0, 255))
        #expect(Radiance.rgbe(0x1p126, 0, 0) == (128, 0, 0, 255))

        // Through a whole file. Zeroed channels of a nonzero pixel decode to half a quantum, as in Radiance.
        let image = HDRImage(width: 3, height: 1, pixels: [-1, .infinity, .nan, 0.5, 1, .nan, .nan, 0, .nan])
        let bytes = Radiance.encode(image, runLength: false)
        #expect(Array(bytes.suffix(12)) == [0, 128, 0, 128, 255, 0, 0, 255, 0, 0, 0, 0])
        let (back, _) = try decoded(bytes)
        #expect(pixel(back, 0, 0) == [0.001953125, 0.501953125, 0.001953125])
        #expect(pixel(back, 1, 0) == [255.5 * 0x1p119, 0.5 * 0x1p119, 0.5 * 0x1p119])
        #expect(pixel(back, 2, 0) == [0, 0, 0])
    }
}
