// A training run's whole configuration, read strictly from YAML (plus `--set` overrides): every section
// checked before training starts, every default filled in and recorded (`resolved`).
import Config
import Data
import Foundation
import Losses
import Model
import Yams

/// Sections (configs/README.md documents every key): `name` (required string), `seed` (int >= 0, 0),
/// `data`, `model`, `residual`, `loss`, `optim`, `train` (required), `schedule` (default constant, no warmup),
/// `monitor` (every key has a default). The first problem found is thrown as a ConfigError whose key path
/// starts at the document root (`data.patch_size`, `loss.0.weight`).
package struct TrainConfig: Sendable, Equatable {
    package var name: String
    /// Seeds the network init and the loader's crops.
    package var seed: Int
    package var data: TrainDataConfig
    package var model: ModelConfig
    /// `model.inputs` / `model.clip_level`: the planes the network sees.
    package var inputs: NetworkInputs
    /// `model.self_ensemble`: how validation, the held-out scoring and a checkpoint's inference restore.
    package var selfEnsemble: SelfEnsemble
    package var residual: ResidualConfig
    package var loss: CompositeLoss
    /// The optimizer's resolved parameters, `type` included; `makeOptimizer()` builds a fresh one (an optimizer
    /// holds state, a config does not).
    package var optim: [String: JSONValue]
    package var schedule: any LRSchedule
    package var train: TrainLoopConfig
    package var monitor: MonitorConfig

    package static let sections = [
        "name", "seed", "data", "model", "residual", "loss", "optim", "schedule", "train", "monitor"
    ]

    /// Reads a config file with its `base:` chain (`ConfigDocument`), applies `overrides` (`key.path=value`, in
    /// order) and decodes the result.
    /// - Throws: ConfigError (an unreadable file has an empty key path and `file` set; a key a base file set names
    ///   that file).
    package static func load(path: String, overrides: [String] = []) throws -> TrainConfig {
        try ConfigDocument.load(path: path, overrides: overrides).decode { try TrainConfig(config: $0) }
    }

    /// - Parameter file: only names the document in errors (a relative `base:` is relative to the current
    ///   directory).
    package static func parse(text: String, file: String? = nil, overrides: [String] = []) throws -> TrainConfig {
        try ConfigDocument.parse(text: text, file: file, overrides: overrides).decode { try TrainConfig(config: $0) }
    }

    /// Decodes the root mapping and finishes it.
    package init(config c: ConfigMapping) throws {
        // Unknown top-level keys first: a misspelt section would otherwise surface as "missing required key".
        for key in c.keys where !Self.sections.contains(key) {
            let hint = DidYouMean.suggest(key, among: Self.sections.sorted())
            throw c.error(
                key,
                hint.map { "unknown key (did you mean '\($0)'?)" }
                    ?? "unknown key; known keys: \(Self.sections.sorted().joined(separator: ", "))")
        }
        name = try c.required("name")
        seed = try c.value("seed", default: 0, in: .atLeast(0))
        let modelSection = try c.mapping("model")
        inputs = try NetworkInputs(config: modelSection)
        selfEnsemble = try SelfEnsemble(config: modelSection)
        model = try ModelConfig(config: modelSection)
        data = try TrainDataConfig(config: c.mapping("data"), sizeMultiple: model.sizeMultiple, modelName: model.label)
        residual = try ResidualConfig(config: c.mapping("residual"))
        loss = try CompositeLoss(config: c, key: "loss")
        optim = try Optimizers.make(c.mapping("optim")).parameters
        train = try TrainLoopConfig(config: c.mapping("train"))
        if let s = try c.optionalMapping("schedule") {
            schedule = try Schedules.make(s)
            if schedule.warmupSteps > train.steps {
                throw s.error("warmup_steps", "must be <= train.steps (\(train.steps)), got \(schedule.warmupSteps)")
            }
        } else {
            schedule = ConstantSchedule(warmupSteps: 0)
        }
        monitor = try c.optionalMapping("monitor").map(MonitorConfig.init(config:)) ?? MonitorConfig()
        try c.finish(known: Self.sections)
    }

    /// A fresh optimizer as configured (step count 0, no state).
    package func makeOptimizer() -> any ConfigurableOptimizer {
        do {
            return try Optimizers.make(ConfigMapping(JSONValue.object(optim).yamlNode, path: "optim", file: nil))
        } catch {
            // `optim` holds what Optimizers.make itself resolved: reading it back cannot fail.
            fatalError("resolved optim does not read back: \(error)")
        }
    }

    /// The training loader's settings; `workers` overrides `data.workers` (e.g. a CLI flag).
    package func loaderConfig(workers: Int? = nil) -> LoaderConfig {
        data.loaderConfig(seed: UInt64(seed), workers: workers)
    }

    package var logNorm: LogNorm { data.logNorm }

    /// The whole config as used, every default filled in. Written into the run directory and checkpoint
    /// metadata; `parse(text:)` of its JSON text (YAML is a superset of JSON) gives an equal config.
    package var resolved: JSONValue {
        .object([
            "name": .string(name), "seed": .integer(seed), "data": data.json,
            "model": model.json(inputs: inputs, selfEnsemble: selfEnsemble),
            "residual": residual.json, "loss": loss.json, "optim": .object(optim),
            "schedule": .object(schedule.parameters),
            "train": train.json, "monitor": monitor.json
        ])
    }

    /// `resolved` as pretty JSON with sorted keys (and unescaped slashes, so paths read as written).
    package var resolvedJSONText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding a JSONValue of finite numbers cannot fail.
        return String(decoding: try! encoder.encode(resolved), as: UTF8.self)
    }

    /// Two configs are equal when they resolve to the same record (optimizers and schedules are existentials).
    package static func == (a: TrainConfig, b: TrainConfig) -> Bool { a.resolved == b.resolved }
}
