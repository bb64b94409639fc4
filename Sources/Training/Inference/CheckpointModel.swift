import Config
import EXRIO
import Foundation
import Losses
import Model
// Builds the model a checkpoint was trained as: its config (from the checkpoint metadata or a YAML file),
// then its weights.
import RunFiles
import Yams

/// The parts of a run config that inference needs. Read from the root of a config document:
/// `model:` and `residual:` (required, strict), `data.eps` and `data.denom_floor` (optional, LogNorm's
/// defaults otherwise) and `loss:` (optional; `evaluate` reports its terms). Every other section and the
/// other keys of `data:` belong to training and are not read here, so they are neither checked nor an error.
package struct InferenceConfig {
    package var model: ModelConfig
    package var inputs: NetworkInputs
    package var selfEnsemble: SelfEnsemble
    package var residual: ResidualConfig
    package var logNorm: LogNorm
    package var loss: CompositeLoss?

    /// - Throws: ConfigError.
    package init(root: ConfigMapping) throws {
        let modelSection = try root.mapping("model")
        inputs = try NetworkInputs(config: modelSection)
        selfEnsemble = try SelfEnsemble(config: modelSection)
        model = try ModelConfig(config: modelSection)
        residual = try ResidualConfig(config: try root.mapping("residual"))
        if let data = try root.optionalMapping("data") {
            let eps: Double = try data.value("eps", default: Double(LogNorm.defaultEps), in: .greaterThan(0.0))
            let floor: Double = try data.value(
                "denom_floor", default: Double(LogNorm.defaultDenomFloor),
                in: .greaterThan(0.0))
            logNorm = LogNorm(eps: Float(eps), denomFloor: Float(floor))
        } else {
            logNorm = LogNorm()
        }
        loss = root.contains("loss") ? try CompositeLoss(config: root) : nil
    }

    /// A config file with its `base:` chain and `--set key.path=value` overrides applied (as `TrainConfig.load`).
    package static func load(path: String, overrides: [String]) throws -> InferenceConfig {
        try ConfigDocument.load(path: path, overrides: overrides).decode { try InferenceConfig(root: $0) }
    }
}

package enum CheckpointModel {
    /// Where the config came from, for messages.
    package enum ConfigSource: Sendable, Equatable {
        case metadata
        case file(String)
    }

    /// A model ready for inference, with the loss and step the checkpoint carries.
    package struct Loaded {
        package var model: PatchModel
        package var loss: CompositeLoss?
        /// `step` from the metadata, when present and an integer.
        package var step: Int?
        package var configSource: ConfigSource
        /// Which weights of the file the model holds.
        package var weights: WeightsFile.WeightSet
        /// Whether the file holds EMA weights (`ema.*` tensors) besides the raw ones.
        package var fileHoldsEMA: Bool
        /// The file's `ema_decay` metadata, when present.
        package var emaDecay: Double?

        /// `EMA weights (ema.* tensors, decay 0.999)` or `raw weights` (+ `; the file also holds EMA weights`):
        /// what restore and evaluate print.
        package var weightsDescription: String {
            switch weights {
            case .ema:
                return "EMA weights (\(WeightsFile.emaPrefix)* tensors"
                    + (emaDecay.map { ", decay \($0)" } ?? "") + ")"
            case .raw:
                return "raw weights" + (fileHoldsEMA ? " (the file also holds EMA weights)" : "")
            }
        }

        /// `weightsDescription`, and `, self-ensemble of 8 passes` when the model restores with one.
        package var inferenceDescription: String {
            let n = model.selfEnsemble.count
            return weightsDescription + (n == 1 ? "" : ", self-ensemble of \(n) passes")
        }
    }

    /// Reads `checkpoint` (safetensors weights). The config is `configPath` when given (it wins over the
    /// metadata: the caller asked for it explicitly), else the metadata's `config` (JSON, parsed as YAML,
    /// which is a superset of JSON). `weights` picks the raw or the EMA weights; nil takes the EMA weights when
    /// the file holds them, else the raw ones (`Loaded.weights` says which).
    /// - Throws: FileError `<ckpt>: no config in the checkpoint metadata; pass --config` when neither
    ///   has one, or when names/shapes differ (the error lists every mismatch); ConfigError for a bad config
    ///   (its `file` is the YAML file, or `<ckpt> (metadata config)`); FileError `<ckpt>: holds no EMA weights ...`
    ///   for `weights: .ema` on a file without them; nothing else.
    package static func load(
        checkpoint: String, configPath: String? = nil, weights: WeightsFile.WeightSet? = nil
    ) throws -> Loaded {
        let file = try SafetensorsFile.read(path: checkpoint)
        let hasEMA = WeightsFile.holdsEMA(file)
        let chosen = weights ?? (hasEMA ? .ema : .raw)
        if chosen == .ema && !hasEMA { throw WeightsFile.noEMA(checkpoint) }
        let config: InferenceConfig
        let source: ConfigSource
        if let configPath {
            config = try InferenceConfig.load(path: configPath, overrides: [])
            source = .file(configPath)
        } else if let text = file.metadata["config"] {
            config = try InferenceConfig(root: StrictYAML.parse(text, file: "\(checkpoint) (metadata config)"))
            source = .metadata
        } else {
            throw FileError(path: checkpoint, reason: "no config in the checkpoint metadata; pass --config")
        }
        let model = try PatchModel(
            model: config.model, inputs: config.inputs, residual: config.residual, logNorm: config.logNorm,
            stateSlots: 0, seed: 0)
        model.selfEnsemble = config.selfEnsemble
        let metadata = try WeightsFile.load(into: model.store, from: checkpoint, weights: chosen)
        return Loaded(
            model: model, loss: config.loss, step: metadata["step"].flatMap { Int($0) },
            configSource: source, weights: chosen,
            fileHoldsEMA: hasEMA, emaDecay: metadata["ema_decay"].flatMap(Double.init))
    }
}
