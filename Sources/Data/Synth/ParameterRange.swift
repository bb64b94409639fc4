// A recipe parameter given as one value or as a [low, high] range drawn anew for every pair.
import Config
import Foundation
import Numerics

/// `key: 0.1` (that value for every pair) or `key: [0.05, 0.15]` (drawn for each pair from the step's own
/// stream: uniform, or log-uniform for scale-like parameters such as a photon count).
package struct ParameterRange: Sendable, Equatable {
    package var low: Double
    package var high: Double
    /// Draw log-uniformly (the parameter's ratio matters, not its difference).
    package var logarithmic: Bool

    package init(_ value: Double) {
        (low, high, logarithmic) = (value, value, false)
    }

    package init(low: Double, high: Double, logarithmic: Bool) {
        (self.low, self.high, self.logarithmic) = (low, high, logarithmic)
    }

    /// Reads `key` as a number or a two-number list [low, high] with low <= high, both within `bounds`.
    package init(
        config: ConfigMapping, key: String, bounds: ConfigBounds<Double>, logarithmic: Bool = false
    ) throws {
        if config.holdsSequence(key) {
            let v: [Double] = try config.values(key)
            guard v.count == 2, v[0] <= v[1] else {
                throw config.error(key, "expected a number or a range [low, high] with low <= high, got \(v)")
            }
            for x in v { _ = try config.check(key, x, bounds) }
            self.init(low: v[0], high: v[1], logarithmic: logarithmic)
        } else {
            self.init(try config.required(key, in: bounds))
        }
    }

    package var isRange: Bool { low != high }

    /// The value for one pair: `low` when fixed (no draw, so a fixed recipe uses its stream as before),
    /// else one uniform draw.
    package func draw(_ rng: inout SeededRNG) -> Double {
        guard isRange else { return low }
        let u = rng.uniform()
        return logarithmic ? low * Foundation.exp(u * Foundation.log(high / low)) : low + u * (high - low)
    }

    package var json: JSONValue { isRange ? .array([.number(low), .number(high)]) : .number(low) }
}
