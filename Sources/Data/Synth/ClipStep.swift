// `clip`: sensor saturation, every channel value above the white level becomes the white level.
import Config
import EXRIO
import Numerics

/// input = min(input, white), per channel (a saturated sensel clips on its own, so hues shift toward white
/// in highlights, as in real captures).
package struct ClipStep: DegradationStep {
    package static let type = "clip"
    package static let keys = ["white"]

    /// Linear white level, > 0.
    package var white: Double

    package init(white: Double = 1) { self.white = white }

    package init(config: ConfigMapping) throws {
        white = try config.value("white", default: 1.0, in: .greaterThan(0))
    }

    package var parameters: [String: JSONValue] { ["white": .number(white)] }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        let w = Float(white)
        input.mapValues { min($0, w) }
    }
}
