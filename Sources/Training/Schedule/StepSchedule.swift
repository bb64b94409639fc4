// `schedule.type: step`: the base rate multiplied by `gamma` every `step_size` updates after warmup.
import Config
import Foundation

/// lr(t) = base * gamma^floor((t - w) / step_size) for t >= w (torch's StepLR, counted from the end of warmup).
package struct StepSchedule: LRSchedule {
    package static let type = "step"
    package static let keys = ["step_size", "gamma"]
    package let warmupSteps: Int
    package let stepSize: Int
    package let gamma: Double

    package init(warmupSteps: Int = 0, stepSize: Int, gamma: Double) {
        self.warmupSteps = warmupSteps
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// `step_size` (integer >= 1) and `gamma` (> 0) are required: there is no sensible default decay.
    package init(config: ConfigMapping, warmupSteps: Int) throws {
        self.init(
            warmupSteps: warmupSteps, stepSize: try config.required("step_size", in: .atLeast(1)),
            gamma: try config.required("gamma", in: .greaterThan(0.0)))
    }

    package func decayed(base: Double, step t: Int, totalSteps: Int) -> Double {
        base * pow(gamma, Double((t - warmupSteps) / stepSize))
    }

    package var parameters: [String: JSONValue] {
        [
            "type": .string(Self.type), "warmup_steps": .integer(warmupSteps), "step_size": .integer(stepSize),
            "gamma": .number(gamma)
        ]
    }
}
