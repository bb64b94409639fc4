// From a training config to the objects of a run: the model, its training step, the trainer's settings.
// `hdrpatch train` builds its step here and hands it to the `Trainer`; `hdrpatch bench --config` times the same step.
import Losses
import Model
import Numerics

extension TrainConfig {
    /// The model of this config with `stateSlots` optimizer slots, initialised from `seed` by `train.init`; with
    /// `train.zero_init_output` (when `zeroOutput`) its output layer starts at zero.
    /// Its inference (`PatchModel.infer`) restores as `model.self_ensemble` says.
    package func makeModel(stateSlots: Int, zeroOutput: Bool? = nil) throws -> PatchModel {
        let m = try PatchModel(
            model: model, inputs: inputs, residual: residual, logNorm: logNorm, stateSlots: stateSlots,
            seed: UInt64(seed),
            zeroOutputLayer: zeroOutput ?? train.zeroInitOutput, initScheme: train.initScheme)
        m.selfEnsemble = selfEnsemble
        return m
    }

    /// The step a run of this config takes: its loss, optimizer, schedule over `train.steps`, clipping, the
    /// `monitor:` section, and with `train.ema` the EMA of the weights (started at the model's current weights).
    package func makeTrainingStep(model: PatchModel, optimizer: any ConfigurableOptimizer) -> TrainingStep {
        let ema = train.ema.map { WeightEMA(decay: $0, count: model.store.count) }
        ema?.reset(to: model.store)
        return TrainingStep(
            model: model, loss: loss, optimizer: optimizer, schedule: schedule, totalSteps: train.steps,
            gradClip: train.gradClip, monitor: monitor, ema: ema)
    }

    /// The trainer's intervals.
    package var trainerSettings: TrainerSettings {
        TrainerSettings(
            logEvery: train.logEvery, valEvery: train.valEvery, checkpointEvery: train.checkpointEvery,
            stepThreads: train.stepThreads)
    }
}
