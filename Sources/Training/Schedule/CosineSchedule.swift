// `schedule.type: cosine`: half a cosine from the base rate down to `min_lr` over the steps after warmup.
import Config
import Foundation

/// lr(t) = min + 0.5 (base - min)(1 + cos(pi (t - w) / max(1, T - w))) for t >= w: base at t = w, min at t = T.
/// Past T (a run extended without changing T) the cosine rises again; the trainer must pass the run's real T.
package struct CosineSchedule: LRSchedule {
    package static let type = "cosine"
    package static let keys = ["min_lr"]
    package let warmupSteps: Int
    package let minLR: Double

    package init(warmupSteps: Int = 0, minLR: Double = 0) {
        self.warmupSteps = warmupSteps
        self.minLR = minLR
    }

    package init(config: ConfigMapping, warmupSteps: Int) throws {
        self.init(warmupSteps: warmupSteps, minLR: try config.value("min_lr", default: 0.0, in: .atLeast(0.0)))
    }

    package func decayed(base: Double, step t: Int, totalSteps: Int) -> Double {
        let span = Double(max(1, totalSteps - warmupSteps))
        return minLR + 0.5 * (base - minLR) * (1 + cos(Double.pi * Double(t - warmupSteps) / span))
    }

    package var parameters: [String: JSONValue] {
        ["type": .string(Self.type), "warmup_steps": .integer(warmupSteps), "min_lr": .number(minLR)]
    }
}
