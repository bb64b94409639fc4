// Optimizers built from the `optim:` config mapping: the registry keyed by `type`, and what a built one exposes.
import Config
import Numerics

/// An optimizer as the trainer and checkpoints see it: the `Optimizer` contract plus its configured base
/// learning rate, the checkpoint names of its state slots and its resolved parameters.
package protocol ConfigurableOptimizer: Optimizer {
    /// Keys read besides `type` (documentation and did-you-mean suggestions).
    static var keys: [String] { get }
    init(config: ConfigMapping) throws
    /// `optim.lr`: the schedule's base learning rate. `step(_:lr:)` uses whatever lr it is given.
    var baseLR: Double { get }
    /// PyTorch's state names, one per slot in slot order (`exp_avg`, `exp_avg_sq`; `momentum_buffer`).
    var stateNames: [String] { get }
    /// Every key as used, defaults filled in, `type` included (goes into checkpoint metadata).
    var parameters: [String: JSONValue] { get }
}

extension ConfigurableOptimizer {
    package static var registryEntry: Registry<any ConfigurableOptimizer>.Entry {
        Registry.Entry(type: type, keys: keys) { try Self(config: $0) }
    }
}

package enum Optimizers {
    /// Every `optim.type`.
    package static let registry: Registry<any ConfigurableOptimizer> = {
        do {
            return try Registry(kind: "optimizer", [AdamW.registryEntry, SGD.registryEntry])
        } catch {
            fatalError("\(error)")
        }
    }()

    /// Builds the optimizer named by `optim.type`; unknown types, unknown keys and a missing `lr` are ConfigErrors.
    package static func make(_ config: ConfigMapping) throws -> any ConfigurableOptimizer {
        try registry.make(config)
    }
}
