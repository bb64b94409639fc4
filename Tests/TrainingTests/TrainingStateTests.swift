import Config
import EXRIO
import Foundation
import Numerics
// The resume file: optimizer slots, counters and the caller's resume dictionary restore a run bit for bit.
import RunFiles
import TestSupport
import Testing

@testable import Training

@Suite struct TrainingStateTests {
    /// Runs updates first..<last with the schedule's lr, clipping at 0.5 (so clipping is exercised).
    func run(_ s: ParameterStore, _ opt: any ConfigurableOptimizer, _ steps: Range<Int>) {
        let schedule = CosineSchedule(warmupSteps: 3, minLR: 1e-4)
        for t in steps {
            setGrads(s, step: t)
            clipGradNorm(s, maxNorm: 0.5)
            opt.step(s, lr: schedule.lr(step: t, base: opt.baseLR, totalSteps: 10))
        }
    }

    func resumeMatchesUninterrupted(_ make: () -> any ConfigurableOptimizer) throws {
        let dir = ScratchDir()
        let weights = dir.file("ckpt.safetensors")
        let state = WeightsFile.statePath(forWeights: weights)
        let straight = make()
        let a = try smallStore(stateSlots: straight.stateSlots)
        run(a, straight, 0..<10)

        let first = make()
        let b = try smallStore(stateSlots: first.stateSlots)
        run(b, first, 0..<5)
        try WeightsFile.save(b, to: weights, config: .object([:]), step: 5)
        let resume = ["rng": "123456789", "loader.epoch": "2"]
        try TrainingStateFile.save(
            TrainingState(
                optimizerType: type(of: first).type, optimizerStep: first.stepCount,
                scheduleStep: 5, resume: resume), store: b, optimizer: first, to: state)

        let second = make()
        let c = try ParameterStore(layout: b.entries.map { ($0.name, $0.shape) }, stateSlots: second.stateSlots)
        try WeightsFile.load(into: c, from: weights, weights: .raw)
        let restored = try TrainingStateFile.load(into: c, optimizer: second, from: state)
        #expect(
            restored
                == TrainingState(optimizerType: type(of: first).type, optimizerStep: 5, scheduleStep: 5, resume: resume)
        )
        #expect(second.stepCount == 5)
        run(c, second, restored.scheduleStep..<10)

        #expect(bits(c.values) == bits(a.values))
        for k in 0..<a.stateSlots { #expect(bits(c.state(k)) == bits(a.state(k))) }
    }

    @Test func adamWResumesBitForBit() throws {
        try resumeMatchesUninterrupted { AdamW(lr: 0.01, weightDecay: 0.05) }
    }

    @Test func sgdWithMomentumResumesBitForBit() throws {
        try resumeMatchesUninterrupted { SGD(lr: 0.05, momentum: 0.9, weightDecay: 0.01) }
    }

    @Test func plainSGDStateHasNoTensors() throws {
        let dir = ScratchDir()
        let path = dir.file("s.state.safetensors")
        let s = try smallStore(stateSlots: 0)
        let opt = SGD(lr: 0.1)
        try TrainingStateFile.save(
            TrainingState(optimizerType: "sgd", optimizerStep: 0, scheduleStep: 0), store: s,
            optimizer: opt, to: path)
        #expect(try SafetensorsFile.read(path: path).tensors.isEmpty)
    }

    @Test func slotTensorNamesAndRefusals() throws {
        let dir = ScratchDir()
        let path = dir.file("s.state.safetensors")
        let s = try smallStore(stateSlots: 2)
        let opt = AdamW(lr: 0.1)
        try TrainingStateFile.save(
            TrainingState(optimizerType: "adamw", optimizerStep: 7, scheduleStep: 7), store: s,
            optimizer: opt, to: path)
        let f = try SafetensorsFile.read(path: path)
        #expect(
            f.tensors.map(\.name) == [
                "exp_avg.layers.0.weight", "exp_avg.layers.0.bias",
                "exp_avg_sq.layers.0.weight", "exp_avg_sq.layers.0.bias"
            ])
        #expect(
            f.metadata == [
                "format": "hdrpatch-state-1", "optimizer": "adamw", "optimizer_step": "7", "schedule_step": "7"
            ])
        let sgd = SGD(lr: 0.1, momentum: 0.9)
        #expect(throws: FileError(path: path, reason: "optimizer state of 'adamw', the run uses 'sgd'")) {
            try TrainingStateFile.load(into: try smallStore(stateSlots: 1), optimizer: sgd, from: path)
        }
        let bigger = try ParameterStore(layout: [("layers.0.weight", [2, 3])], stateSlots: 2)
        #expect(
            throws: FileError(
                path: path,
                reason:
                    "optimizer state tensors do not match the model: unexpected exp_avg.layers.0.bias [4], exp_avg_sq.layers.0.bias [4]"
            )
        ) {
            try TrainingStateFile.load(into: bigger, optimizer: opt, from: path)
        }
    }
}
