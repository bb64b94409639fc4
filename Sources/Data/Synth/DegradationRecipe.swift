// A degradation recipe: a named list of steps that turns a clean HDR image into an (input, target) pair.
import Config
import EXRIO
import Numerics

/// YAML schema (see configs/degrade/README.md):
/// ```yaml
/// name: phone          # required string
/// steps:               # required list, may be empty (then input == target == the clean image)
///   - type: exposure   # a registered step type; the other keys are the step's own
///     value: 0.18
/// ```
package struct DegradationRecipe: Sendable {
    package var name: String
    package var steps: [any DegradationStep]

    package init(name: String, steps: [any DegradationStep]) {
        self.name = name
        self.steps = steps
    }

    /// - Throws: ConfigError for unknown or missing keys, wrong types, unknown step types.
    package init(config: ConfigMapping, registry: Registry<any DegradationStep> = DegradationSteps.registry) throws {
        name = try config.required("name", String.self)
        steps = try config.mappings("steps").map(registry.make)
        try config.finish()
    }

    package static func parse(_ yaml: String, file: String? = nil) throws -> DegradationRecipe {
        try DegradationRecipe(config: StrictYAML.parse(yaml, file: file))
    }

    package static func load(path: String) throws -> DegradationRecipe {
        try DegradationRecipe(config: StrictYAML.load(path: path))
    }

    /// Runs the steps in order on (input, target), both starting as `clean`. Step s of this pair draws from
    /// `SynthStreams.step(seed:pair:step:)`, so a pair is reproducible on its own.
    /// - Parameters:
    ///   - clean: (3, H, W) linear, finite, >= 0.
    ///   - source: statistics of the image `clean` was cut from, for steps that expose by it
    ///     (`needsSourceStatistics`); nil when `clean` is the whole image (such a step then uses `clean`).
    /// - Returns: input (degraded capture) and target (clean, after scene steps), both (3, H, W).
    package func apply(
        clean: HDRImage, seed: UInt64, pair: Int, source: SourceStatistics? = nil
    ) -> (input: HDRImage, target: HDRImage) {
        var input = clean
        var target = clean
        for (s, step) in steps.enumerated() {
            var rng = SynthStreams.step(seed: seed, pair: pair, step: s)
            step.apply(input: &input, target: &target, rng: &rng, source: source)
        }
        return (input, target)
    }

    /// Whether a step reads the statistics of the whole source image (`exposure` with `over: image`): callers
    /// that cut patches then make `SourceStatistics` once per source and pass them to `apply`.
    package var needsSourceStatistics: Bool { steps.contains { $0.usesSourceStatistics } }

    /// The recipe as used: `{name, steps: [{type, <every key with defaults filled>}]}`.
    package var json: JSONValue {
        .object([
            "name": .string(name),
            "steps": .array(
                steps.map { step in
                    var p = step.parameters
                    p["type"] = .string(type(of: step).type)
                    return .object(p)
                })
        ])
    }
}
