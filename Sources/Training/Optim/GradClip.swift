// Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_) and its config key.
import Config
import Numerics

/// Scales every gradient by `maxNorm / (norm + 1e-6)` when that factor is < 1, as `clip_grad_norm_` does.
/// The norm is the L2 norm over all grads, accumulated in Double (torch sums per-tensor float32 norms, so
/// the value can differ from torch's in the last float bits). The factor is rounded to Float once and
/// multiplied in, as torch's `grads.mul_(clip_coef)` does.
/// A non-finite norm leaves the grads untouched (NaN < 1 is false): the caller skips such a step.
/// - Returns: the norm before clipping (the monitor logs it).
@discardableResult
package func clipGradNorm(_ store: ParameterStore, maxNorm: Double) -> Double {
    let norm = globalGradNorm(store)
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 {
        let c = Float(coef)
        let g = store.grads
        for i in 0..<g.count { g[i] *= c }
    }
    return norm
}

/// L2 norm of all gradients, summed in Double.
package func globalGradNorm(_ store: ParameterStore) -> Double {
    var sum = 0.0
    for x in store.grads {
        let d = Double(x)
        sum += d * d
    }
    return sum.squareRoot()
}

package enum GradClip {
    /// Reads `grad_clip` from `config` (the trainer's `train:` mapping): a number > 0, or null for no clipping.
    /// The key must be present: leaving clipping out silently is the kind of missing piece we refuse.
    package static func maxNorm(from config: ConfigMapping, key: String = "grad_clip") throws -> Double? {
        guard config.contains(key) else {
            throw config.error(key, "missing required key (a max norm > 0, or null for no clipping)")
        }
        return try config.optional(key, in: .greaterThan(0.0))
    }
}
