// `crf_quantize`: what an 8-bit (or N-bit) image file does to a capture, undone back to linear.
import Config
import EXRIO
import Numerics

/// input = CRF^-1(round(CRF(clamp(x, 0, 1)) * (2^bits - 1)) / (2^bits - 1)), per channel, computed in Double.
/// The clamp models the file's range: everything above 1 is lost, so place a `clip` before it when the white
/// level is not 1. The decoded values are exactly the 2^bits levels CRF^-1(q / (2^bits - 1)), rounded to Float.
public struct CRFQuantizeStep: DegradationStep {
    public static let type = "crf_quantize"
    public static let keys = ["curve", "gamma", "bits"]

    public var curve: CameraResponse
    /// In [1, 16].
    public var bits: Int

    public init(curve: CameraResponse = .srgb, bits: Int = 8) {
        self.curve = curve
        self.bits = bits
    }

    public init(config: ConfigMapping) throws {
        let name = try config.required("curve", String.self)
        switch name {
        case "srgb":
            // A gamma given with srgb would be silently ignored: refuse it instead.
            if config.contains("gamma") { throw config.error("gamma", "only used with curve 'gamma', not 'srgb'") }
            curve = .srgb
        case "gamma":
            curve = .gamma(try config.required("gamma", in: .greaterThan(0.0)))
        default:
            throw config.error("curve", "unknown curve '\(name)'; known: gamma, srgb")
        }
        bits = try config.value("bits", default: 8, in: .within(1...16))
    }

    public var parameters: [String: JSONValue] {
        switch curve {
        case .srgb: return ["curve": .string("srgb"), "bits": .integer(bits)]
        case .gamma(let g): return ["curve": .string("gamma"), "gamma": .number(g), "bits": .integer(bits)]
        }
    }

    /// The value one channel value becomes.
    public func quantize(_ x: Float) -> Float {
        let levels = Double((1 << bits) - 1)
        let code = (curve.encode(min(max(Double(x), 0), 1)) * levels).rounded(.toNearestOrAwayFromZero)
        return Float(curve.decode(code / levels))
    }

    public func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        input.mapValues(quantize)
    }
}
