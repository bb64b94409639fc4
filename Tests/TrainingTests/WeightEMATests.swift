// The EMA of the weights: the update rule on hand-computed values, the exchange validation uses, and the
// checkpoint layout (raw weights under their names, the average under `ema.`, every load saying which).
import Config
import EXRIO
import Foundation
import Numerics
import RunFiles
import TestSupport
import Testing

@testable import Training

@Suite struct WeightEMATests {
    /// Two parameters, (3) and a scalar, holding `values`.
    static func store(_ values: [Float]) throws -> ParameterStore {
        let s = try ParameterStore(layout: [("layers.0.weight", [3]), ("head.scale", [])], stateSlots: 2)
        for (i, v) in values.enumerated() { s.values[i] = v }
        return s
    }

    /// decay 0.75 on dyadic values, so every step is exact: ema = 0.75 ema + 0.25 w.
    @Test func updateFollowsTheHandComputedSequence() throws {
        let s = try Self.store([1, -2, 0.5, 8])
        let ema = WeightEMA(decay: 0.75, count: s.count)
        ema.reset(to: s)
        #expect(Array(ema.values) == [1, -2, 0.5, 8])
        for (i, v) in [5, 2, 0.5, 0].enumerated() { s.values[i] = Float(v) }
        ema.update(from: s)
        // 0.75 * 1 + 0.25 * 5 = 2, 0.75 * -2 + 0.25 * 2 = -1, 0.5, 0.75 * 8 = 6
        #expect(Array(ema.values) == [2, -1, 0.5, 6])
        for (i, v) in [-6, 3, 1.5, 4].enumerated() { s.values[i] = Float(v) }
        ema.update(from: s)
        // 1.5 - 1.5 = 0, -0.75 + 0.75 = 0, 0.375 + 0.375 = 0.75, 4.5 + 1 = 5.5
        #expect(Array(ema.values) == [0, 0, 0.75, 5.5])
        #expect(Array(s.values) == [-6, 3, 1.5, 4], "the weights are read, not changed")
    }

    /// decay 0.999 from 1 towards a constant 2: after n updates the exact value is 2 - 0.999^n; float32 stays
    /// within a few ulps of it over 1000 updates.
    @Test func aLongRunApproachesTheClosedForm() throws {
        let s = try Self.store([1, 1, 1, 1])
        let ema = WeightEMA(decay: 0.999, count: s.count)
        ema.reset(to: s)
        s.values.update(repeating: 2)
        for _ in 0..<1000 { ema.update(from: s) }
        let exact = 2 - pow(0.999, 1000.0)  // 1.63230...
        for v in ema.values { #expect(abs(Double(v) - exact) < 1e-5, "\(v) vs \(exact)") }
    }

    @Test func theAveragedWeightsAreExchangedInAndBackBitForBit() throws {
        let s = try Self.store([0.1, 0.2, 0.3, 6])
        let ema = WeightEMA(decay: 0.5, count: s.count)
        ema.reset(to: s)
        for (i, v) in [0.5, -0.2, 0.7, 6.5].enumerated() { s.values[i] = Float(v) }
        ema.update(from: s)
        let raw = Array(s.values)
        let averaged = Array(ema.values)
        let inside = ema.withAveragedWeights(in: s) { Array(s.values) }
        #expect(inside == averaged)
        #expect(Array(s.values).map(\.bitPattern) == raw.map(\.bitPattern))
        #expect(Array(ema.values).map(\.bitPattern) == averaged.map(\.bitPattern))
    }

    /// Raw weights under their PyTorch names, then the average under `ema.`; `ema_decay` in the metadata.
    @Test func aCheckpointHoldsBothSetsUnderDistinctNames() throws {
        let dir = ScratchDir()
        let path = dir.file("both.safetensors")
        let s = try Self.store([1, 2, 3, 4])
        let ema = WeightEMA(decay: 0.5, count: s.count)
        ema.reset(to: s)
        s.values.update(repeating: 3)
        ema.update(from: s)  // 2, 2.5, 3, 3.5
        try WeightsFile.save(s, to: path, config: .object([:]), step: 9, ema: ema)
        let file = try SafetensorsFile.read(path: path)
        #expect(
            file.tensors.map(\.name) == ["layers.0.weight", "head.scale", "ema.layers.0.weight", "ema.head.scale"])
        #expect(file.metadata["ema_decay"] == "0.5" && file.metadata["step"] == "9")

        let raw = try Self.store([0, 0, 0, 0])
        try WeightsFile.load(into: raw, from: path, weights: .raw)
        #expect(Array(raw.values) == [3, 3, 3, 3])
        let averaged = try Self.store([0, 0, 0, 0])
        try WeightsFile.load(into: averaged, from: path, weights: .ema)
        #expect(Array(averaged.values) == [2, 2.5, 3, 3.5])
        // The resume load: raw weights into the store, the average into the EMA buffer.
        let again = WeightEMA(decay: 0.5, count: s.count)
        let resumed = try Self.store([0, 0, 0, 0])
        try WeightsFile.load(into: resumed, from: path, weights: .raw, ema: again)
        #expect(Array(resumed.values) == [3, 3, 3, 3] && Array(again.values) == [2, 2.5, 3, 3.5])
    }

