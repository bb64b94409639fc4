// torch.optim.SGD (dampening 0, no Nesterov) with optional momentum and L2 weight decay.
import Config
import Numerics

/// Mirrors `torch.optim.SGD(dampening=0, nesterov=False, maximize=False, foreach=False)` on CPU float32, matching
/// torch 2.13 CPU/AVX-512 bit for bit (checked over 20 steps with momentum and weight decay). Per element:
///
///     d   = fma(p, f32(wd), g)                      torch's grad.add(param, alpha=wd), skipped when wd == 0
///     buf = d on the first step, else buf * f32(momentum) + d     (no state slot when momentum == 0)
///     p   = fma(buf, f32(-lr), p)                   torch's param.add_(buf, alpha=-lr)
///
/// The store's grads are not modified (the weight-decayed gradient is a temporary, as in torch).
/// "First step" is `stepCount == 0`: restore `stepCount` with the buffer when resuming.
package final class SGD: ConfigurableOptimizer, @unchecked Sendable {
    package static let type = "sgd"
    package static let keys = ["lr", "momentum", "weight_decay"]

    package let baseLR: Double
    package let momentum: Double
    package let weightDecay: Double
    package var stepCount = 0
    package var stateSlots: Int { momentum != 0 ? 1 : 0 }
    package var stateNames: [String] { momentum != 0 ? ["momentum_buffer"] : [] }

    /// Defaults are torch's: momentum 0, weight_decay 0.
    package init(lr: Double, momentum: Double = 0, weightDecay: Double = 0) {
        baseLR = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// `optim: {type: sgd, lr: 0.01, momentum: 0.9, weight_decay: 0}`; only lr is required.
    package convenience init(config: ConfigMapping) throws {
        let lr = try config.required("lr", in: .greaterThan(0.0))
        let momentum = try config.value("momentum", default: 0.0, in: .atLeast(0.0))
        let wd = try config.value("weight_decay", default: 0.0, in: .atLeast(0.0))
        self.init(lr: lr, momentum: momentum, weightDecay: wd)
    }

    package var parameters: [String: JSONValue] {
        [
            "type": .string(Self.type), "lr": .number(baseLR), "momentum": .number(momentum),
            "weight_decay": .number(weightDecay)
        ]
    }

    package func step(_ store: ParameterStore, lr: Double) {
        precondition(store.stateSlots >= stateSlots, "SGD with momentum needs a store with 1 state slot")
        let first = stepCount == 0
        stepCount += 1
        let wd = Float(weightDecay)
        let mom = Float(momentum)
        let negLR = Float(-lr)
        let p = store.values
        let g = store.grads
        let buf: UnsafeMutableBufferPointer<Float>? = momentum != 0 ? store.state(0) : nil
        for i in 0..<store.count {
            var d = g[i]
            if weightDecay != 0 { d = d.addingProduct(p[i], wd) }
            if let buf {
                d = first ? d : buf[i] * mom + d
                buf[i] = d
            }
            p[i] = p[i].addingProduct(d, negLR)
        }
    }
}
