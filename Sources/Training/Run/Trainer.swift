// The training loop over TrainingStep: records, non-finite handling, validation, checkpoints and exact resume.
import Cluster
import Config
import Data
import Dispatch
import Losses
import Model
import Numerics
import RunFiles
import Synchronization

/// How often the loop logs, validates and checkpoints. What a step does (its length, clipping, monitor and its
/// policies, EMA) is the `TrainingStep`'s.
package struct TrainerSettings: Sendable, Equatable {
    package var logEvery: Int
    package var valEvery: Int
    package var checkpointEvery: Int
    /// The compute threads (`Parallel.threads`) of the training steps, at most the count the loop found, which
    /// validation runs with. nil: that count for both.
    package var stepThreads: Int?

    package init(logEvery: Int = 10, valEvery: Int = 100, checkpointEvery: Int = 200, stepThreads: Int? = nil) {
        self.logEvery = logEvery
        self.valEvery = valEvery
        self.checkpointEvery = checkpointEvery
        self.stepThreads = stepThreads
    }
}

/// What the progress display gets after every step.
package struct TrainingProgress: Sendable {
    package var step: Int
    package var steps: Int
    package var loss: Double
    package var stepsPerSecond: Double
    package var overflowIncidents: Int
    package var skipped: Int
}

/// How a run ended.
package struct TrainingOutcome: Sendable, Equatable {
    package enum End: Sendable, Equatable {
        case finished, interrupted
        case stoppedOnNonfinite(String)
        /// monitor.on_divergence: stop, with the reason.
        case stoppedOnDivergence(String)
    }
    package var end: End
    package var step: Int
    package var bestPsnrMu: Double?
    package var lastValidation: MetricsRecord?
    package var overflowIncidents: Int
    package var skippedSteps: Int
    /// The step the run diverged at (also in metrics.jsonl as a "diverged" record), nil when it did not.
    package var divergedAt: Int? = nil
}

