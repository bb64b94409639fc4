// `shift`: frame-extrapolation style misalignment, a random small warp of the input against the target.
import Config
import EXRIO
import Numerics

/// Draws dx, dy uniform in [-max_shift, max_shift] pixels, a rotation uniform in [-max_rotation_deg,
/// max_rotation_deg] and a scale uniform in [1 - max_scale, 1 + max_scale], in that order from the step's
/// stream, and warps the input with them (`AffineWarp`: bilinear, clamp-to-edge).
package struct ShiftStep: DegradationStep {
    package static let type = "shift"
    package static let keys = ["max_shift", "max_rotation_deg", "max_scale"]

    /// Pixels, >= 0.
    package var maxShift: Double
    /// Degrees, >= 0.
    package var maxRotationDegrees: Double
    /// Relative, in [0, 0.5].
    package var maxScale: Double

    package init(maxShift: Double, maxRotationDegrees: Double = 0, maxScale: Double = 0) {
        self.maxShift = maxShift
        self.maxRotationDegrees = maxRotationDegrees
        self.maxScale = maxScale
    }

    package init(config: ConfigMapping) throws {
        maxShift = try config.required("max_shift", in: .atLeast(0.0))
        maxRotationDegrees = try config.value("max_rotation_deg", default: 0.0, in: .atLeast(0))
        maxScale = try config.value("max_scale", default: 0.0, in: .within(0...0.5))
    }

    package var parameters: [String: JSONValue] {
        [
            "max_shift": .number(maxShift), "max_rotation_deg": .number(maxRotationDegrees),
            "max_scale": .number(maxScale)
        ]
    }

    /// The warp this step applies for a given stream.
    package func draw(_ rng: inout SeededRNG) -> AffineWarp {
        func symmetric(_ m: Double) -> Double { (2 * rng.uniform() - 1) * m }
        let dx = symmetric(maxShift)
        let dy = symmetric(maxShift)
        let rotation = symmetric(maxRotationDegrees)
        return AffineWarp(dx: dx, dy: dy, rotationDegrees: rotation, scale: 1 + symmetric(maxScale))
    }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        input = draw(&rng).apply(input)
    }
}
