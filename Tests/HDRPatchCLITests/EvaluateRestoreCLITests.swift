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
    /// With `emaWeight`, also `ema.layers.0.weight` (every value `emaWeight`), `ema.layers.0.bias` (zeros) and
    /// `ema_decay` 0.999, as a run with `train.ema` writes them.
    /// `kernel`, when given, holds the 81 conv weights instead of `weight` everywhere.
    static func writeCheckpoint(
        _ path: String, weight: Float, bias: Float = 0, config: String?, emaWeight: Float? = nil,
        kernel: [Float]? = nil
    ) throws {
        var meta: [String: String] = ["step": "7"]
        if let config { meta["config"] = config }
        var header: [String: Any] = [
            "layers.0.weight": ["dtype": "F32", "shape": [3, 3, 3, 3], "data_offsets": [0, 324]],
            "layers.0.bias": ["dtype": "F32", "shape": [3], "data_offsets": [324, 336]]
        ]
        var values = (kernel ?? [Float](repeating: weight, count: 81)) + [bias, bias, bias]
        if let emaWeight {
            meta["ema_decay"] = "0.999"
            header["ema.layers.0.weight"] = ["dtype": "F32", "shape": [3, 3, 3, 3], "data_offsets": [336, 660]]
            header["ema.layers.0.bias"] = ["dtype": "F32", "shape": [3], "data_offsets": [660, 672]]
            values += [Float](repeating: emaWeight, count: 81) + [0, 0, 0]
        }
        header["__metadata__"] = meta
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + Array(json)
        for v in values { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
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
        #expect(Set(object?.keys.map { $0 } ?? []) == ["checkpoint", "model", "identity"])
        #expect(object?["checkpoint"]?["weights"] as? String == "raw" && object?["checkpoint"]?["step"] as? Int == 7)
        #expect(object?["checkpoint"]?["path"] as? String == ckpt)
        let keys: Set<String> = [
            "psnr_mu", "pu21_psnr", "log_l1", "terms", "loss", "overflow_pixels",
            "overflow_incidents", "patches", "psnr_mu_clip", "pu21_psnr_clip", "clip_samples", "clip_fraction",
            "log_corr_clip"
        ]
        #expect(Set(object?["model"]?.keys.map { $0 } ?? []) == keys)
        #expect(Set(object?["identity"]?.keys.map { $0 } ?? []) == keys)
        // Both inputs reach 1.0 (the clip level) in places: both images count in the in-clip metrics.
        #expect(object?["model"]?["clip_samples"] as? Int == 2)
        let fraction = object?["model"]?["clip_fraction"] as? Double ?? 0
        #expect(fraction > 0.5 && fraction <= 1, "\(fraction)")
        #expect(object?["model"]?["patches"] as? Int == 2)
        #expect((object?["identity"]?["terms"] as? [String: Double])?.keys.sorted() == ["l1"])
        // The input is half the target everywhere: identity log-L1 is about log 2.
        let l1 = object?["identity"]?["log_l1"] as? Double ?? 0
        #expect(abs(l1 - log(2.0)) < 0.01, "\(l1)")

        let table = try CLI.run(["evaluate", "--checkpoint", ckpt, "--data", dir.file("val")])
        #expect(table.status == 0 && table.stdout.contains("psnr_mu") && table.stdout.contains("identity"), "\(table)")
    }

    /// `--per-image` scores every image alone: one row per pair in the set's order, and the set's numbers are the
    /// means of the rows' (every metric is per image, then averaged over images).
    @Test func perImageRowsAverageToTheSetsScores() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("ckpt.safetensors")
        try Self.writeCheckpoint(ckpt, weight: 0.01, config: Self.config)
        let data = try Self.dataset(dir)
        let r = try CLI.run([
            "evaluate", "--checkpoint", ckpt, "--data", data, "--tile", "16", "--overlap", "4", "--json", "--per-image"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let rows = object?["images"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["name"] as? String } == ["a.exr", "b.exr"])
        for side in ["model", "identity"] {
            let set = object?[side] as? [String: Any]
            let each = rows.map { $0[side] as? [String: Any] }
            #expect(each.allSatisfy { $0?["patches"] as? Int == 1 })
            for key in ["psnr_mu", "pu21_psnr", "log_l1", "psnr_mu_clip"] {
                let values = each.compactMap { $0?[key] as? Double }
                let mean = values.reduce(0, +) / Double(values.count)
                let whole = set?[key] as? Double ?? .nan
                #expect(values.count == 2 && abs(mean - whole) <= 1e-9 * max(1, abs(whole)), "\(side) \(key)")
            }
        }
        // The two images differ, so the rows do.
        let psnr = rows.compactMap { ($0["model"] as? [String: Any])?["psnr_mu"] as? Double }
        #expect(psnr.count == 2 && psnr[0] != psnr[1])
        // Without the flag the JSON keeps its three keys; the table gets a row per image with it.
        let plain = try CLI.run(["evaluate", "--checkpoint", ckpt, "--data", data, "--tile", "16", "--json"])
        let keys = (try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])?.keys
        #expect(Set(keys.map(Array.init) ?? []) == ["checkpoint", "model", "identity"])
        let table = try CLI.run(["evaluate", "--checkpoint", ckpt, "--data", data, "--tile", "16", "--per-image"])
        let lines = table.stdout.split(separator: "\n")
        #expect(table.status == 0 && lines.contains { $0.hasPrefix("per image") }, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("a.exr") } && lines.contains { $0.hasPrefix("b.exr") }, "\(table.stdout)")
    }

    /// A checkpoint holding raw weights 0 (the identity) and EMA weights 0.01: evaluate scores the EMA weights by
    /// default, exactly as a file holding only those would score, `--weights raw` the raw ones; both say which.
    @Test func evaluatePicksTheEMAWeightsByDefaultAndSaysSo() throws {
        let dir = ScratchDir()
        let data = try Self.dataset(dir)
        let both = dir.file("both.safetensors")
        let onlyEMA = dir.file("ema-as-raw.safetensors")
        let onlyRaw = dir.file("raw.safetensors")
        try Self.writeCheckpoint(both, weight: 0, config: Self.config, emaWeight: 0.01)
        try Self.writeCheckpoint(onlyEMA, weight: 0.01, config: Self.config)
        try Self.writeCheckpoint(onlyRaw, weight: 0, config: Self.config)
        func evaluate(_ ckpt: String, _ extra: [String] = []) throws -> [String: [String: Any]] {
            let r = try CLI.run(
                ["evaluate", "--checkpoint", ckpt, "--data", data, "--tile", "16", "--overlap", "4", "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]] ?? [:]
        }
        let byDefault = try evaluate(both)
        #expect(byDefault["checkpoint"]?["weights"] as? String == "ema")
        let reference = try evaluate(onlyEMA)
        #expect(byDefault["model"]?["psnr_mu"] as? Double == reference["model"]?["psnr_mu"] as? Double)
        #expect(byDefault["model"]?["log_l1"] as? Double == reference["model"]?["log_l1"] as? Double)
        #expect(
            try evaluate(both, ["--weights", "ema"])["model"]?["psnr_mu"] as? Double == reference["model"]?["psnr_mu"]
                as? Double)
        let raw = try evaluate(both, ["--weights", "raw"])
        #expect(raw["checkpoint"]?["weights"] as? String == "raw")
        #expect(raw["model"]?["psnr_mu"] as? Double == (try evaluate(onlyRaw))["model"]?["psnr_mu"] as? Double)
        #expect(raw["model"]?["psnr_mu"] as? Double != reference["model"]?["psnr_mu"] as? Double)

        let table = try CLI.run(["evaluate", "--checkpoint", both, "--data", data])
        #expect(
            table.stdout.hasPrefix("2 image(s), checkpoint step 7, EMA weights (ema.* tensors, decay 0.999)\n"),
            "\(table.stdout)")
        let rawTable = try CLI.run(["evaluate", "--checkpoint", both, "--data", data, "--weights", "raw"])
        #expect(
            rawTable.stdout.hasPrefix("2 image(s), checkpoint step 7, raw weights (the file also holds EMA weights)\n"),
            "\(rawTable.stdout)")
        let missing = try CLI.run(["evaluate", "--checkpoint", onlyRaw, "--data", data, "--weights", "ema"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: \(onlyRaw): holds no EMA weights (no 'ema.' tensors), only the raw ones\n")
        let wrong = try CLI.run(["evaluate", "--checkpoint", both, "--data", data, "--weights", "best"])
        #expect(wrong.status == 64 && wrong.stderr.contains("--weights"), "\(wrong.stderr)")
    }

    /// restore: the first line says which weights it loaded; the image is what those weights give.
    @Test func restoreStatesWhichWeightsItLoaded() throws {
        let dir = ScratchDir()
        let both = dir.file("both.safetensors")
        let onlyEMA = dir.file("ema-as-raw.safetensors")
        try Self.writeCheckpoint(both, weight: 0, config: Self.config, emaWeight: 0.01)
        try Self.writeCheckpoint(onlyEMA, weight: 0.01, config: Self.config)
        let input = dir.file("in.exr")
        let img = Self.image(width: 19, height: 13, scale: 1)
        try EXRWriter.write(img, to: input, options: EXRWriteOptions(pixelType: .float))
        func restore(_ ckpt: String, _ out: String, _ extra: [String] = []) throws -> (String, [Float]) {
            let r = try CLI.run(["restore", "--checkpoint", ckpt, input, dir.file(out), "--float"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return (r.stdout, try ImageReader.read(path: dir.file(out)).image.pixels)
        }
        let (text, pixels) = try restore(both, "ema.exr")
        #expect(text.hasPrefix("\(both): EMA weights (ema.* tensors, decay 0.999), step 7\n"), "\(text)")
        #expect(pixels.map(\.bitPattern) == (try restore(onlyEMA, "ref.exr")).1.map(\.bitPattern))
        #expect(pixels != img.pixels)
        let (rawText, rawPixels) = try restore(both, "raw.exr", ["--weights", "raw"])
        #expect(rawText.hasPrefix("\(both): raw weights (the file also holds EMA weights), step 7\n"), "\(rawText)")
        for (o, x) in zip(rawPixels, img.pixels) { #expect(abs(o - x) <= 1e-6 * (x + 1e-4)) }
        let onlyRaw = dir.file("raw.safetensors")
        try Self.writeCheckpoint(onlyRaw, weight: 0, config: Self.config)
        let (plain, _) = try restore(onlyRaw, "plain.exr")
        #expect(plain.hasPrefix("\(onlyRaw): raw weights, step 7\n"), "\(plain)")
        let missing = try CLI.run(["restore", "--checkpoint", onlyRaw, input, dir.file("x.exr"), "--weights", "ema"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: \(onlyRaw): holds no EMA weights (no 'ema.' tensors), only the raw ones\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.exr")))
    }

    /// A checkpoint whose config has `self_ensemble: 8` and whose kernel has no symmetry: restore says it averages 8
    /// passes, and its output turns with its input (restoring the mirrored image gives the mirrored restoration)
    /// while one pass (`--self-ensemble 1`) does not; evaluate reports the passes; a count other than 1, 2, 4, 8
    /// is refused.
    @Test func theSelfEnsembleComesFromTheCheckpointAndCanBeOverridden() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("ens.safetensors")
        let config =
            #"{"model":{"arch":"plain","depth":1,"width":4,"self_ensemble":8},"#
            + #""residual":{"mode":"fixed_cap","clamp":8},"loss":[{"type":"l1","weight":1.0}]}"#
        try Self.writeCheckpoint(
            ckpt, weight: 0, config: config, kernel: (0..<81).map { Float(sin(Double($0) * 1.7)) * 0.05 })
        let (w, h) = (19, 13)
        let img = Self.image(width: w, height: h, scale: 1)
        var mirrored = img
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w { mirrored.pixels[(c * h + y) * w + x] = img.pixels[(c * h + y) * w + (w - 1 - x)] }
            }
        }
        let float = EXRWriteOptions(pixelType: .float)
        try EXRWriter.write(img, to: dir.file("in.exr"), options: float)
        try EXRWriter.write(mirrored, to: dir.file("mirrored.exr"), options: float)
        func restore(_ input: String, _ extra: [String] = []) throws -> (String, [Float]) {
            let out = dir.file("out.exr")
            let r = try CLI.run(["restore", "--checkpoint", ckpt, dir.file(input), out, "--float"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return (r.stdout, try ImageReader.read(path: out).image.pixels)
        }
        /// Largest relative difference between `a` and the mirror image of `b`.
        func asymmetry(_ a: [Float], _ b: [Float]) -> Float {
            var worst: Float = 0
            for c in 0..<3 {
                for y in 0..<h {
                    for x in 0..<w {
                        let u = a[(c * h + y) * w + x]
                        worst = max(worst, abs(u - b[(c * h + y) * w + (w - 1 - x)]) / (abs(u) + 1e-3))
                    }
                }
            }
            return worst
        }
        let (text, ensemble) = try restore("in.exr")
        #expect(text.hasPrefix("\(ckpt): raw weights, self-ensemble of 8 passes, step 7\n"), "\(text)")
        #expect(asymmetry(ensemble, try restore("mirrored.exr").1) < 1e-5)
        let (singleText, single) = try restore("in.exr", ["--self-ensemble", "1"])
        #expect(singleText.hasPrefix("\(ckpt): raw weights, step 7\n"), "\(singleText)")
        #expect(asymmetry(single, try restore("mirrored.exr", ["--self-ensemble", "1"]).1) > 1e-3)
        #expect(single != ensemble && single != img.pixels)

        let data = try Self.dataset(dir)
        for (extra, passes) in [([String](), 8), (["--self-ensemble", "2"], 2)] {
            let r = try CLI.run(["evaluate", "--checkpoint", ckpt, "--data", data, "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]]
            #expect(object?["checkpoint"]?["self_ensemble"] as? Int == passes)
        }
        for command in [
            ["restore", "--checkpoint", ckpt, dir.file("in.exr"), dir.file("x.exr")],
            ["evaluate", "--checkpoint", ckpt, "--data", data]
        ] {
            let bad = try CLI.run(command + ["--self-ensemble", "3"])
            #expect(
                bad.status == 64 && bad.stderr.contains("--self-ensemble must be 1, 2, 4 or 8 (got 3)"), "\(bad.stderr)"
            )
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.exr")))
    }

    /// A model with a hole_mask input (one conv over 6 planes, weights 0: the identity) restores with --mask and
    /// says what is missing without it; a model without that input refuses --mask; export refuses the model.
    @Test func aHoleMaskModelTakesItsMaskFromTheCommandLine() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("holes.safetensors")
        let header: [String: Any] = [
            "layers.0.weight": ["dtype": "F32", "shape": [3, 6, 3, 3], "data_offsets": [0, 648]],
            "layers.0.bias": ["dtype": "F32", "shape": [3], "data_offsets": [648, 660]],
            "__metadata__": ["step": "7"]
        ]
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + Array(json)
        bytes += [UInt8](repeating: 0, count: 660)
        try Data(bytes).write(to: URL(fileURLWithPath: ckpt))
        let yaml = dir.file("model.yaml")
        try
            "model: {arch: plain, depth: 1, width: 4, inputs: [log_norm, hole_mask]}\nresidual: {mode: adaptive, clamp: null}\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        let input = dir.file("in.exr")
        let img = Self.image(width: 21, height: 13, scale: 1)
        try EXRWriter.write(img, to: input, options: EXRWriteOptions(pixelType: .float))
        let mask = dir.file("mask.exr")
        try EXRWriter.write(
            HDRImage(width: 21, height: 13, pixels: (0..<(3 * 21 * 13)).map { Float($0 % 2) }), to: mask,
            options: EXRWriteOptions(pixelType: .float))
        let base = ["restore", "--checkpoint", ckpt, "--config", yaml, input, dir.file("out.exr"), "--float"]
        let missing = try CLI.run(base)
        #expect(missing.status != 0)
        #expect(
            missing.stderr.hasSuffix(
                "\(ckpt): the model reads a hole mask (model.inputs hole_mask): give --mask FILE\n"),
            "\(missing.stderr)")
        let ok = try CLI.run(base + ["--mask", mask])
        #expect(ok.status == 0, "\(ok.stderr)")
        let back = try ImageReader.read(path: dir.file("out.exr")).image
        for (o, x) in zip(back.pixels, img.pixels) { #expect(abs(o - x) <= 1e-6 * (x + 1e-4)) }
        let small = dir.file("small.exr")
        try EXRWriter.write(Self.image(width: 20, height: 13, scale: 0), to: small, options: EXRWriteOptions())
        let wrongSize = try CLI.run(base + ["--mask", small])
        #expect(wrongSize.status != 0 && wrongSize.stderr.contains("\(small): mask is 20x13, its image 21x13"))
        // A model without the input refuses a mask.
        let plain = dir.file("plain.safetensors")
        try Self.writeCheckpoint(plain, weight: 0, config: nil)
        try "model: {arch: plain, depth: 1, width: 4}\nresidual: {mode: adaptive, clamp: null}\n"
            .write(toFile: dir.file("plain.yaml"), atomically: true, encoding: .utf8)
        let refused = try CLI.run([
            "restore", "--checkpoint", plain, "--config", dir.file("plain.yaml"), input, dir.file("o.exr"), "--mask",
            mask
        ])
        #expect(refused.status != 0 && refused.stderr.contains("--mask \(mask): the model has no hole_mask input"))
        // evaluate on a set without masks: refused, not scored as if nothing were a hole.
        let noMasks = try CLI.run(["evaluate", "--checkpoint", ckpt, "--config", yaml, "--data", try Self.dataset(dir)])
        #expect(
            noMasks.status != 0 && noMasks.stderr.contains("the model reads a hole mask (model.inputs hole_mask)"),
            "\(noMasks.stderr)")
        let export = try CLI.run(["export", "--checkpoint", ckpt, "--config", yaml, "--onnx", dir.file("m.onnx")])
        #expect(export.status != 0 && export.stderr.contains("model.inputs has hole_mask"), "\(export.stderr)")
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

    /// restore writes the same bytes on 1 and 2 threads, tiled (balanced tiles, batches of 4) and in one pass (the
    /// conv stack in strips of rows, split into bands on 2 threads): no part of it depends on the thread count.
    @Test func restoreIsTheSameOnOneAndTwoThreadsTiledAndInOnePass() throws {
        let dir = ScratchDir()
        let variant = ExportCLITests.Variant(
            name: "plain d4 w16", model: #""arch":"plain","depth":4,"width":16"#, inputs: ["log_norm", "clip_mask"],
            residual: #""mode":"learnable","learnable_init":6.0"#, clamp: 8)
        let ckpt = dir.file("d4w16.safetensors")
        try ExportCLITests.writeCheckpoint(variant, to: ckpt)
        let input = dir.file("in.exr")
        let (w, h) = (520, 300)
        var pixels = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    let v = exp(4 * sin(Double(x) * 0.031 + Double(c)) * cos(Double(y) * 0.023)) * 0.3
                    pixels[(c * h + y) * w + x] = Float(v)
                }
            }
        }
        try EXRWriter.write(
            HDRImage(width: w, height: h, pixels: pixels), to: input, options: EXRWriteOptions(pixelType: .float))
        for tile in ["256", "1024"] {
            var outputs: [Data] = []
            for threads in ["1", "2"] {
                let output = dir.file("out-\(tile)-\(threads).exr")
                let r = try CLI.run(
                    ["restore", "--checkpoint", ckpt, input, output, "--tile", tile, "--float"],
                    environment: ["HDRPATCH_THREADS": threads])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(
                    r.stdout.contains(tile == "256" ? "6 tile(s) of 184 x 158" : "1 tile(s) of 520 x 300"),
                    "\(r.stdout)")
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: output)))
            }
            #expect(outputs[0] == outputs[1], "tile \(tile): 1 and 2 threads differ")
        }
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

    static let darkening =
        #"{"model":{"arch":"plain","depth":1,"width":4},"# + #""residual":{"mode":"fixed_cap","cap":8,"clamp":null},"#
        + #""data":{"eps":0.01}}"#

    /// A residual of -8 (every pixel e^-8 times as bright) takes exp(ln_hat) below eps nearly everywhere: restore
    /// writes 0 there, never a negative value, tiled and in one pass; evaluate's pictures come from the same output.
    @Test func restoreNeverWritesNegativeRadiance() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("dark.safetensors")
        try Self.writeCheckpoint(ckpt, weight: 0, bias: -10, config: Self.darkening)
        let input = dir.file("in.exr")
        try EXRWriter.write(
            Self.image(width: 24, height: 20, scale: 1), to: input, options: EXRWriteOptions(pixelType: .float))
        for tile in ["8", "64"] {
            let output = dir.file("out\(tile).exr")
            let r = try CLI.run(["restore", "--checkpoint", ckpt, input, output, "--tile", tile, "--float"])
            #expect(r.status == 0, "\(r.stderr)")
            let back = try ImageReader.read(path: output).image.pixels
            #expect(!back.contains { $0 < 0 }, "tile \(tile): \(back.filter { $0 < 0 }.count) negative values")
            // (x + 0.01) e^-8 - 0.01 < 0 for every x < 29.8: all of this image (its values are below 6.1).
            #expect(back.filter { $0 == 0 }.count == back.count, "tile \(tile)")
        }
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
