// `clip`: sensor saturation, every channel value above the white level becomes the white level.
import Config
import EXRIO
import Numerics

/// input = min(input, white), per channel (a saturated sensel clips on its own, so hues shift toward white
/// in highlights, as in real captures).
public struct ClipStep: DegradationStep {
    public static let type = "clip"
    public static let keys = ["white"]

    /// Linear white level, > 0.
    public var white: Double

    public init(white: Double = 1) { self.white = white }

    public init(config: ConfigMapping) throws {
        white = try config.value("white", default: 1.0, in: .greaterThan(0))
    }

    public var parameters: [String: JSONValue] { ["white": .number(white)] }

    public func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        let w = Float(white)
        input.mapValues { min($0, w) }
    }
}