    @Test func askingForEMAWeightsFromAFileWithoutThemNamesTheFile() throws {
        let dir = ScratchDir()
        let path = dir.file("raw.safetensors")
        try WeightsFile.save(try Self.store([1, 2, 3, 4]), to: path, config: .object([:]), step: 1)
        #expect(try WeightsFile.holdsEMA(path: path) == false)
        let target = try Self.store([7, 7, 7, 7])
        let error = FileError(path: path, reason: "holds no EMA weights (no 'ema.' tensors), only the raw ones")
        #expect(throws: error) { try WeightsFile.load(into: target, from: path, weights: .ema) }
        let ema = WeightEMA(decay: 0.5, count: target.count)
        #expect(throws: error) { try WeightsFile.load(into: target, from: path, weights: .raw, ema: ema) }
        #expect(Array(target.values) == [7, 7, 7, 7], "nothing changed")
        #expect(throws: error) { try CheckpointModel.load(checkpoint: path, weights: .ema) }
    }

    /// A file with only some of the `ema.` tensors is a mismatch, not a partial average.
    @Test func anIncompleteEMASetIsRefused() throws {
        let dir = ScratchDir()
        let path = dir.file("partial.safetensors")
        let values: [Float] = [1, 2, 3, 4]
        try values.withUnsafeBufferPointer { v in
            try Safetensors.write(
                [
                    .init(name: "layers.0.weight", shape: [3], values: UnsafeBufferPointer(rebasing: v[0..<3])),
                    .init(name: "head.scale", shape: [], values: UnsafeBufferPointer(rebasing: v[3..<4])),
                    .init(name: "ema.layers.0.weight", shape: [3], values: UnsafeBufferPointer(rebasing: v[0..<3]))
                ], metadata: [:], to: path)
        }
        let target = try Self.store([0, 0, 0, 0])
        #expect(
            throws: FileError(path: path, reason: "parameters do not match the model: missing ema.head.scale []")
        ) { try WeightsFile.load(into: target, from: path, weights: .raw) }
    }

    @Test func initFromWeightsMustBeSaidForAFileHoldingBoth() throws {
        var loop = TrainLoopConfig(steps: 1, gradClip: nil, initFrom: "w.safetensors")
        #expect(try loop.initWeights(fileHoldsEMA: false) == .raw)
        #expect(
            throws: ConfigError(
                keyPath: "train.init_from_weights",
                reason: "required: 'w.safetensors' holds raw and EMA weights (write raw or ema)")
        ) { try loop.initWeights(fileHoldsEMA: true) }
        loop.initFromWeights = .ema
        #expect(try loop.initWeights(fileHoldsEMA: true) == .ema)
        #expect(
            throws: ConfigError(
                keyPath: "train.init_from_weights", reason: "'w.safetensors' holds no EMA weights, only the raw ones")
        ) { try loop.initWeights(fileHoldsEMA: false) }
        loop.initFromWeights = .raw
        #expect(try loop.initWeights(fileHoldsEMA: true) == .raw)
    }
}
