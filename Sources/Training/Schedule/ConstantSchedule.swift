// `schedule.type: constant`: the base learning rate after warmup.
import Config

public struct ConstantSchedule: LRSchedule {
    public static let type = "constant"
    public static let keys: [String] = []
    public let warmupSteps: Int

    public init(warmupSteps: Int = 0) { self.warmupSteps = warmupSteps }
    public init(config: ConfigMapping, warmupSteps: Int) throws { self.init(warmupSteps: warmupSteps) }

    public func decayed(base: Double, step t: Int, totalSteps: Int) -> Double { base }

    public var parameters: [String: JSONValue] { ["type": .string(Self.type), "warmup_steps": .integer(warmupSteps)] }
}
