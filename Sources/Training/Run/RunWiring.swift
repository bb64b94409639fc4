// From a training config to the objects of a run: the model, its training step, the trainer's settings.
// `hdrpatch train` and `hdrpatch bench --config` build their runs here, so both run the same step.
import Losses
import Model
import Numerics

extension MonitorConfig {
    /// What the monitor record measures with (the non-finite policy is the trainer's: `TrainerSettings`).
    package var settings: MonitorSettings {
        MonitorSettings(overflowLimit: Float(overflowLimit), saturation: Float(saturation))
    }
}

extension TrainConfig {
    /// The model of this config with `stateSlots` optimizer slots, initialised from `seed`; with
    /// `train.zero_init_output` (when `zeroOutput`) its output layer starts at zero.
    package func makeModel(stateSlots: Int, zeroOutput: Bool? = nil) throws -> PatchModel {
        try PatchModel(
            model: model, inputs: inputs, residual: residual, logNorm: logNorm, stateSlots: stateSlots,
            seed: UInt64(seed),
            zeroOutputLayer: zeroOutput ?? train.zeroInitOutput)
    }

    /// The step a run of this config takes: its loss, optimizer, schedule over `train.steps`, clipping, monitor,
    /// and with `train.ema` the EMA of the weights (started at the model's current weights).
    package func makeTrainingStep(model: PatchModel, optimizer: any ConfigurableOptimizer) -> TrainingStep {
        let ema = train.ema.map { WeightEMA(decay: $0, count: model.store.count) }
        ema?.reset(to: model.store)
        return TrainingStep(
            model: model, loss: loss, optimizer: optimizer, schedule: schedule, settings: trainerSettings, ema: ema)
    }

    /// The trainer's loop settings: intervals, clipping, the monitor and the non-finite policy.
    package var trainerSettings: TrainerSettings {
        let onNonfinite: TrainerSettings.NonfinitePolicy
        let maxNonfinite: Int
        switch monitor.onNonFinite {
        case .skip(let max):
            onNonfinite = .skip
            maxNonfinite = max
        case .stop:
            onNonfinite = .stop
            maxNonfinite = 1
        }
        return TrainerSettings(
            steps: train.steps, logEvery: train.logEvery, valEvery: train.valEvery,
            checkpointEvery: train.checkpointEvery, gradClip: train.gradClip,
            monitor: monitor.settings, onNonfinite: onNonfinite, maxNonfinite: maxNonfinite,
            divergenceMarginDB: monitor.divergenceMarginDB, stopOnDivergence: monitor.stopOnDivergence,
            ema: train.ema)
    }
}

extension TrainingStep {
    /// The step a trainer with `settings` takes (`Trainer.run` builds its step here too); `ema` is the average
    /// it updates (`settings.ema`'s decay).
    package convenience init(
        model: PatchModel, loss: CompositeLoss, optimizer: any ConfigurableOptimizer,
        schedule: any LRSchedule, settings: TrainerSettings, ema: WeightEMA? = nil
    ) {
        self.init(
            model: model, loss: loss, optimizer: optimizer, schedule: schedule, totalSteps: settings.steps,
            gradClip: settings.gradClip, monitor: settings.monitor, ema: ema)
    }
}
