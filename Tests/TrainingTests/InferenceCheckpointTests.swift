import Config
import EXRIO
import Foundation
import Model
import Numerics
// Building a PatchModel from a checkpoint: config from the metadata or from --config, and the errors.
import RunFiles
import TestSupport
import Testing
import Training

struct InferenceCheckpointTests {
    static let model: JSONValue = .object(["arch": .string("plain"), "depth": .integer(2), "width": .integer(4)])
    static let residual: JSONValue = .object(["mode": .string("adaptive"), "k": .number(0.8), "clamp": .number(8)])

    static func trained() throws -> PatchModel {
        try PatchModel(
            model: .plain(depth: 2, width: 4), residual: ResidualConfig(mode: .adaptive(k: 0.8), clamp: 8),
            logNorm: LogNorm(eps: 1e-3, denomFloor: 0.05), stateSlots: 2, seed: 17)
    }

    @Test func configComesFromTheMetadataAndOtherSectionsAreIgnored() throws {
        let dir = ScratchDir()
        let path = dir.file("ckpt.safetensors")
        let source = try Self.trained()
        let config: JSONValue = .object([
            "model": Self.model, "residual": Self.residual,
            "data": .object(["eps": .number(1e-3), "denom_floor": .number(0.05), "patch_size": .integer(64)]),
            "loss": .array([.object(["type": .string("huber"), "weight": .number(2), "delta": .number(1)])]),
            "optim": .object(["type": .string("adamw"), "lr": .number(1e-3)])
        ])
        try WeightsFile.save(source.store, to: path, config: config, step: 42)
        let loaded = try CheckpointModel.load(checkpoint: path)
        #expect(loaded.model.model == .plain(depth: 2, width: 4))
        #expect(loaded.model.residual == ResidualConfig(mode: .adaptive(k: 0.8), clamp: 8))
        #expect(loaded.model.logNorm == LogNorm(eps: 1e-3, denomFloor: 0.05))
        #expect(loaded.loss?.terms.map(\.name) == ["huber"])
        #expect(loaded.step == 42 && loaded.configSource == .metadata)
        #expect(Array(loaded.model.store.values) == Array(source.store.values))
    }

    @Test func configComesFromAFileForWeightsThatCarryNone() throws {
        let dir = ScratchDir()
        let path = dir.file("torch.safetensors")
        let yaml = dir.file("model.yaml")
        let source = try Self.trained()
        try WeightsFile.save(source.store, to: path, metadata: [:])
        try "model:\n  arch: plain\n  depth: 2\n  width: 4\nresidual:\n  mode: adaptive\n  k: 0.8\n  clamp: 8\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        let loaded = try CheckpointModel.load(checkpoint: path, configPath: yaml)
        #expect(loaded.model.logNorm == LogNorm())
        #expect(loaded.loss == nil && loaded.step == nil && loaded.configSource == .file(yaml))
        #expect(Array(loaded.model.store.values) == Array(source.store.values))
    }

    /// model.inputs travels in the metadata: the loaded model sees the same planes and computes the same output.
    /// The same weights under a config without the extra planes do not load: the first layer's shape differs.
    @Test func inputPlanesComeBackFromTheMetadata() throws {
        let dir = ScratchDir()
        let path = dir.file("masked.safetensors")
        let inputs = NetworkInputs(planes: [.logNorm, .clipMask], clipLevel: 0.75)
        let source = try PatchModel(
            model: .plain(depth: 2, width: 4), inputs: inputs,
            residual: ResidualConfig(mode: .adaptive(k: 0.8), clamp: 8),
            logNorm: LogNorm(eps: 1e-3, denomFloor: 0.05), stateSlots: 0, seed: 17)
        guard case .object(var model) = Self.model else { return }
        model["inputs"] = .array([.string("log_norm"), .string("clip_mask")])
        model["clip_level"] = .number(0.75)
        try WeightsFile.save(
            source.store, to: path,
            config: .object([
                "model": .object(model), "residual": Self.residual,
                "data": .object(["eps": .number(1e-3), "denom_floor": .number(0.05)])
            ]), step: 1)
        let loaded = try CheckpointModel.load(checkpoint: path)
        #expect(loaded.model.inputs == inputs)
        let x = Tensor(shape: [1, 3, 4, 4], storage: (0..<48).map { Float($0) / 24 })
        #expect(Array(loaded.model.forward(x).output.storage) == Array(source.forward(x).output.storage))

        let yaml = dir.file("three-planes.yaml")
        try "model:\n  arch: plain\n  depth: 2\n  width: 4\nresidual:\n  mode: adaptive\n  k: 0.8\n  clamp: 8\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        do {
            _ = try CheckpointModel.load(checkpoint: path, configPath: yaml)
            Issue.record("loaded 6-channel weights into a 3-channel model")
        } catch {
            #expect("\(error)".contains("layers.0.weight"), "\(error)")
        }
    }

    @Test func noConfigAnywhereIsAnError() throws {
        let dir = ScratchDir()
        let path = dir.file("bare.safetensors")
        try WeightsFile.save(try Self.trained().store, to: path, metadata: ["step": "3"])
        #expect(throws: FileError(path: path, reason: "no config in the checkpoint metadata; pass --config")) {
            try CheckpointModel.load(checkpoint: path)
        }
    }

    @Test func mismatchedNamesAreAnErrorListingThem() throws {
        let dir = ScratchDir()
        let path = dir.file("deeper.safetensors")
        let yaml = dir.file("model.yaml")
        try WeightsFile.save(try Self.trained().store, to: path, metadata: [:])
        try "model:\n  arch: plain\n  depth: 3\n  width: 4\nresidual:\n  mode: adaptive\n  clamp: null\n"
            .write(toFile: yaml, atomically: true, encoding: .utf8)
        do {
            _ = try CheckpointModel.load(checkpoint: path, configPath: yaml)
            Issue.record("loaded a checkpoint whose names do not match")
        } catch let e as FileError {
            #expect(
                e.description.hasPrefix("\(path): parameters do not match the model: missing layers.2.weight"), "\(e)")
        }
    }

    @Test func aBadConfigSectionIsAConfigErrorNamingTheKey() throws {
        let dir = ScratchDir()
        let path = dir.file("ckpt.safetensors")
        try WeightsFile.save(try Self.trained().store, to: path, config: .object(["model": Self.model]), step: 0)
        do {
            _ = try CheckpointModel.load(checkpoint: path)
            Issue.record("loaded without a residual section")
        } catch let e as ConfigError {
            #expect(e.keyPath == "residual" && e.file == "\(path) (metadata config)", "\(e)")
        }
    }
}
