// PNG files as libpng writes them, read back by an independent decoder (tools/png/decode_png.py: Python's zlib
// and the PNG specification's filters, no image library), byte for byte.
import EXRIO
import Foundation
import TestSupport
import Testing

struct PNGFileTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// (width, height, rows as hex) from the decoder script; a failed decode is a failed test, never a skip.
    static func decode(_ path: String) throws -> (Int, Int, [String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", repo + "/tools/png/decode_png.py", path]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "decode_png.py: \(errText)")
        let lines = text.split(separator: "\n").map(String.init)
        let size = lines[0].split(separator: " ").compactMap { Int($0) }
        return (size[0], size[1], Array(lines.dropFirst()))
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test(arguments: [(7, 5), (64, 48), (1, 1)])
    func writtenPixelsDecodeExactly(width: Int, height: Int) throws {
        // Gradients, a hard edge and pseudo-random texture, so libpng picks several row filters.
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var state: UInt32 = 12345
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 1_103_515_245 &+ 12345
                let i = (y * width + x) * 3
                rgb[i] = UInt8((x * 255) / max(1, width - 1))
                rgb[i + 1] = x < width / 2 ? 0 : 255
                rgb[i + 2] = UInt8(truncatingIfNeeded: state >> 16)
            }
        }
        let dir = ScratchDir()
        let path = dir.file("p.png")
        try PNGFile.write(path, rgb: rgb, width: width, height: height)
        let (w, h, rows) = try Self.decode(path)
        #expect(w == width && h == height && rows.count == height)
        for y in 0..<height {
            #expect(rows[y] == Self.hex(rgb[(y * width * 3)..<((y + 1) * width * 3)]), "row \(y)")
        }
    }

    @Test func aWrongPixelCountIsAnErrorNamingTheFile() throws {
        let dir = ScratchDir()
        #expect(throws: FileError(path: dir.file("x.png"), reason: "11 bytes for a 2 x 2 RGB image")) {
            try PNGFile.write(dir.file("x.png"), rgb: [UInt8](repeating: 0, count: 11), width: 2, height: 2)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.png")))
    }
}
