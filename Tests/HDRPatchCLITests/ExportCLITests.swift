// `hdrpatch export` checked by tools nobody here wrote: onnx.checker, onnxruntime and onnx's reference evaluator
// (the project-local .venv that make setup creates) against `hdrpatch restore` on the same images, for every head
// mode with and without the clamp, plain and U-Net; and the command's one-line errors.
import Config
import EXRIO
import Foundation
import Model
import RunFiles
import TestSupport
import Testing
import Training

struct ExportCLITests {
    static let repo = TrainCLITests.repo
    static let python = repo + "/.venv/bin/python"
    /// The bound the issue sets: ONNX output vs restore, relative to output + eps (tools/onnx/check_export.py).
    static let tolerance = 1e-5

    struct Variant {
        var name: String
        var model: String
        var inputs: [String]
        var residual: String
        var clamp: Double?
        var opset = 17
        var eps = 1e-2
        /// model.self_ensemble (1: not written).
        var selfEnsemble = 1

        var config: String {
            let planes = inputs.map { "\"\($0)\"" }.joined(separator: ",")
            let clampText = clamp.map { "\($0)" } ?? "null"
            let ensemble = selfEnsemble == 1 ? "" : #","self_ensemble":"# + "\(selfEnsemble)"
            return #"{"model":{"#
                + model + #","inputs":["# + planes + #"]"# + ensemble + #"},"residual":{"# + residual + #","clamp":"#
                + clampText
                + #"},"data":{"eps":"# + "\(eps)" + #","denom_floor":0.01}}"#
        }
    }

