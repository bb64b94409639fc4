// The training loop on the committed sample set: it learns, it resumes bit for bit, it survives NaN.
/// Collects everything a run writes, in memory.
import Config
import Data
import Foundation
import Losses
import Model
import Numerics
import RunFiles
import Synchronization
import TestSupport
import Testing

@testable import Training

final class MemorySink: RunSink, @unchecked Sendable {
    var metrics: [MetricsRecord] = []
    var monitors: [MonitorRecord] = []
    var incidents: [Incident] = []
    var scalarCount = 0
    func metrics(_ record: MetricsRecord) throws { metrics.append(record) }
    func monitor(_ record: MonitorRecord) throws { monitors.append(record) }
    func incident(_ incident: Incident) throws { incidents.append(incident) }
    func scalars(step: Int, _ values: [String: Double], wallTime: Double) throws { scalarCount += 1 }
    var trainLosses: [Double] { metrics.filter { $0.kind == "train" }.map { $0.loss! } }
}

struct TrainerTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/sample/train").path

    /// The EMA of `model`'s weights with `decay` (nil: none).
    static func ema(_ decay: Double?, _ model: PatchModel) -> WeightEMA? {
        decay.map { WeightEMA(decay: $0, count: model.store.count) }
    }

    static func makeTrainer(
        dir: ScratchDir, sink: RunSink, steps: Int, lossYAML: String = "loss:\n  - {type: huber, weight: 2.0}",
        data: String = sample, ema: Double? = nil
    ) throws -> Trainer {
        let model = try PatchModel(
            model: .plain(depth: 2, width: 4),
            residual: ResidualConfig(mode: .learnable(initial: 6), clamp: 8),
            logNorm: LogNorm(), stateSlots: 2, seed: 1)
        let config = LoaderConfig(patchSize: 32, batchSize: 4, seed: 3, workers: 1, augment: .all)
        let dataset = try PairedDataset(root: data, config: config)
        let loss = try CompositeLoss.parse(lossYAML)
        return Trainer(
            step: TrainingStep(
                model: model, loss: loss, optimizer: AdamW(lr: 3e-3), schedule: CosineSchedule(warmupSteps: 2),
                totalSteps: steps, ema: Self.ema(ema, model)),
            settings: TrainerSettings(logEvery: 1, valEvery: 1000, checkpointEvery: 5),
            config: .object(["name": .string("test")]), checkpointDirectory: dir.path, sink: sink,
            makeLoader: { epoch in try PrefetchLoader(dataset: dataset, config: config, startEpoch: epoch) },
            validate: nil)
    }

    @Test func lossFallsOnTheSampleSet() throws {
        let dir = ScratchDir()
        let sink = MemorySink()
        let outcome = try Self.makeTrainer(dir: dir, sink: sink, steps: 30).run(resume: false)
        #expect(outcome.end == .finished && outcome.step == 30)
        let l = sink.trainLosses
        #expect(l.count == 30 && sink.monitors.count == 30)
        let first = l.prefix(5).reduce(0, +) / 5
        let last = l.suffix(5).reduce(0, +) / 5
        #expect(last < first, "loss \(first) -> \(last)")
        #expect(CheckpointPair(directory: dir.path, name: "latest").exists)
    }

    /// Interrupted after 7 steps (not a checkpoint boundary: the stop request saves), resumed to 20:
    /// every loss after the resume equals the uninterrupted run's, bit for bit, and so do the final weights
    /// and (with `train.ema`) the EMA of the weights, in memory and in the latest checkpoint.
    @Test(arguments: [nil, 0.9] as [Double?]) func resumeIsBitExact(ema: Double?) throws {
        let full = MemorySink()
        let a = ScratchDir()
        let t0 = try Self.makeTrainer(dir: a, sink: full, steps: 20, ema: ema)
        _ = try t0.run(resume: false)

        let b = ScratchDir()
        let first = MemorySink()
        let t1 = try Self.makeTrainer(dir: b, sink: first, steps: 20, ema: ema)
        t1.progress = { p in if p.step == 7 { t1.requestStop() } }
        let o1 = try t1.run(resume: false)
        #expect(o1.end == .interrupted && o1.step == 7)
        let second = MemorySink()
        let t2 = try Self.makeTrainer(dir: b, sink: second, steps: 20, ema: ema)
        let o2 = try t2.run(resume: true)
        #expect(o2.end == .finished && o2.step == 20)
        #expect(first.trainLosses + second.trainLosses == full.trainLosses)
        #expect(Array(full.monitors.map(\.gradNorm).suffix(13)) == second.monitors.map(\.gradNorm))
        #expect(bits(t2.model.store.values) == bits(t0.model.store.values))
        #expect((t2.ema == nil) == (ema == nil))
        if let e0 = t0.ema, let e2 = t2.ema {
            #expect(bits(e2.values) == bits(e0.values))
            #expect(bits(e2.values) != bits(t2.model.store.values), "the average is not the weights")
        }
        let ca = try SafetensorsFile.read(path: RunDirectory.latest(in: a.path).weightsPath)
        let cb = try SafetensorsFile.read(path: RunDirectory.latest(in: b.path).weightsPath)
        #expect(ca.tensors.map(\.name) == cb.tensors.map(\.name))
        #expect(ca.tensors.contains { $0.name.hasPrefix("ema.") } == (ema != nil))
        for t in ca.tensors {
            #expect(ca.floats(t).map(\.bitPattern) == cb.floats(cb.tensor(named: t.name)!).map(\.bitPattern))
        }
    }

    /// A loss term that is NaN on the calls whose index is in `poisoned` (shared counter: one run at a time).
    final class PoisonLoss: ConfigurableLossTerm, @unchecked Sendable {
        static let type = "poison"
        static let keys: [String] = []
        let domain = LossDomain.delta
        var parameters: [String: JSONValue] { [:] }
        let poisoned: (Int) -> Bool
        private let calls = Mutex(0)
        init(poisoned: @escaping (Int) -> Bool) { self.poisoned = poisoned }
        required init(config: ConfigMapping) throws { poisoned = { _ in false } }
        func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
            let k = calls.withLock { c in
                defer { c += 1 }
                return c
            }
            return poisoned(k) ? .nan : 0
        }
    }

    static func poisonedTrainer(
        dir: ScratchDir, sink: MemorySink, steps: Int, policy: MonitorConfig.OnNonFinite, ema: Double? = nil,
        poisoned: @escaping (Int) -> Bool
    ) throws -> Trainer {
        let model = try PatchModel(
            model: .plain(depth: 2, width: 4), residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: 8),
            logNorm: LogNorm(), stateSlots: 2, seed: 1)
        let config = LoaderConfig(patchSize: 32, batchSize: 4, seed: 3, workers: 0)
        let dataset = try PairedDataset(root: sample, config: config)
        let loss = CompositeLoss([
            WeightedLossTerm(weight: 2, term: HuberLoss()),
            WeightedLossTerm(weight: 1, term: PoisonLoss(poisoned: poisoned))
        ])
        return Trainer(
            step: TrainingStep(
                model: model, loss: loss, optimizer: AdamW(lr: 1e-3), totalSteps: steps,
                monitor: MonitorConfig(onNonFinite: policy), ema: Self.ema(ema, model)),
            settings: TrainerSettings(logEvery: 1, valEvery: 1000, checkpointEvery: 1000),
            config: .object([:]), checkpointDirectory: dir.path, sink: sink,
            makeLoader: { epoch in try PrefetchLoader(dataset: dataset, config: config, startEpoch: epoch) },
            validate: nil)
    }

    @Test func nonFiniteLossIsSkippedRecordedAndNeverReachesTheWeights() throws {
        let dir = ScratchDir()
        let sink = MemorySink()
        let t = try Self.poisonedTrainer(
            dir: dir, sink: sink, steps: 12, policy: .skip(max: 3), poisoned: { $0 % 4 == 1 })
        let outcome = try t.run(resume: false)
        #expect(outcome.end == .finished && outcome.skippedSteps == 3)
        let bad = sink.incidents.filter { $0.kind == .nonfiniteLoss }
        #expect(bad.map(\.step) == [2, 6, 10])
        #expect(bad.allSatisfy { $0.detail.hasPrefix("terms: poison; files: ") && $0.file.hasSuffix(".exr") })
        #expect(sink.monitors.filter(\.skipped).map(\.step) == [2, 6, 10])
        #expect(t.model.store.values.allSatisfy { $0.isFinite })
        #expect(sink.trainLosses.count == 12 && sink.trainLosses.allSatisfy { $0.isFinite })
    }

    /// The EMA moves after every applied update and stands still on a skipped one: recomputed here from the
    /// weights after each step (`ema = 0.9 ema + 0.1 w` in float32 for the steps that updated, nothing for the
    /// skipped ones), it matches the trainer's bit for bit; updating on every step would not.
    @Test func theEMASkipsTheStepsThatDidNotUpdate() throws {
        let dir = ScratchDir()
        let sink = MemorySink()
        let t = try Self.poisonedTrainer(
            dir: dir, sink: sink, steps: 12, policy: .skip(max: 3), ema: 0.9, poisoned: { $0 % 4 == 1 })
        let store = t.model.store
        var weights: [[Float]] = []
        t.progress = { _ in weights.append(Array(store.values)) }
        var expected = Array(store.values)
        var everyStep = expected
        _ = try t.run(resume: false)
        #expect(weights.count == 12)
        let skipped = Set(sink.monitors.filter(\.skipped).map(\.step))
        #expect(skipped == [2, 6, 10])
        let (keep, take) = (Float(0.9), Float(0.1))
        for (k, w) in weights.enumerated() {
            for i in w.indices { everyStep[i] = keep * everyStep[i] + take * w[i] }
            if skipped.contains(k + 1) {
                #expect(w == weights[k - 1], "a skipped step leaves the weights as they were")
                continue
            }
            for i in w.indices { expected[i] = keep * expected[i] + take * w[i] }
        }
        #expect(bits(t.ema!.values) == expected.map(\.bitPattern))
        #expect(expected.map(\.bitPattern) != everyStep.map(\.bitPattern))
    }

    /// With `train.ema` validation scores the averaged weights (and only while it runs: the trained weights are
    /// back afterwards), the records say `weights: ema`, and `best` holds both sets with `validated: ema`.
    @Test func validationAndBestUseTheEMAWeights() throws {
        for ema in [nil, 0.9] as [Double?] {
            let dir = ScratchDir()
            let sink = MemorySink()
            let seen = Mutex<[[Float]]>([])
            let t = try Self.validatedTrainer(
                dir: dir, sink: sink, steps: 10, stop: false, ema: ema, psnr: { Double(30 + $0) },
                seen: { store in seen.withLock { $0.append(Array(store.values)) } })
            _ = try t.run(resume: false)
            let vals = sink.metrics.filter { $0.kind == "val" }
            #expect(vals.map(\.step) == [5, 10])
            #expect(vals.allSatisfy { $0.weights == (ema == nil ? "raw" : "ema") })
            let last = seen.withLock { $0.last! }
            let averaged = t.ema.map { Array($0.values) }
            #expect(last.map(\.bitPattern) == (averaged ?? Array(t.model.store.values)).map(\.bitPattern))
            let best = try SafetensorsFile.read(path: RunDirectory.best(in: dir.path))
            #expect(best.metadata["validated"] == (ema == nil ? "raw" : "ema") && best.metadata["step"] == "10")
            #expect(best.metadata["ema_decay"] == ema.map { String($0) })
            let raw = try ParameterStore(layout: t.model.store.entries.map { ($0.name, $0.shape) })
            try WeightsFile.load(into: raw, from: RunDirectory.best(in: dir.path), weights: .raw)
            #expect(bits(raw.values) == bits(t.model.store.values))
            if let averaged {
                #expect(last != Array(t.model.store.values))
                let e = try ParameterStore(layout: t.model.store.entries.map { ($0.name, $0.shape) })
                try WeightsFile.load(into: e, from: RunDirectory.best(in: dir.path), weights: .ema)
                #expect(bits(e.values) == averaged.map(\.bitPattern))
            }
        }
    }

    @Test func tooManyNonFiniteStepsInARowStopTheRun() throws {
        let dir = ScratchDir()
        let sink = MemorySink()
        let t = try Self.poisonedTrainer(dir: dir, sink: sink, steps: 20, policy: .skip(max: 3), poisoned: { $0 >= 4 })
        let outcome = try t.run(resume: false)
        #expect(outcome.end == .stoppedOnNonfinite("3 non-finite step(s) in a row, the last at step 7"))
        let stopAtOnce = try Self.poisonedTrainer(
            dir: ScratchDir(), sink: MemorySink(), steps: 20, policy: .stop, poisoned: { $0 == 2 })
        #expect(
            try stopAtOnce.run(resume: false).end
                == .stoppedOnNonfinite("1 non-finite step(s) in a row, the last at step 3"))
    }

    @Test func zeroInitialisedOutputMakesTheUntrainedModelTheIdentity() throws {
        let x = Tensor(shape: [1, 3, 8, 8], storage: (0..<192).map { Float($0 % 17) * 0.37 + 0.01 })
        for zero in [true, false] {
            let m = try PatchModel(
                model: .plain(depth: 3, width: 4),
                residual: ResidualConfig(mode: .fixedCap(cap: 16, alpha: 1.2), clamp: nil),
                logNorm: LogNorm(), stateSlots: 0, seed: 2, zeroOutputLayer: zero)
            let pass = m.forward(x)
            let maxDelta = pass.delta.storage.map { abs($0) }.max()!
            if zero {
                #expect(maxDelta == 0)
                for i in x.storage.indices {
                    #expect(abs(pass.output.storage[i] - x.storage[i]) <= 1e-6 * max(1, x.storage[i]))
                }
            } else {
                #expect(maxDelta > 0.01, "PyTorch's default init gives a random initial residual")
            }
        }
    }

    /// A trainer validating every 5 steps, whose validation reports `psnr(k)` dB for the model (k = 0, 1, ...)
    /// against an identity of 30 dB.
    static func validatedTrainer(
        dir: ScratchDir, sink: MemorySink, steps: Int, stop: Bool, ema: Double? = nil,
        psnr: @escaping @Sendable (Int) -> Double, seen: @escaping (ParameterStore) -> Void = { _ in }
    ) throws -> Trainer {
        let model = try PatchModel(
            model: .plain(depth: 2, width: 4), residual: ResidualConfig(mode: .learnable(initial: 6), clamp: 8),
            logNorm: LogNorm(), stateSlots: 2, seed: 1)
        let config = LoaderConfig(patchSize: 32, batchSize: 4, seed: 3, workers: 0)
        let dataset = try PairedDataset(root: sample, config: config)
        let calls = Mutex(0)
        func metrics(_ p: Double) -> EvalMetrics {
            EvalMetrics(
                psnrMu: p, pu21Psnr: p, logL1: 0.1, terms: [:], loss: 0.1, overflowPixels: 0, overflowIncidents: 0,
                patches: 4)
        }
        return Trainer(
            step: TrainingStep(
                model: model, loss: try CompositeLoss.parse("loss:\n  - {type: huber, weight: 2.0}"),
                optimizer: AdamW(lr: 1e-3), totalSteps: steps,
                monitor: MonitorConfig(divergenceMarginDB: 10, stopOnDivergence: stop), ema: Self.ema(ema, model)),
            settings: TrainerSettings(logEvery: 5, valEvery: 5, checkpointEvery: 1000),
            config: .object([:]), checkpointDirectory: dir.path, sink: sink,
            makeLoader: { epoch in try PrefetchLoader(dataset: dataset, config: config, startEpoch: epoch) },
            validate: { m in
                seen(m.store)
                let k = calls.withLock { c in
                    defer { c += 1 }
                    return c
                }
                return (metrics(psnr(k)), metrics(30))
            })
    }

    @Test func aValidationFarBelowTheIdentityIsADivergenceThatStopsTheRunWhenAsked() throws {
        // 31, 25 (5 dB below: within the 10 dB margin), 19 (11 dB below: diverged at step 15), 35.
        let curve: @Sendable (Int) -> Double = { [31, 25, 19, 35][min($0, 3)] }
        for stop in [false, true] {
            let dir = ScratchDir()
            let sink = MemorySink()
            let outcome = try Self.validatedTrainer(dir: dir, sink: sink, steps: 20, stop: stop, psnr: curve)
                .run(resume: false)
            let records = sink.metrics.filter { $0.kind == "diverged" }
            #expect(records.count == 1 && records.first?.step == 15, "stop \(stop)")
            #expect(records.first?.reason == "validation PSNR-mu 19.00 dB, 11.00 dB below the identity (margin 10 dB)")
            #expect(records.first?.stopped == (stop ? true : nil))
            #expect(outcome.divergedAt == 15)
            if stop {
                #expect(outcome.step == 15)
                #expect(outcome.end == .stoppedOnDivergence("diverged at step 15: " + records.first!.reason!))
                // The latest checkpoint is where it stopped.
                #expect(try RunDirectory.latest(in: dir.path).exists)
            } else {
                #expect(outcome.end == .finished && outcome.step == 20)
                #expect(sink.metrics.filter { $0.kind == "val" }.map(\.step) == [5, 10, 15, 20])
            }
        }
    }

    @Test func aNonFiniteValidationIsADivergence() throws {
        let dir = ScratchDir()
        let sink = MemorySink()
        let outcome = try Self.validatedTrainer(
            dir: dir, sink: sink, steps: 10, stop: true, psnr: { $0 == 0 ? 30 : .nan }
        )
        .run(resume: false)
        #expect(outcome.divergedAt == 10 && outcome.step == 10)
        #expect(sink.metrics.last?.reason == "validation not finite (PSNR-mu nan, loss 0.1)")
    }

    @Test func aNonFiniteTrainingLossIsADivergenceAndStopsWhenAsked() throws {
        let dir = ScratchDir()
        let sink = MemorySink()
        let t = try Self.poisonedTrainer(dir: dir, sink: sink, steps: 12, policy: .skip(max: 3), poisoned: { $0 == 3 })
        _ = try t.run(resume: false)
        #expect(sink.metrics.filter { $0.kind == "diverged" }.map(\.step) == [4])
        #expect(sink.metrics.first { $0.kind == "diverged" }?.reason == "non-finite training loss (poison)")
    }
}
