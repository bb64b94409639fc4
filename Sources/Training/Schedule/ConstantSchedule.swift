// `schedule.type: constant`: the base learning rate after warmup.
import Config

package struct ConstantSchedule: LRSchedule {
    package static let type = "constant"
    package static let keys: [String] = []
    package let warmupSteps: Int

    package init(warmupSteps: Int = 0) { self.warmupSteps = warmupSteps }
    package init(config: ConfigMapping, warmupSteps: Int) throws { self.init(warmupSteps: warmupSteps) }

    package func decayed(base: Double, step t: Int, totalSteps: Int) -> Double { base }

    package var parameters: [String: JSONValue] { ["type": .string(Self.type), "warmup_steps": .integer(warmupSteps)] }
}
