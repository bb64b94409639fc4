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

    public var curve: CameraResponse { didSet { tables = Tables(curve: curve, bits: bits) } }
    /// In [1, 16].
    public var bits: Int { didSet { tables = Tables(curve: curve, bits: bits) } }
    /// Every code's decoded value and the code boundaries, so that a value costs a binary search instead of two
    /// `pow` calls (they were 22% of making a training pair on the fly). `quantize` gives the formula's result bit
    /// for bit: it falls back to the formula within 1e-9 of a boundary.
    private var tables: Tables

    struct Tables: Sendable {
        /// decoded[k] = Float(decode(k / levels)).
        let decoded: [Float]
        /// lower[k - 1] = decode((k - 0.5) / levels): about where the code becomes k (k >= 1).
        let lower: [Double]

        init(curve: CameraResponse, bits: Int) {
            let levels = Double((1 << bits) - 1)
            let codes = 1 << bits
            decoded = (0..<codes).map { Float(curve.decode(Double($0) / levels)) }
            lower = (1..<codes).map { curve.decode((Double($0) - 0.5) / levels) }
        }
    }

    public init(curve: CameraResponse = .srgb, bits: Int = 8) {
        self.curve = curve
        self.bits = bits
        tables = Tables(curve: curve, bits: bits)
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
        tables = Tables(curve: curve, bits: bits)
    }

    public var parameters: [String: JSONValue] {
        switch curve {
        case .srgb: return ["curve": .string("srgb"), "bits": .integer(bits)]
        case .gamma(let g): return ["curve": .string("gamma"), "gamma": .number(g), "bits": .integer(bits)]
        }
    }

    /// The value one channel value becomes.
    /// The formula: decode(round(encode(clamp(x, 0, 1)) levels) / levels).
    public func quantizeByFormula(_ x: Float) -> Float {
        let levels = Double((1 << bits) - 1)
        let code = (curve.encode(min(max(Double(x), 0), 1)) * levels).rounded(.toNearestOrAwayFromZero)
        return Float(curve.decode(code / levels))
    }

    /// `quantizeByFormula(x)`, by table.
    public func quantize(_ x: Float) -> Float {
        let v = min(max(Double(x), 0), 1)
        if v.isNaN { return quantizeByFormula(x) }
        let lower = tables.lower
        // The code: how many boundaries lie at or below v.
        var lo = 0
        var hi = lower.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if lower[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        let nearAbove = lo < lower.count && lower[lo] - v <= 1e-9 * lower[lo]
        let nearBelow = lo > 0 && v - lower[lo - 1] <= 1e-9 * lower[lo - 1]
        return nearAbove || nearBelow ? quantizeByFormula(x) : tables.decoded[lo]
    }

    public func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        input.mapValues(quantize)
    }
}
