// One training step: forward, loss, backward, gradient clipping, the optimizer update and the monitor record.
// The trainer loops over it, `hdrpatch bench --what step` times it and the PyTorch parity test calls it, so
// what is measured and checked is what a run does.
import Losses
import Model
import Numerics
import RunFiles

package final class TrainingStep: @unchecked Sendable {
    package let model: PatchModel
    package let loss: CompositeLoss
    package let optimizer: any ConfigurableOptimizer
    package let schedule: any LRSchedule
    /// Updates in the whole run: the schedule's T.
    package let totalSteps: Int
    /// Maximum global gradient norm; nil does not clip.
    package let gradClip: Double?
    /// The `monitor:` section: the record's thresholds, and for the trainer the non-finite and divergence
    /// policies; nil computes no record (and no gradient norm unless clipping needs it): the bare step PyTorch's
    /// reference times.
    package let monitor: MonitorConfig?
    /// The EMA of the weights (`train.ema`), updated after every applied optimizer update; nil for none.
    package let ema: WeightEMA?
    /// Data-parallel training: the batch `run` gets is this rank's share of a global batch, and the loss report,
    /// the gradient and the monitor record are combined over the ranks (`DataParallel`). nil, or a group of one,
    /// for a single process: then nothing of it runs.
    package var dataParallel: DataParallel?

    /// Reused from step to step: no allocation per step for the gradient of the loss or its report.
    private var gradDelta = Tensor(zeros: [0])
    private var report = LossReport(terms: [], total: 0)
    /// The monitor's selection buffer (its delta percentiles).
    private let monitorScratch = Workspace()

    package init(
        model: PatchModel, loss: CompositeLoss, optimizer: any ConfigurableOptimizer,
        schedule: any LRSchedule = ConstantSchedule(), totalSteps: Int, gradClip: Double? = nil,
        monitor: MonitorConfig? = MonitorConfig(), ema: WeightEMA? = nil
    ) {
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
        self.totalSteps = totalSteps
        self.gradClip = gradClip
        self.monitor = monitor
        self.ema = ema
    }

    /// Why a step did not update the weights.
    package enum Skip: Sendable, Equatable {
        /// The loss is not finite; `terms` names the terms that are not.
        case nonfiniteLoss(terms: [String])
        /// A gradient is not finite; `parameter` is the first parameter holding one.
        case nonfiniteGradient(parameter: String)
    }

    package struct Outcome: Sendable {
        /// The forward pass (its tensors share the model's buffers until the next step).
        package var pass: PatchModel.Pass
        package var report: LossReport
        /// Global gradient norm before clipping; NaN when the loss was not finite, or when neither clipping nor
        /// the monitor asked for it.
        package var gradNorm: Double
        /// The learning rate applied (nil when skipped).
        package var lr: Double?
        package var skip: Skip?
        /// The monitor record and its per-patch overflow pixel counts (nil without `monitor`); data-parallel, the
        /// whole global batch's.
        package var record: MonitorRecord?
        package var overflowPerPatch: [Int]
        /// Every patch's largest output value where it overflowed (the incidents table's); data-parallel, the whole
        /// global batch's.
        package var overflowPeaks: [Float]
    }

    /// Runs update `step` (0-based: the schedule's t) on one batch; the records call it step + 1.
    /// A non-finite loss skips backward and the update; a non-finite gradient skips the update. Either way the EMA
    /// of the weights (when there is one) is not updated either.
    /// - Parameter monitorProbe: wraps the monitor record's computation (the bench counts its allocations
    ///   apart, as data the run writes out rather than compute); nil runs it directly.
    package func run(
        input: Tensor, target: Tensor, regions: Tensor? = nil, step: Int, monitorProbe: (any StepProbe)? = nil
    ) -> Outcome {
        let pass = model.forward(input, regions: regions)
        let inputs = model.lossInputs(pass, target: target, regions: regions)
        if gradDelta.shape != pass.delta.shape {
            gradDelta = Tensor(zeros: pass.delta.shape)
        } else {
            gradDelta.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        loss.evaluate(inputs, gradDelta: &gradDelta, into: &report)
        let parallel = dataParallel.flatMap { $0.group.isDistributed ? $0 : nil }
        if let parallel {
            // Each rank's loss is a mean over its own samples: weighted by local / global, the ranks' sum is the
            // global batch's mean, and so is the gradient once summed.
            let local = pass.delta.shape[0]
            parallel.combine(&report, local: local)
            let w = Float(Double(local) / Double(parallel.globalBatch))
            gradDelta.storage.withUnsafeMutableBufferPointer { g in
                for i in g.indices { g[i] *= w }
            }
        }
        var skip: Skip?
        var gradNorm = Double.nan
        var lr: Double?
        if !report.total.isFinite {
            skip = .nonfiniteLoss(terms: report.terms.filter { !$0.value.isFinite }.map(\.name))
        } else {
            let store = model.store
            store.zeroGrads()
            model.backward(pass, gradDelta: gradDelta)
            parallel?.sumGradients(store)  // every rank now holds the global batch's gradient
            let checked = gradClip != nil || monitor != nil
            if let gradClip {
                gradNorm = clipGradNorm(store, maxNorm: gradClip)
            } else if checked {
                gradNorm = globalGradNorm(store)
            }
            if !checked || gradNorm.isFinite {
                let rate = schedule.lr(step: step, base: optimizer.baseLR, totalSteps: totalSteps)
                optimizer.step(store, lr: rate)
                ema?.update(from: store)  // only after an applied update: a skipped step leaves the EMA as it is
                lr = rate
            } else {
                let name = store.entries.first { e in !store.grads(e).allSatisfy { $0.isFinite } }?.name ?? "?"
                skip = .nonfiniteGradient(parameter: name)
            }
        }
        var record: MonitorRecord?
        var perPatch: [Int] = []
        var peaks: [Float] = []
        if let monitor {
            // Only constants are captured: a captured variable would be boxed on the heap every step.
            let norm = gradNorm
            let skipped = skip != nil
            let head = model.head
            let scale = model.learnedScale
            let scratch = monitorScratch
            func compute() -> (MonitorRecord, [Int], [Float]) {
                var sums = StepMonitor.sums(
                    step: step + 1, pass: pass, target: target, head: head, settings: monitor,
                    learnedScale: scale, gradNorm: norm, skipped: skipped, scratch: scratch,
                    batch: parallel?.globalBatch, offset: parallel?.share.lowerBound ?? 0)
                parallel?.combine(&sums)
                return sums.finalize()
            }
            if let monitorProbe {
                (record, perPatch, peaks) = monitorProbe.measure(compute)
            } else {
                (record, perPatch, peaks) = compute()
            }
        }
        return Outcome(
            pass: pass, report: report, gradNorm: gradNorm, lr: lr, skip: skip, record: record,
            overflowPerPatch: perPatch, overflowPeaks: peaks)
    }
}

/// Something that watches part of a step run (the bench counts the monitor record's heap allocations).
package protocol StepProbe {
    func measure<R>(_ body: () -> R) -> R
}