    /// Every head mode, with the clamp (0.6: the random networks' residuals reach past it) and without, for a plain
    /// network and a U-Net; between them every input plane.
    static let variants: [Variant] = {
        let archs: [(String, String, [String])] = [
            ("plain", #""arch":"plain","depth":3,"width":8"#, ["log_norm", "clip_mask", "clip_depth"]),
            ("unet", #""arch":"unet","width":4,"levels":2"#, ["log_norm", "log_level", "clip_mask"])
        ]
        let heads: [(String, String)] = [
            ("fixed_cap", #""mode":"fixed_cap","cap":4.0,"alpha":0.75"#),
            ("adaptive", #""mode":"adaptive","k":0.9,"scale":0.8"#),
            ("learnable", #""mode":"learnable","learnable_init":6.0"#)
        ]
        var all: [Variant] = []
        for (arch, model, inputs) in archs {
            for (head, residual) in heads {
                for clamp in [nil, 0.6] {
                    all.append(
                        Variant(
                            name: "\(arch) \(head) " + (clamp == nil ? "no clamp" : "clamp 0.6"), model: model,
                            inputs: head == "fixed_cap" && arch == "plain" ? ["log_norm"] : inputs,
                            residual: residual, clamp: clamp))
                }
            }
        }
        return all
    }()

    /// A checkpoint of `variant`'s config with freshly initialised weights, the output layer's scaled by 10 (PyTorch's
    /// default init alone gives residuals below 0.6: the clamp would never act) and, in learnable mode, head.scale
    /// 3.7 (not its initial value: the export must carry the trained one).
    static func writeCheckpoint(_ variant: Variant, to path: String) throws {
        let config = try InferenceConfig(root: try StrictYAML.parse(variant.config, file: "variant"))
        let model = try PatchModel(
            model: config.model, inputs: config.inputs, residual: config.residual, logNorm: config.logNorm,
            stateSlots: 0, seed: 3)
        for suffix in [".weight", ".bias"] {
            let e = try #require(model.store.entry(named: model.network.outputLayer + suffix))
            let values = model.store.values(e)
            for i in values.indices { values[i] *= 10 }
        }
        if let e = model.store.entry(named: ResidualHead.scaleName) { model.store.values(e)[0] = 3.7 }
        try WeightsFile.save(model.store, to: path, metadata: ["config": variant.config, "step": "0"])
    }

    /// Test images: two 64 x 48 of very different log ranges (run as one batch: each needs its own statistics),
    /// one of odd size 45 x 37 (the U-Net pads it) with black and clipped pixels, and a real HDR photograph
    /// (Blender's CC0 studio light, 1024 x 512, 25 stops, read by hdrpatch from its DWAB file and stored as float).
    static func images(_ dir: ScratchDir) throws -> [String] {
        func synthetic(_ name: String, width: Int, height: Int, _ value: (Int, Int, Int) -> Float) throws -> String {
            var pixels = [Float](repeating: 0, count: 3 * width * height)
            for c in 0..<3 {
                for y in 0..<height {
                    for x in 0..<width { pixels[(c * height + y) * width + x] = value(c, y, x) }
                }
            }
            let path = dir.file(name)
            try EXRWriter.write(
                HDRImage(width: width, height: height, pixels: pixels), to: path,
                options: EXRWriteOptions(pixelType: .float))
            return path
        }
        let bright = try synthetic("bright.exr", width: 64, height: 48) { c, y, x in
            Float(exp(4 * sin(Double(x) * 0.11 + Double(c)) * cos(Double(y) * 0.07))) * 2
        }
        let dim = try synthetic("dim.exr", width: 64, height: 48) { c, y, x in
            0.01 + 0.002 * Float((x * 7 + y * 13 + c * 5) % 17)
        }
        let odd = try synthetic("odd.exr", width: 45, height: 37) { c, y, x in
            if (x + y) % 11 == 0 { return 0 }
            return x > 30 ? 1.0 + Float(c) : Float(exp(Double(x - y) * 0.15)) * 0.2
        }
        let photo = try ImageReader.read(path: repo + "/Tests/Fixtures/blender-studio-dwab.exr").image
        let photoPath = dir.file("photo.exr")
        try EXRWriter.write(photo, to: photoPath, options: EXRWriteOptions(pixelType: .float))
        return [bright, dim, odd, photoPath]
    }

    /// The venv's interpreter with onnxruntime, or a recorded failure saying how to get it.
    static func onnxPython() -> String? {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no \(python): run make setup (it creates .venv with tools/onnx/requirements.txt)")
            return nil
        }
        return python
    }

    /// Runs tools/onnx/check_export.py on `cases` and returns its per-case reports.
    static func check(_ cases: [[String: Any]], in dir: ScratchDir) throws -> [[String: Any]] {
        guard let py = onnxPython() else { return [] }
        let manifest = dir.file("manifest.json")
        try JSONSerialization.data(withJSONObject: ["cases": cases]).write(to: URL(fileURLWithPath: manifest))
        let r = try CLI.run([repo + "/tools/onnx/check_export.py", manifest], timeout: 600, program: py)
        #expect(r.status == 0, "check_export.py: \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return object?["cases"] as? [[String: Any]] ?? []
    }

    /// Exports `checkpoint`, restores every image as one tile with it, and returns the manifest case.
    static func exportAndRestore(
        _ name: String, checkpoint: String, images: [String], opset: Int, eps: Double, clamp: Double?,
        dir: ScratchDir, extra: [String] = []
    ) throws -> [String: Any] {
        let onnx = dir.file("\(name.replacingOccurrences(of: " ", with: "_")).onnx")
        let e = try CLI.run(["export", "--checkpoint", checkpoint, "--onnx", onnx, "--opset", "\(opset)"] + extra)
        #expect(e.status == 0, "\(name): export: \(e.stderr)")
        var pairs: [[String]] = []
        for (k, image) in images.enumerated() {
            let out = dir.file("\(name.replacingOccurrences(of: " ", with: "_"))-\(k).exr")
            let r = try CLI.run(["restore", "--checkpoint", checkpoint, "--tile", "4096", "--float", image, out])
            #expect(r.status == 0, "\(name): restore: \(r.stderr)")
            pairs.append([image, out])
        }
        return [
            "name": name, "onnx": onnx, "eps": eps, "clamp": clamp as Any? ?? NSNull(), "pairs": pairs,
            "batches": [[0, 1]]
        ]
    }

    @Test func everyHeadModeWithAndWithoutClampPlainAndUNetMatchesRestoreInOnnxruntime() throws {
        let dir = ScratchDir()
        let images = try Self.images(dir)
        var cases: [[String: Any]] = []
        var byName: [String: Variant] = [:]
        var all = Self.variants
        // The operator sets at both ends of the supported range, on one variant.
        for opset in [13, 21] {
            var v = Self.variants.first { $0.name == "plain learnable clamp 0.6" }!
            v.name += " opset \(opset)"
            v.opset = opset
            all.append(v)
        }
        // The self-ensemble: 8 branches (transposed ones on the non-square images, the U-Net's on its padded
        // input) and 2, on a plain network and a U-Net.
        for (base, count) in [
            ("plain learnable clamp 0.6", 8), ("unet adaptive clamp 0.6", 8), ("unet learnable no clamp", 2)
        ] {
            var v = Self.variants.first { $0.name == base }!
            v.name += " self-ensemble \(count)"
            v.selfEnsemble = count
            all.append(v)
        }
        for v in all {
            let ckpt = dir.file("\(v.name.replacingOccurrences(of: " ", with: "_")).safetensors")
            try Self.writeCheckpoint(v, to: ckpt)
            cases.append(
                try Self.exportAndRestore(
                    v.name, checkpoint: ckpt, images: images, opset: v.opset, eps: v.eps, clamp: v.clamp, dir: dir))
            byName[v.name] = v
        }
        let reports = try Self.check(cases, in: dir)
        #expect(reports.count == all.count)
        var worst: [String: Double] = [:]
        var worstReference = 0.0
        for report in reports {
            let name = report["name"] as? String ?? "?"
            guard let v = byName[name] else {
                Issue.record("unexpected case \(name)")
                continue
            }
            #expect(report["checker"] as? String == "ok", "\(name): onnx.checker: \(report["checker"] ?? "-")")
            #expect(report["opset"] as? Int == v.opset, "\(name)")
            let ops = Set(report["ops"] as? [String] ?? [])
            for op in [
                "Log", "ReduceMin", "ReduceMax", "Max", "Div", "Conv", "LeakyRelu", "Tanh", "Mul", "Exp", "Sub", "Relu"
            ] {
                #expect(ops.contains(op), "\(name): no \(op) in \(ops.sorted())")
            }
            #expect(
                ops.contains("Clip") == (v.clamp != nil), "\(name): Clip present iff the clamp is set: \(ops.sorted())")
            if v.model.contains("unet") {
                for op in ["Resize", "Concat", "Pad", "Slice"] { #expect(ops.contains(op), "\(name): no \(op)") }
            }
            #expect(ops.contains("GreaterOrEqual") == v.inputs.contains("clip_mask"), "\(name)")
            #expect(ops.contains("Sum") == (v.selfEnsemble > 1), "\(name): Sum iff a self-ensemble")
            #expect(ops.contains("Transpose") == (v.selfEnsemble == 8), "\(name): Transpose iff 8 branches")
            let inputs = report["inputs"] as? [[Any]]
            #expect(inputs?.first?.first as? String == "linear_rgb", "\(name)")
            #expect(
                (inputs?.first?.last as? [Any]).map { $0.map { "\($0)" } } == ["N", "3", "H", "W"],
                "\(name): \(inputs ?? [])")
            let metadata = report["metadata"] as? [String: String] ?? [:]
            #expect(metadata["hdrpatch.config"] == v.config, "\(name): the metadata carries the training config")
            #expect(metadata["hdrpatch.weights"] == "raw" && metadata["hdrpatch.step"] == "0", "\(name)")
            #expect(metadata["hdrpatch.self_ensemble"] == "\(v.selfEnsemble)", "\(name)")
            let images = report["images"] as? [[String: Any]] ?? []
            #expect(images.count == 4, "\(name)")
            for (k, image) in images.enumerated() {
                let rel = image["max_rel"] as? Double ?? .infinity
                #expect(rel <= Self.tolerance, "\(name), image \(k): onnxruntime vs restore \(rel) relative")
                #expect(image["finite"] as? Bool == true, "\(name), image \(k)")
                let mode = String(name.split(separator: " ")[1])
                worst[mode] = max(worst[mode] ?? 0, rel)
            }
            // The onnx package's reference evaluator (the specification's operators in numpy) on the three small
            // images agrees too: the graph does not rely on what onnxruntime merely tolerates.
            let reference = report["reference"] as? [Double] ?? []
            #expect(reference.count == 3, "\(name): reference evaluator ran on \(reference.count) images")
            for rel in reference {
                #expect(rel <= Self.tolerance, "\(name): reference evaluator vs restore \(rel) relative")
                worstReference = max(worstReference, rel)
            }
            let batch = (report["batches"] as? [[String: Any]])?.first?["max_rel"] as? Double ?? .infinity
            #expect(batch <= Self.tolerance, "\(name): a batch of 2 vs each restored alone: \(batch)")
            // The clamp is exercised: values sit at it with it, and residuals pass it without it.
            if let c = v.clamp {
                let clamped = images.compactMap { $0["clamped"] as? Double }.max() ?? 0
                #expect(clamped > 0.01, "\(name): only \(clamped) of the values at the clamp")
                let largest = images.compactMap { $0["max_abs_delta"] as? Double }.max() ?? .infinity
                #expect(largest <= c * (1 + 1e-4), "\(name): |delta| \(largest) past the clamp \(c)")
            } else {
                let largest = images.compactMap { $0["max_abs_delta"] as? Double }.max() ?? 0
                #expect(largest > 0.6, "\(name): residuals never pass 0.6 (\(largest)): the clamp would be untested")
            }
        }
        print(
            "export: worst relative error per head mode (onnxruntime vs restore): \(worst); "
                + "reference evaluator: \(worstReference)")
    }

    @Test func aTrainedCheckpointsEMAWeightsExportAndMatch() throws {
        let dir = ScratchDir()
        let config = try TrainCLITests.writeConfig(dir, steps: 12, checkpointEvery: 12, ema: 0.9)
        let run = dir.file("run")
        let t = try CLI.run(["train", "--config", config, "--run-dir", run], timeout: 240)
        #expect(t.status == 0, "\(t.stderr)")
        let ckpt = run + "/checkpoints/latest.safetensors"
        let images = Array(try Self.images(dir).prefix(3))
        // restore takes the EMA weights by default; --ema makes the export insist on them.
        let c = try Self.exportAndRestore(
            "trained ema", checkpoint: ckpt, images: images, opset: 17, eps: 1e-4, clamp: 8, dir: dir, extra: ["--ema"])
        let reports = try Self.check([c], in: dir)
        let report = try #require(reports.first)
        #expect(report["checker"] as? String == "ok")
        let metadata = report["metadata"] as? [String: String] ?? [:]
        #expect(metadata["hdrpatch.weights"] == "ema" && metadata["hdrpatch.step"] == "12")
        let stored = try SafetensorsFile.read(path: ckpt).metadata["config"]
        #expect(stored != nil && metadata["hdrpatch.config"] == stored)
        for image in report["images"] as? [[String: Any]] ?? [] {
            #expect((image["max_rel"] as? Double ?? .infinity) <= Self.tolerance)
        }
    }

    @Test func badRequestsAreOneLineErrorsAndLeaveNoFile() throws {
        let dir = ScratchDir()
        let ckpt = dir.file("ck.safetensors")
        try Self.writeCheckpoint(Self.variants[0], to: ckpt)
        let out = dir.file("m.onnx")
        let noEMA = try CLI.run(["export", "--checkpoint", ckpt, "--onnx", out, "--ema"])
        #expect(noEMA.status == 1 && noEMA.stderr.contains(ckpt) && noEMA.stderr.contains("EMA"), "\(noEMA.stderr)")
        let opset = try CLI.run(["export", "--checkpoint", ckpt, "--onnx", out, "--opset", "12"])
        #expect(opset.status != 0 && opset.stderr.contains("--opset 12: operator sets 13 to 21"), "\(opset.stderr)")
        let missing = try CLI.run(["export", "--checkpoint", dir.file("none.safetensors"), "--onnx", out])
        #expect(missing.status == 1 && missing.stderr.contains("none.safetensors"), "\(missing.stderr)")
        let badDir = try CLI.run(["export", "--checkpoint", ckpt, "--onnx", dir.file("no/such/dir/m.onnx")])
        #expect(badDir.status == 1 && badDir.stderr.contains("no/such/dir"), "\(badDir.stderr)")
        for r in [noEMA, opset, missing, badDir] {
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