package final class Trainer: @unchecked Sendable {
    package let settings: TrainerSettings
    /// The step the loop runs (built once, by `TrainConfig.makeTrainingStep` for a run): its model, loss,
    /// optimizer, schedule, length (`totalSteps`), monitor and EMA.
    package let trainingStep: TrainingStep
    /// The step's `monitor:` section: thresholds, and the non-finite and divergence policies the loop applies.
    package let monitor: MonitorConfig
    package var model: PatchModel { trainingStep.model }
    package var optimizer: any ConfigurableOptimizer { trainingStep.optimizer }
    package var schedule: any LRSchedule { trainingStep.schedule }
    /// The EMA of the weights (`train.ema`), nil for none: what validation and `best` use.
    package var ema: WeightEMA? { trainingStep.ema }
    package var steps: Int { trainingStep.totalSteps }
    package let config: JSONValue
    package let checkpointDirectory: String
    private let makeLoader: @Sendable (_ startEpoch: Int) throws -> PrefetchLoader
    private let validate: ((PatchModel) throws -> (model: EvalMetrics, identity: EvalMetrics))?
    private let sink: RunSink
    private let stop = Atomic<Bool>(false)
    package var progress: ((TrainingProgress) -> Void)?
    /// Data-parallel training: the loader gives this rank's share of every global batch, the step combines the
    /// shares, and only rank 0 writes checkpoints (the caller gives the other ranks a sink that writes nothing,
    /// and a `validate` that reduces over the ranks). nil for a single process.
    package let dataParallel: DataParallel?
    private var isRoot: Bool { dataParallel?.group.isRoot ?? true }

    /// `step` must have a monitor (`step.monitor`): the loop records every step.
    package init(
        step: TrainingStep, settings: TrainerSettings, config: JSONValue, checkpointDirectory: String, sink: RunSink,
        makeLoader: @escaping @Sendable (_ startEpoch: Int) throws -> PrefetchLoader,
        validate: ((PatchModel) throws -> (model: EvalMetrics, identity: EvalMetrics))?,
        dataParallel: DataParallel? = nil
    ) {
        guard let monitor = step.monitor else { preconditionFailure("Trainer: the step has no monitor") }
        trainingStep = step
        self.monitor = monitor
        self.dataParallel = dataParallel
        self.settings = settings
        self.config = config
        self.checkpointDirectory = checkpointDirectory
        self.sink = sink
        self.makeLoader = makeLoader
        self.validate = validate
        step.dataParallel = dataParallel
    }

    /// Which weights validation scores and `best` is chosen by: `ema` with an EMA, else `raw`.
    package var validatedWeights: WeightsFile.WeightSet { ema == nil ? .raw : .ema }

    /// Asks the loop to save a checkpoint and return after the current step (SIGINT handler).
    package func requestStop() { stop.store(true, ordering: .relaxed) }

    package var latest: CheckpointPair { RunDirectory.latest(in: checkpointDirectory) }

    /// Runs from step 0, or from the latest checkpoint when `resume` (bit-exact: the model, optimizer, EMA,
    /// schedule, loader position and counters continue as if never interrupted). A fresh run starts the EMA at
    /// the model's weights as they are (the seeded init, or what the caller loaded from `train.init_from`).
    package func run(resume: Bool) throws -> TrainingOutcome {
        var step = 0
        var streak = 0
        var best = -Double.infinity
        var wallOffset = 0.0
        var divergedAt: Int?
        if resume {
            let (state, s) = try latest.load(model: model, optimizer: optimizer, ema: ema)
            step = s
            streak = state.resume["nonfinite_streak"].flatMap(Int.init) ?? 0
            best = state.resume["best_psnr_mu"].flatMap(Double.init) ?? -.infinity
            wallOffset = state.resume["wall_seconds"].flatMap(Double.init) ?? 0
            divergedAt = state.resume["diverged_step"].flatMap(Int.init)
        } else {
            ema?.reset(to: model.store)
        }
        var loader = try makeLoader(0)
        if step >= loader.batchesPerEpoch {
            let epoch = step / loader.batchesPerEpoch
            loader.close()
            loader = try makeLoader(epoch)
        }
        defer { loader.close() }
        // The loader starts at an epoch boundary: skip to this step's batch (batch g belongs to step g).
        for _ in 0..<(step % loader.batchesPerEpoch) { _ = try loader.next() }

        let start = DispatchTime.now().uptimeNanoseconds
        func wall() -> Double { wallOffset + Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var intervalLoss = 0.0
        var intervalTerms: [String: Double] = [:]
        var intervalSteps = 0
        var intervalStart = wall()
        var waitBefore = loader.waitSeconds
        var totalIncidents = 0
        var totalSkipped = 0
        var lastValidation: MetricsRecord?
        var end = TrainingOutcome.End.finished

        func saveLatest() throws {
            guard isRoot else { return }
            var resume = [
                "step": String(step), "nonfinite_streak": String(streak),
                "best_psnr_mu": String(best), "wall_seconds": String(wall())
            ]
            if let divergedAt { resume["diverged_step"] = String(divergedAt) }
            let state = TrainingState(
                optimizerType: type(of: optimizer).type, optimizerStep: optimizer.stepCount,
                scheduleStep: step, resume: resume)
            try latest.save(model: model, optimizer: optimizer, state: state, config: config, step: step, ema: ema)
        }

        /// Records the first divergence; true when the run is to stop there.
        func diverged(_ reason: String) throws -> Bool {
            if divergedAt != nil { return false }
            divergedAt = step
            try sink.metrics(
                MetricsRecord(
                    kind: "diverged", step: step, epoch: (step - 1) / loader.batchesPerEpoch, wallSeconds: wall(),
                    reason: reason, stopped: monitor.stopOnDivergence ? true : nil))
            return monitor.stopOnDivergence
        }

        // The steps on `stepThreads`, each validation on the threads the loop was given.
        let validationThreads = Parallel.threads
        let stepThreads = min(settings.stepThreads ?? validationThreads, validationThreads)
        Parallel.threads = stepThreads
        defer { Parallel.threads = validationThreads }

        let steps = self.steps
        while step < steps {
            // Data-parallel, the ranks stop together: at the first step after any of them was asked to.
            if stopRequested() {
                end = .interrupted
                break
            }
            let batch = try loader.next()
            // Records number a step by how many steps have completed with it (1...steps), like checkpoints,
            // metrics and TensorBoard, so resuming at a checkpoint of step s keeps exactly the records <= s.
            let number = step + 1
            let outcome = trainingStep.run(
                input: batch.input, target: batch.target, regions: batch.regions, step: step)
            let report = outcome.report
            let skipped = outcome.skip != nil
            let origins = batch.batchOrigins  // the whole batch's, every rank's share
            let first = origins.first
            var files: String { origins.map(\.file).joined(separator: " ") }
            switch outcome.skip {
            case .nonfiniteLoss(let terms)?:
                try sink.incident(
                    Incident(
                        step: number, kind: .nonfiniteLoss, file: first?.file ?? "", x: first?.x ?? 0,
                        y: first?.y ?? 0, value: report.total,
                        detail: "terms: \(terms.joined(separator: " ")); files: \(files)"))
            case .nonfiniteGradient(let name)?:
                try sink.incident(
                    Incident(
                        step: number, kind: .nonfiniteGradient, file: first?.file ?? "",
                        x: first?.x ?? 0, y: first?.y ?? 0, value: outcome.gradNorm,
                        detail: "parameter \(name); files: \(files)"))
            case nil:
                break
            }
            let record = outcome.record!  // the trainer's step always has a monitor (init checks)
            try sink.monitor(record)
            if record.overflowIncidents > 0 {
                let peaks = outcome.overflowPeaks
                for (i, k) in outcome.overflowPerPatch.enumerated() where k > 0 {
                    let o = origins[i]
                    try sink.incident(
                        Incident(
                            step: number, kind: .overflow, file: o.file, x: o.x, y: o.y, value: Double(k),
                            detail: "max \(peaks[i])"))
                }
                totalIncidents += record.overflowIncidents
            }
            step += 1
            if case .nonfiniteLoss(let terms)? = outcome.skip,
                try diverged("non-finite training loss (\(terms.joined(separator: ", ")))")
            {
                end = .stoppedOnDivergence("diverged at step \(step): non-finite training loss")
                break
            }
            if skipped {
                streak += 1
                totalSkipped += 1
                let stopAt: Int
                switch monitor.onNonFinite {
                case .skip(let max): stopAt = max
                case .stop: stopAt = 1
                }
                if streak >= stopAt {
                    // The weights were not updated by skipped steps: the last checkpoint stays the last good one.
                    end = .stoppedOnNonfinite("\(streak) non-finite step(s) in a row, the last at step \(step)")
                    break
                }
            } else {
                streak = 0
                intervalLoss += report.total
                for t in report.terms { intervalTerms[t.name, default: 0] += t.value }
                intervalSteps += 1
            }
            let now = wall()
            progress?(
                TrainingProgress(
                    step: step, steps: steps, loss: report.total,
                    stepsPerSecond: Double(intervalSteps) / max(now - intervalStart, 1e-9),
                    overflowIncidents: totalIncidents, skipped: totalSkipped))
            if step % settings.logEvery == 0 || step == steps {
                let elapsed = max(now - intervalStart, 1e-9)
                let n = Double(max(intervalSteps, 1))
                let wait = loader.waitSeconds - waitBefore
                let lr = schedule.lr(step: step - 1, base: optimizer.baseLR, totalSteps: steps)
                let terms = intervalTerms.mapValues { $0 / n }
                let mpi = dataParallel?.takeTimes()
                try sink.metrics(
                    MetricsRecord(
                        kind: "train", step: step, epoch: (step - 1) / loader.batchesPerEpoch,
                        wallSeconds: now, lr: lr, loss: intervalLoss / n, terms: terms,
                        stepsPerSecond: Double(intervalSteps) / elapsed,
                        dataWaitFraction: wait / elapsed, mpiFraction: mpi.map { $0.all / elapsed },
                        gradientAllreduceFraction: mpi.map { $0.gradient / elapsed }))
                var scalars = [
                    "train/loss": intervalLoss / n, "train/lr": lr,
                    "monitor/overflow_incidents": Double(record.overflowIncidents),
                    "monitor/negative_pixels": Double(record.negativePixels),
                    "monitor/clamp_hit_rate": record.clampHitRate, "monitor/saturation_rate": record.saturationRate,
                    "monitor/grad_norm": record.gradNorm, "monitor/collapse": record.collapse
                ]
                for (k, v) in terms { scalars["train/" + k] = v }
                if let s = record.learnableScale { scalars["monitor/learnable_scale"] = s }
                try sink.scalars(step: step, scalars, wallTime: now)
                intervalLoss = 0
                intervalTerms = [:]
                intervalSteps = 0
                intervalStart = now
                waitBefore = loader.waitSeconds
            }
            if let validate, step % settings.valEvery == 0 || step == steps {
                Parallel.threads = validationThreads
                defer { Parallel.threads = stepThreads }
                let (m, id) =
                    try ema.map { e in try e.withAveragedWeights(in: model.store) { try validate(model) } }
                    ?? validate(model)
                let rec = MetricsRecord(
                    kind: "val", step: step, epoch: (step - 1) / loader.batchesPerEpoch, wallSeconds: wall(),
                    model: m, identity: id, weights: validatedWeights.rawValue)
                try sink.metrics(rec)
                try sink.scalars(
                    step: step,
                    [
                        "val/psnr_mu": m.psnrMu, "val/pu21_psnr": m.pu21Psnr, "val/log_l1": m.logL1,
                        "val/identity_psnr_mu": id.psnrMu
                    ], wallTime: wall())
                lastValidation = rec
                if m.psnrMu > best {
                    best = m.psnrMu
                    // Both sets, like every checkpoint; `validated` says which one scored `best_psnr_mu`.
                    if isRoot {
                        try WeightsFile.save(
                            model.store, to: RunDirectory.best(in: checkpointDirectory), config: config, step: step,
                            ema: ema, extra: ["validated": validatedWeights.rawValue, "best_psnr_mu": String(m.psnrMu)])
                    }
                }
                let below = id.psnrMu - m.psnrMu
                if !m.psnrMu.isFinite || !m.loss.isFinite || below > monitor.divergenceMarginDB {
                    let why =
                        m.psnrMu.isFinite && m.loss.isFinite
                        ? String(
                            format: "validation PSNR-mu %.2f dB, %.2f dB below the identity (margin %g dB)", m.psnrMu,
                            below, monitor.divergenceMarginDB)
                        : "validation not finite (PSNR-mu \(m.psnrMu), loss \(m.loss))"
                    if try diverged(why) {
                        end = .stoppedOnDivergence("diverged at step \(step): " + why)
                        break
                    }
                }
            }
            if step % settings.checkpointEvery == 0 || step == steps { try saveLatest() }
        }
        // Interrupted or stopped at a divergence: the latest checkpoint is where the run ended.
        if end == .interrupted { try saveLatest() }
        if case .stoppedOnDivergence = end { try saveLatest() }
        return TrainingOutcome(
            end: end, step: step, bestPsnrMu: best.isFinite ? best : nil, lastValidation: lastValidation,
            overflowIncidents: totalIncidents, skippedSteps: totalSkipped, divergedAt: divergedAt)
    }

    /// Whether to stop before the next step: this process was asked to (SIGINT); data-parallel, any rank was by the
    /// time the last step combined its loss reports (the request travels with them), so every rank stops after the
    /// same step. This rank's request is handed on for the next step's combination.
    private func stopRequested() -> Bool {
        let here = stop.load(ordering: .relaxed)
        guard let dataParallel, dataParallel.group.isDistributed else { return here }
        dataParallel.requestStop(here)
        return dataParallel.stopRequested
    }
}
