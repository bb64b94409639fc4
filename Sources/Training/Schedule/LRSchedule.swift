// Learning-rate schedules: the contract (linear warmup, then a decay shape) and the registry keyed by `type`.
import Config

/// The learning rate for update t (0-based: t = 0 is the first update) of a run of T updates, base lr b
/// (`optim.lr`) and w = `warmup_steps` (default 0):
///
///     t <  w:  b * (t + 1) / w          linear warmup; update w-1 uses exactly b
///     t >= w:  decayed(b, t, T)         the schedule's shape, which starts at b for t = w
///
/// Shapes: `constant` b; `cosine` min + 0.5 (b - min)(1 + cos(pi (t - w) / max(1, T - w))) (reaches min_lr only
/// at t = T, one past the last update t = T - 1); `step` b * gamma^floor((t - w) / step_size).
/// Schedules are stateless: the schedule step saved in checkpoints is just t.
package protocol LRSchedule: Sendable {
    static var type: String { get }
    /// Keys read besides `type` and `warmup_steps`.
    static var keys: [String] { get }
    init(config: ConfigMapping, warmupSteps: Int) throws
    var warmupSteps: Int { get }
    /// The rate for t >= warmupSteps.
    func decayed(base: Double, step t: Int, totalSteps: Int) -> Double
    /// Every key as used, defaults filled in, `type` and `warmup_steps` included.
    var parameters: [String: JSONValue] { get }
}

extension LRSchedule {
    /// The learning rate of update `t` (0-based) in a run of `totalSteps` updates.
    package func lr(step t: Int, base: Double, totalSteps: Int) -> Double {
        precondition(t >= 0, "negative schedule step \(t)")
        if t < warmupSteps { return base * Double(t + 1) / Double(warmupSteps) }
        return decayed(base: base, step: t, totalSteps: totalSteps)
    }

    package static var registryEntry: Registry<any LRSchedule>.Entry {
        Registry.Entry(type: type, keys: keys + ["warmup_steps"]) { config in
            try Self(config: config, warmupSteps: config.value("warmup_steps", default: 0, in: .atLeast(0)))
        }
    }
}

package enum Schedules {
    /// Every `schedule.type`.
    package static let registry: Registry<any LRSchedule> = {
        do {
            return try Registry(
                kind: "schedule",
                [
                    ConstantSchedule.registryEntry, CosineSchedule.registryEntry,
                    StepSchedule.registryEntry
                ])
        } catch {
            fatalError("\(error)")
        }
    }()

    /// Builds the schedule named by `schedule.type`; unknown types and keys are ConfigErrors.
    package static func make(_ config: ConfigMapping) throws -> any LRSchedule {
        try registry.make(config)
    }
}
