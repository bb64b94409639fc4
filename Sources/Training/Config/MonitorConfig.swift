// The `monitor:` section of a training config: the overflow-incident monitor's thresholds (docs/conventions.md,
// "The overflow-incident monitor"), what a non-finite loss or gradient does to the run, and when a run has diverged.
import Config

package struct MonitorConfig: Sendable, Equatable {
    /// What a step with a non-finite loss or gradient does.
    package enum OnNonFinite: Sendable, Equatable {
        /// Skip the update and record it; the run stops once more than `max` steps were skipped.
        case skip(max: Int)
        /// Stop the run at the first one.
        case stop
    }

    /// `overflow_limit` (65504, the largest half float, > 0): an output pixel above it is an overflow pixel.
    package var overflowLimit: Double
    /// `saturation` (0.99, in (0, 1)): |tanh(p)| above it counts as saturated.
    package var saturation: Double
    /// `on_nonfinite: skip | stop` (skip) and, with skip only, `max_nonfinite` (10, >= 1): the number of
    /// consecutive skipped steps that stops the run (a step that updates resets the count).
    package var onNonFinite: OnNonFinite
    /// `divergence_margin_db` (10, > 0): a validation whose PSNR-mu falls below the identity's by more than this
    /// (or is not finite), or a non-finite training loss, marks the run diverged (once, at the first such step).
    package var divergenceMarginDB: Double
    /// `on_divergence: continue | stop` (continue): stop ends the run at its divergence, so a sweep does not spend
    /// its budget on a dead run.
    package var stopOnDivergence: Bool

    package static let keys = [
        "overflow_limit", "saturation", "on_nonfinite", "max_nonfinite", "divergence_margin_db", "on_divergence"
    ]
    package static let policies = ["skip", "stop"]
    package static let divergencePolicies = ["continue", "stop"]

    package init(
        overflowLimit: Double = 65504, saturation: Double = 0.99, onNonFinite: OnNonFinite = .skip(max: 10),
        divergenceMarginDB: Double = 10, stopOnDivergence: Bool = false
    ) {
        self.overflowLimit = overflowLimit
        self.saturation = saturation
        self.onNonFinite = onNonFinite
        self.divergenceMarginDB = divergenceMarginDB
        self.stopOnDivergence = stopOnDivergence
    }

    package init(config c: ConfigMapping) throws {
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
        divergenceMarginDB = try c.value("divergence_margin_db", default: 10.0, in: .greaterThan(0.0))
        let onDivergence = try c.value("on_divergence", default: "continue")
        guard Self.divergencePolicies.contains(onDivergence) else {
            throw c.error(
                "on_divergence", DidYouMean.unknown("policy", onDivergence, among: Self.divergencePolicies))
        }
        stopOnDivergence = onDivergence == "stop"
        try c.finish(known: Self.keys)
    }

    package var json: JSONValue {
        var o: [String: JSONValue] = [
            "overflow_limit": .number(overflowLimit), "saturation": .number(saturation),
            "divergence_margin_db": .number(divergenceMarginDB),
            "on_divergence": .string(stopOnDivergence ? "stop" : "continue")
        ]
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
