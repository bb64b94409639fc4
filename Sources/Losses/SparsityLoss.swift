// A pull of predicted residuals toward 0 (docs/conventions.md, Phase 3; weight ~0.1).
import Numerics

/// mean |delta_pred| over all N*C*H*W elements, accumulated in Double. Gradient sign(delta) / count
/// (0 at delta == 0, as torch). gtDelta is not used.
package struct SparsityLoss: ParameterlessLossTerm {
    package static let type = "sparsity"
    package var domain: LossDomain { .delta }

    package init() {}

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        inputs.checkShapes(gradDelta, term: Self.type)
        let count = inputs.delta.count
        let scale = Float(weight / Double(count))
        var sum = 0.0
        inputs.delta.storage.withUnsafeBufferPointer { p in
            gradDelta.storage.withUnsafeMutableBufferPointer { g in
                for i in 0..<count {
                    sum += Double(abs(p[i]))
                    g[i] += scale * torchSign(p[i])
                }
            }
        }
        return sum / Double(count)
    }
}
