// The contract of optimizers over the contiguous parameter store.
import Numerics

/// Updates `store.values` in place from `store.grads`, keeping its state in the store's state slots.
/// Built from `optim:` through `Optimizers.registry` as a `ConfigurableOptimizer` (adds base lr, PyTorch state
/// names and resolved parameters for checkpoints); `AdamW` and `SGD` mirror torch's CPU kernels bit for bit.
package protocol Optimizer: AnyObject, Sendable {
    /// The registry key (`optim.type`).
    static var type: String { get }
    /// State slots the store must be created with (AdamW: 2 moments; SGD: 1 with momentum, else 0).
    var stateSlots: Int { get }
    /// Steps taken so far (bias correction uses it; checkpoints save it).
    var stepCount: Int { get set }
    /// One update with learning rate `lr` (the schedule's value for this step).
    func step(_ store: ParameterStore, lr: Double)
}
