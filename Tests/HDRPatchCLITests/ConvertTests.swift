// `hdrpatch convert`: written output, half-overflow clamping and --strict refusal, option errors.
import EXRIO
import Foundation
import TestSupport
import Testing

struct ConvertTests {
    @Test func clampsHalfOverflowAndReportsIt() throws {
        let dir = ScratchDir()
        var img = HDRImage(width: 16, height: 8, fill: 0.5)
        img[0, 1, 1] = 1e6
        img[2, 3, 3] = 70_000
        try EXRWriter.write(img, to: dir.file("in.exr"), options: EXRWriteOptions(pixelType: .float))
        let r = try CLI.run(["convert", dir.file("in.exr"), dir.file("out.exr"), "--compression", "dwab", "--tile", "8"]
        )
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\(dir.file("out.exr")): 2 value(s) beyond the half range clamped to +-65504"))
        let out = try ImageReader.read(path: dir.file("out.exr"))
        #expect(out.info.compression == "dwab" && out.info.storage == "tiled")
        #expect(out.info.channels.map(\.type) == [.half, .half, .half])
        #expect(out.image.pixels.allSatisfy { $0.isFinite && $0 <= 65504 })
    }

    @Test func strictRefusesAndWritesNothing() throws {
        let dir = ScratchDir()
        var img = HDRImage(width: 16, height: 8, fill: 0.5)
        img[1, 2, 2] = 1e5
        try EXRWriter.write(img, to: dir.file("in.exr"), options: EXRWriteOptions(pixelType: .float))
        let r = try CLI.run(["convert", "--strict", dir.file("in.exr"), dir.file("out.exr")])
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "error: \(dir.file("out.exr")): 1 values exceed the half-float range (|v| > 65504); write float or allow clamping\n"
        )
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.exr")))
        let f = try CLI.run(["convert", "--strict", "--float", dir.file("in.exr"), dir.file("out.exr")])
        #expect(f.status == 0)
        #expect(try ImageReader.read(path: dir.file("out.exr")).image[1, 2, 2] == 1e5)
    }

    @Test func unknownCompressionIsAUsageError() throws {
        let r = try CLI.run(["convert", "a.exr", "b.exr", "--compression", "jpeg"])
        #expect(r.status == 64)
        #expect(
            r.stderr.contains(
                "unknown compression 'jpeg'; known: none, rle, zips, zip, piz, pxr24, b44, b44a, dwaa, dwab"))
    }

    @Test func missingInputIsOneErrorLine() throws {
        let dir = ScratchDir()
        let r = try CLI.run(["convert", dir.file("none.exr"), dir.file("out.exr")])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(dir.file("none.exr")): No such file or directory\n")
    }
}

struct RadianceCLITests {
    @Test func inspectAndConvertRadiance() throws {
        let dir = ScratchDir()
        var img = HDRImage(width: 64, height: 16)
        for i in img.pixels.indices { img.pixels[i] = Float(1 + i % 97) * 0.25 }
        try RadianceWriter.write(img, to: dir.file("sky.hdr"))
        let r = try CLI.run(["inspect", dir.file("sky.hdr")])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\(dir.file("sky.hdr")): Radiance 64 x 16, scanline, rle"))
        #expect(r.stdout.contains("channels        R rgbe, G rgbe, B rgbe"))
        let c = try CLI.run(["convert", "--float", "--compression", "piz", dir.file("sky.hdr"), dir.file("sky.exr")])
        #expect(c.status == 0, "\(c.stderr)")
        let hdr = try ImageReader.read(path: dir.file("sky.hdr")).image
        let exr = try ImageReader.read(path: dir.file("sky.exr")).image
        #expect(exr == hdr)
    }
}
