// `crf_quantize`: what an 8-bit (or N-bit) image file does to a capture, undone back to linear.
import Config
import EXRIO
import Numerics

/// input = CRF^-1(round(CRF(clamp(x, 0, 1)) * (2^bits - 1)) / (2^bits - 1)), per channel, computed in Double.
/// The clamp models the file's range: everything above 1 is lost, so place a `clip` before it when the white
/// level is not 1. The decoded values are exactly the 2^bits levels CRF^-1(q / (2^bits - 1)), rounded to Float.
package struct CRFQuantizeStep: DegradationStep {
    package static let type = "crf_quantize"
    package static let keys = ["curve", "gamma", "bits"]

    package var curve: CameraResponse { didSet { tables = Tables(curve: curve, bits: bits) } }
    /// In [1, 16].
    package var bits: Int { didSet { tables = Tables(curve: curve, bits: bits) } }
    /// Every code's decoded value, so that a value costs one `pow` (the encode) instead of two: the two were 22%
    /// of making a training pair on the fly. Measured (one loader worker, online.yaml, 64x64 patches, this 2-core
    /// AVX-512 machine, alternating with the two-pow code): about 710 -> 880 patches/s. Bit for bit the formula's
    /// result: the table holds the formula's values.
    private var tables: Tables

    struct Tables: Sendable {
        /// decoded[k] = Float(decode(k / levels)).
        let decoded: [Float]
        /// The code of 0, and for each code above it the least Float in (0, 1] whose code reaches it: the code of
        /// x is then `zeroCode` plus the number of thresholds <= x, the formula's code bit for bit for every x
        /// but NaN (the code is monotonic in x; found by bisection over the floats' bit patterns, 30 evaluations
        /// of the formula per code, once per step). A lookup instead of a `pow` per value: the formula was about
        /// a seventh of the loader's time.
        let zeroCode: Int
        let thresholds: [Float]

        /// starts[b]: the code of the least Float whose bit pattern is b << startShift, for every such Float in
        /// [0, 1]. The codes of a bucket's Floats lie between its start and the next bucket's; at 8 bits no bucket
        /// holds more than one threshold (a bucket is 1/128 of an octave), so a value's code costs a load and one
        /// or two comparisons instead of a bisection with eight unpredictable branches, which was the largest
        /// single cost of the loader (17% of `hdrpatch bench --what loader` on online_median.yaml, AVX-512).
        let starts: [UInt16]
        static let startShift: UInt32 = 16

        init(curve: CameraResponse, bits: Int) {
            let levels = Double((1 << bits) - 1)
            decoded = (0..<(1 << bits)).map { Float(curve.decode(Double($0) / levels)) }
            let code = { (x: Float) in Int(CRFQuantizeStep.code(x, curve: curve, bits: bits)) }
            let zero = code(0)
            zeroCode = zero
            let one = (1.0 as Float).bitPattern
            let thresholds = ((zero + 1)..<(1 << bits)).map { k in
                var (lo, hi) = ((0.0 as Float).bitPattern, one)  // code(lo) < k <= code(hi)
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2
                    if code(Float(bitPattern: mid)) >= k { hi = mid } else { lo = mid }
                }
                return Float(bitPattern: hi)
            }
            self.thresholds = thresholds
            // The thresholds rise, so one pass counts those <= each bucket's least Float.
            var below = 0
            starts = (0...(one >> Self.startShift)).map { b in
                let least = Float(bitPattern: b << Self.startShift)
                while below < thresholds.count && thresholds[below] <= least { below += 1 }
                return UInt16(zero + below)
            }
        }

        /// zeroCode + the number of thresholds <= x (x not NaN): the bucket's start, then the thresholds inside the
        /// bucket that x reaches.
        @inline(__always)
        func code(_ x: Float) -> Int {
            if !(x > 0) { return zeroCode }
            if x >= 1 { return zeroCode + thresholds.count }
            return thresholds.withUnsafeBufferPointer { t in
                starts.withUnsafeBufferPointer { s in
                    var c = Int(s[Int(x.bitPattern >> Self.startShift)])
                    while c - zeroCode < t.count && t[c - zeroCode] <= x { c += 1 }
                    return c
                }
            }
        }
    }

    package init(curve: CameraResponse = .srgb, bits: Int = 8) {
        self.curve = curve
        self.bits = bits
        tables = Tables(curve: curve, bits: bits)
    }

    package init(config: ConfigMapping) throws {
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

    package var parameters: [String: JSONValue] {
        switch curve {
        case .srgb: return ["curve": .string("srgb"), "bits": .integer(bits)]
        case .gamma(let g): return ["curve": .string("gamma"), "gamma": .number(g), "bits": .integer(bits)]
        }
    }

    /// The value one channel value becomes.
    /// round(encode(clamp(x, 0, 1)) levels): the code value (NaN for a NaN x).
    private func code(_ x: Float) -> Double { Self.code(x, curve: curve, bits: bits) }

    static func code(_ x: Float, curve: CameraResponse, bits: Int) -> Double {
        (curve.encode(min(max(Double(x), 0), 1)) * Double((1 << bits) - 1)).rounded(.toNearestOrAwayFromZero)
    }

    /// The formula: decode(round(encode(clamp(x, 0, 1)) levels) / levels).
    package func quantizeByFormula(_ x: Float) -> Float {
        Float(curve.decode(code(x) / Double((1 << bits) - 1)))
    }

    /// `quantizeByFormula(x)`: the code by the thresholds, its linear value from the table.
    package func quantize(_ x: Float) -> Float {
        x.isNaN ? quantizeByFormula(x) : tables.decoded[tables.code(x)]
    }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        input.mapValues(quantize)
    }
}
