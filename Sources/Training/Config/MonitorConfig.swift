// The `monitor:` section of a training config: the overflow-incident monitor's thresholds (docs/conventions.md,
// "The overflow-incident monitor") and what a non-finite loss or gradient does to the run.
import Config

public struct MonitorConfig: Sendable, Equatable {
    /// What a step with a non-finite loss or gradient does.
    public enum OnNonFinite: Sendable, Equatable {
        /// Skip the update and record it; the run stops once more than `max` steps were skipped.
        case skip(max: Int)
        /// Stop the run at the first one.
        case stop
    }

    /// `overflow_limit` (65504, the largest half float, > 0): an output pixel above it is an overflow pixel.
    public var overflowLimit: Double
    /// `saturation` (0.99, in (0, 1)): |tanh(p)| above it counts as saturated.
    public var saturation: Double
    /// `on_nonfinite: skip | stop` (skip) and, with skip only, `max_nonfinite` (10, >= 1): the number of
    /// consecutive skipped steps that stops the run (a step that updates resets the count).
    public var onNonFinite: OnNonFinite

    public static let keys = ["overflow_limit", "saturation", "on_nonfinite", "max_nonfinite"]
    public static let policies = ["skip", "stop"]

    public init(overflowLimit: Double = 65504, saturation: Double = 0.99, onNonFinite: OnNonFinite = .skip(max: 10)) {
        self.overflowLimit = overflowLimit
        self.saturation = saturation
        self.onNonFinite = onNonFinite
    }

    public init(config c: ConfigMapping) throws {
        overflowLimit = try c.value("overflow_limit", default: 65504.0, in: .greaterThan(0.0))
        saturation = try c.value(
            "saturation", default: 0.99,
            in: ConfigBounds(lower: 0.0, lowerInclusive: false, upper: 1.0, upperInclusive: false))
        let policy = try c.value("on_nonfinite", default: "skip")
        switch policy {
        case "skip":
            onNonFinite = .skip(max: try c.value("max_nonfinite", default: 10, in: .atLeast(1)))
        case "stop":
            if c.contains("max_nonfinite") {
                throw c.error("max_nonfinite", "not used by on_nonfinite stop (it belongs to on_nonfinite skip)")
            }
            onNonFinite = .stop
        default:
            throw c.error("on_nonfinite", DidYouMean.unknown("policy", policy, among: Self.policies))
        }
        try c.finish(known: Self.keys)
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["overflow_limit": .number(overflowLimit), "saturation": .number(saturation)]
        switch onNonFinite {
        case .skip(let max):
            o["on_nonfinite"] = .string("skip")
            o["max_nonfinite"] = .integer(max)
        case .stop:
            o["on_nonfinite"] = .string("stop")
        }
        return .object(o)
    }
}
