import Config
// A weights file and its state file that stay consistent whenever the process is killed.
/// `<dir>/<name>.safetensors` (weights, PyTorch names, loadable by torch) and `<name>.state.safetensors`
/// (optimizer slots, step counts, resume position). Each file is written atomically, but a kill can fall
/// between the two writes, so saving first moves the current state file to `<name>.state.prev.safetensors`,
/// then writes the new state, then the weights. Whatever instant a kill hits, one of (state, prev) carries the
/// same step as the weights file, and `load` picks it. With `train.ema` the weights file also holds the EMA of
/// the weights (`ema.<name>`, see WeightsFile), so the average is exactly as consistent as the weights.
import EXRIO
import Glibc
import Model
import RunFiles

package struct CheckpointPair: Sendable {
    package let weightsPath: String
    package var statePath: String { WeightsFile.statePath(forWeights: weightsPath) }
    package var previousStatePath: String { String(statePath.dropLast(".safetensors".count)) + ".prev.safetensors" }

    package init(directory: String, name: String) {
        weightsPath = directory + "/" + name + ".safetensors"
    }

    package var exists: Bool { access(weightsPath, F_OK) == 0 }

    package func save(
        model: PatchModel, optimizer: any ConfigurableOptimizer, state: TrainingState,
        config: JSONValue, step: Int, ema: WeightEMA? = nil
    ) throws {
        if access(statePath, F_OK) == 0 && rename(statePath, previousStatePath) != 0 {
            throw FileError(path: statePath, reason: String(cString: strerror(errno)))
        }
        try TrainingStateFile.save(state, store: model.store, optimizer: optimizer, to: statePath)
        try WeightsFile.save(model.store, to: weightsPath, config: config, step: step, ema: ema)
    }

    /// Loads the raw weights (and with `ema` the EMA weights, which the file must then hold) and the matching
    /// state; returns the state and the weights' step.
    package func load(
        model: PatchModel, optimizer: any ConfigurableOptimizer, ema: WeightEMA? = nil
    ) throws -> (TrainingState, step: Int) {
        let meta = try WeightsFile.load(into: model.store, from: weightsPath, weights: .raw, ema: ema)
        guard let step = meta["step"].flatMap(Int.init) else {
            throw FileError(path: weightsPath, reason: "no step in the metadata")
        }
        for candidate in [statePath, previousStatePath] where access(candidate, F_OK) == 0 {
            let state = try TrainingStateFile.load(into: model.store, optimizer: optimizer, from: candidate)
            if state.resume["step"] == String(step) { return (state, step) }
        }
        throw FileError(
            path: statePath, reason: "no optimizer state for step \(step) (state file missing or from another step)")
    }
}

extension RunDirectory {
    /// The checkpoint a run saves as it goes and resumes from (weights plus state file).
    package var latest: CheckpointPair { Self.latest(in: checkpoints) }

    package static func latest(in checkpoints: String) -> CheckpointPair {
        CheckpointPair(directory: checkpoints, name: latestCheckpointName)
    }
}
