// `hdrpatch evaluate` and `hdrpatch restore` end to end: JSON keys, a written file, one-line errors.
import EXRIO
import Foundation
import TestSupport
import Testing

struct EvaluateRestoreCLITests {
    static let config =
        #"{"model":{"arch":"plain","depth":1,"width":4},"residual":{"mode":"fixed_cap","clamp":8},"#
        + #""loss":[{"type":"l1","weight":1.0}],"optim":{"type":"adamw"}}"#

    /// A one-conv plain network (layers.0.weight (3, 3, 3, 3), layers.0.bias (3)) in safetensors, written by
    /// hand so this target needs no Training: every weight `weight`, biases `bias` (both 0: the identity).
    static func writeCheckpoint(_ path: String, weight: Float, bias: Float = 0, config: String?) throws {
        var meta: [String: String] = ["step": "7"]
        if let config { meta["config"] = config }
        let header: [String: Any] = [
            "__metadata__": meta,
            "layers.0.weight": ["dtype": "F32", "shape": [3, 3, 3, 3], "data_offsets": [0, 324]],
            "layers.0.bias": ["dtype": "F32", "shape": [3], "data_offsets": [324, 336]]
        ]
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + Array(json)
        for v in [Float](repeating: weight, count: 81) + [bias, bias, bias] {
            bytes += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func image(width: Int, height: Int, scale: Float) -> HDRImage {
        HDRImage(
            width: width, height: height,
            pixels: (0..<(3 * width * height)).map { i in
                scale * Float(0.02 + 3 * (1 + sin(Double(i) * 0.61)))
            })
    }

    /// DIR/input and DIR/target with two pairs of different sizes.
    static func dataset(_ dir: ScratchDir) throws -> String {
        let root = dir.file("val")
        for sub in ["input", "target"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        for (name, w, h) in [("a.exr", 40, 24), ("b.exr", 20, 20)] {
            let float = EXRWriteOptions(pixelType: .float)
            try EXRWriter.write(image(width: w, height: h, scale: 0.5), to: "\(root)/input/\(name)", options: float)
            try EXRWriter.write(image(width: w, height: h, scale: 1), to: "\(root)/target/\(name)", options: float)
        }
        return root
    }

    @Test func evaluateJSONHasEvalMetricsKeysForModelAndIdentity() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("ckpt.safetensors")
        try Self.writeCheckpoint(ckpt, weight: 0.01, config: Self.config)
        let r = try CLI.run([
            "evaluate", "--checkpoint", ckpt, "--data", try Self.dataset(dir), "--tile", "16",
            "--overlap", "4", "--json"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]]
        #expect(Set(object?.keys.map { $0 } ?? []) == ["model", "identity"])
        let keys: Set<String> = [
            "psnr_mu", "pu21_psnr", "log_l1", "terms", "loss", "overflow_pixels",
            "overflow_incidents", "patches"
        ]
        #expect(Set(object?["model"]?.keys.map { $0 } ?? []) == keys)
        #expect(Set(object?["identity"]?.keys.map { $0 } ?? []) == keys)
        #expect(object?["model"]?["patches"] as? Int == 2)
        #expect((object?["identity"]?["terms"] as? [String: Double])?.keys.sorted() == ["l1"])
        // The input is half the target everywhere: identity log-L1 is about log 2.
        let l1 = object?["identity"]?["log_l1"] as? Double ?? 0
        #expect(abs(l1 - log(2.0)) < 0.01, "\(l1)")

        let table = try CLI.run(["evaluate", "--checkpoint", ckpt, "--data", dir.file("val")])
        #expect(table.status == 0 && table.stdout.contains("psnr_mu") && table.stdout.contains("identity"), "\(table)")
    }

    @Test func restoreWritesTheImageAndReportsOverflow() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("identity.safetensors")
        let yaml = dir.file("model.yaml")
        try Self.writeCheckpoint(ckpt, weight: 0, config: nil)
        try "model: {arch: plain, depth: 1, width: 4}\nresidual: {mode: adaptive, clamp: null}\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        let input = dir.file("in.exr")
        let output = dir.file("out.exr")
        let img = Self.image(width: 37, height: 21, scale: 1)
        try EXRWriter.write(img, to: input, options: EXRWriteOptions(pixelType: .float))
        let r = try CLI.run([
            "restore", "--checkpoint", ckpt, "--config", yaml, input, output, "--tile", "16",
            "--overlap", "4", "--float"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("0 overflow pixel(s)"), "\(r.stdout)")
        let back = try ImageReader.read(path: output).image
        #expect(back.width == 37 && back.height == 21)
        // Zero weights: the identity, up to exp/log rounding.
        for (o, x) in zip(back.pixels, img.pixels) { #expect(abs(o - x) <= 1e-6 * (x + 1e-4)) }
    }

    /// cap 100 and p = 10 (bias) give delta = 100: exp overflows float32 for every value.
    static let overflowing =
        #"{"model":{"arch":"plain","depth":1,"width":4},"# + #""residual":{"mode":"fixed_cap","cap":100,"clamp":null}}"#

    @Test func overflowIsReportedAndNeverWrittenAsASilentInf() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("hot.safetensors")
        try Self.writeCheckpoint(ckpt, weight: 0, bias: 10, config: Self.overflowing)
        let input = dir.file("in.exr")
        let output = dir.file("out.exr")
        try EXRWriter.write(
            Self.image(width: 12, height: 10, scale: 1), to: input, options: EXRWriteOptions(pixelType: .float))
        let r = try CLI.run(["restore", "--checkpoint", ckpt, input, output, "--tile", "8", "--overlap", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("120 overflow pixel(s) (non-finite or above 65504), 120 non-finite"), "\(r.stdout)")
        #expect(r.stdout.contains("120 pixels above the half range clamped"), "\(r.stdout)")
        let back = try ImageReader.read(path: output).image
        #expect(back.pixels.allSatisfy { $0 == 65504 })

        let e = try CLI.run(["evaluate", "--checkpoint", ckpt, "--data", try Self.dataset(dir), "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: [String: Any]]
        #expect(object?["model"]?["log_l1"] as? String == "inf")
        #expect(object?["model"]?["overflow_incidents"] as? Int == 2)
        #expect(object?["model"]?["overflow_pixels"] as? Int == 40 * 24 + 20 * 20)
        #expect(object?["identity"]?["overflow_pixels"] as? Int == 0)
    }

    @Test func restoreWithoutAnyConfigIsOneErrorLine() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("bare.safetensors")
        let input = dir.file("in.exr")
        try Self.writeCheckpoint(ckpt, weight: 0, config: nil)
        try EXRWriter.write(
            Self.image(width: 8, height: 8, scale: 1), to: input, options: EXRWriteOptions(pixelType: .float))
        let r = try CLI.run(["restore", "--checkpoint", ckpt, input, dir.file("out.exr")])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(ckpt): no config in the checkpoint metadata; pass --config\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.exr")))
    }

    @Test func aMissingCheckpointIsOneErrorLine() throws {
        let dir = ScratchDir()
        for args in [
            ["restore", "--checkpoint", dir.file("nope.safetensors"), dir.file("in.exr"), dir.file("out.exr")],
            ["evaluate", "--checkpoint", dir.file("nope.safetensors"), "--data", dir.path]
        ] {
            let r = try CLI.run(args)
            #expect(r.status == 1)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("error: \(dir.file("nope.safetensors")): "), "\(r.stderr)")
        }
    }

    /// A file of another kind given as the checkpoint (here a YAML config) is called what it is.
    @Test func aCheckpointThatIsNotSafetensorsSaysSo() throws {
        let dir = ScratchDir()
        try "model: {arch: plain}\n".write(toFile: dir.file("config.yaml"), atomically: true, encoding: .utf8)
        let r = try CLI.run([
            "restore", "--checkpoint", dir.file("config.yaml"), dir.file("in.exr"), dir.file("out.exr")
        ])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: \(dir.file("config.yaml")): not a safetensors file ("), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test(arguments: ["evaluate", "restore"])
    func helpIsListedAndShown(_ name: String) throws {
        #expect(try CLI.run(["--help"]).stdout.contains(name))
        let r = try CLI.run([name, "--help"])
        #expect(r.status == 0 && r.stdout.contains("USAGE: hdrpatch \(name)") && r.stdout.contains("--checkpoint"))
    }

    @Test func overlapNotBelowTheTileIsRefused() throws {
        let r = try CLI.run(["restore", "--checkpoint", "x", "in.exr", "out.exr", "--tile", "8", "--overlap", "8"])
        #expect(r.status != 0 && r.stderr.contains("--overlap"))
    }
}
