// One stage of a degradation recipe, and the registry of all stages keyed by their `type:` name.
import Config
import EXRIO
import Numerics

/// A step turns a (clean target, capture-so-far input) pair into the next pair.
/// The "scene" steps (`exposure`, `zoom`, `lights`) transform both images alike; every other step degrades the input only,
/// because the target is what a perfect capture of the same scene would have recorded.
package protocol DegradationStep: Sendable {
    /// The `type:` name in recipes.
    static var type: String { get }
    /// Keys the step reads besides `type`.
    static var keys: [String] { get }
    /// Reads the step's keys; the registry checks for leftovers afterwards.
    init(config: ConfigMapping) throws
    /// - Parameters:
    ///   - input: (3, H, W) linear capture, modified in place.
    ///   - target: (3, H, W) linear clean image, same size, modified in place by scene steps only.
    ///   - rng: this step's own stream for this pair (see `SynthStreams.step`); steps without randomness ignore it.
    func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG)
    /// As `apply(input:target:rng:)`, for a patch cut from a larger source image whose statistics are `source`
    /// (nil when the pair is the whole image). Only a step that reads the source (`usesSourceStatistics`)
    /// implements it; the others ignore `source`.
    func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG, source: SourceStatistics?)
    /// Whether `apply` reads the source image's statistics (the recipe's caller then computes them per source).
    var usesSourceStatistics: Bool { get }
    /// Every parameter as used, defaults filled in (for the manifest).
    var parameters: [String: JSONValue] { get }
}

extension DegradationStep {
    package func apply(
        input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG, source: SourceStatistics?
    ) {
        apply(input: &input, target: &target, rng: &rng)
    }

    package var usesSourceStatistics: Bool { false }
}

extension DegradationStep {
    package static var registryEntry: Registry<any DegradationStep>.Entry {
        Registry.Entry(type: type, keys: keys) { try Self(config: $0) }
    }
}

package enum DegradationSteps {
    /// Every step type a recipe may name.
    package static let registry: Registry<any DegradationStep> = {
        do {
            return try Registry(
                kind: "degradation step",
                [
                    ExposureStep.registryEntry, NoiseStep.registryEntry, ClipStep.registryEntry,
                    CRFQuantizeStep.registryEntry, BlurStep.registryEntry, ShiftStep.registryEntry,
                    ZoomStep.registryEntry, LightsStep.registryEntry
                ])
        } catch {
            fatalError("\(error)")
        }
    }()
}

extension HDRImage {
    /// Applies `f` to every value of all three planes.
    mutating func mapValues(_ f: (Float) -> Float) {
        pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = f(p[i]) }
        }
    }
}
