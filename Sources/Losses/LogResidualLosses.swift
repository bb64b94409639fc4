// Pointwise penalties on the log residual error e = delta - gtDelta: huber, l1 and mse.
import Config
import Numerics

// ln_hat - log(target + eps) = delta - gtDelta, so comparing in the log domain is comparing the deltas.
// Reduction of all three: mean over all N*C*H*W elements, accumulated in Double per sample (the samples over the
// compute threads), the samples' sums added in sample order: the same value whatever the thread count.

/// PyTorch `HuberLoss(delta:)`: 0.5 e^2 where |e| < delta, else delta * (|e| - 0.5 delta).
/// Gradient: e inside, delta * sign(e) outside (the two agree at |e| == delta). Mean over all N*C*H*W elements.
package struct HuberLoss: ConfigurableLossTerm {
    package static let type = "huber"
    package static let keys = ["delta"]
    package var domain: LossDomain { .log }
    /// The transition point, > 0. Default 1.0 (PyTorch's).
    package let delta: Double

    package init(delta: Double = 1.0) {
        precondition(delta > 0, "huber: delta must be > 0, got \(delta)")
        self.delta = delta
    }

    package init(config: ConfigMapping) throws {
        self.init(delta: try config.value("delta", default: 1.0, in: .greaterThan(0.0)))
    }

    package var parameters: [String: JSONValue] { ["delta": .number(delta)] }

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        pointwiseLogResidual(
            inputs, weight: weight, gradDelta: &gradDelta, term: Self.type, .huber(Penalty(delta: delta)))
    }

    struct Penalty: PointwisePenalty {
        let d: Float, halfD: Float
        init(delta: Double) {
            d = Float(delta)
            halfD = 0.5 * Float(delta)
        }
        @inline(__always)
        func callAsFunction(_ e: Float) -> (Float, Float) {
            let a = abs(e)
            return a < d ? (0.5 * e * e, e) : (d * (a - halfD), d * torchSign(e))
        }
    }
}

/// |e|, gradient sign(e) (0 at e == 0, as torch). Mean over all N*C*H*W elements.
package struct L1Loss: ParameterlessLossTerm {
    package static let type = "l1"
    package var domain: LossDomain { .log }

    package init() {}

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        pointwiseLogResidual(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type, .l1)
    }

    struct Penalty: PointwisePenalty {
        @inline(__always)
        func callAsFunction(_ e: Float) -> (Float, Float) { (abs(e), torchSign(e)) }
    }
}

/// e^2, gradient 2e. Mean over all N*C*H*W elements.
package struct MSELoss: ParameterlessLossTerm {
    package static let type = "mse"
    package var domain: LossDomain { .log }

    package init() {}

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        pointwiseLogResidual(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type, .mse)
    }

    struct Penalty: PointwisePenalty {
        @inline(__always)
        func callAsFunction(_ e: Float) -> (Float, Float) { (e * e, 2 * e) }
    }
}

/// A pointwise penalty of the log residual error: (penalty, d penalty / d e), in float32.
protocol PointwisePenalty {
    func callAsFunction(_ e: Float) -> (Float, Float)
}

/// Which penalty `pointwiseLogResidual` applies. An enum rather than a generic parameter: the sample job runs
/// behind the thread pool's protocol witness, where a generic penalty stays unspecialised and costs an indirect
/// call per element; a switch outside the loop gives each penalty its own inlined loop.
enum PointwiseKind {
    case huber(HuberLoss.Penalty)
    case l1, mse
}

/// mean_i f(e_i) with e = delta - gtDelta; gradDelta[i] += weight / count * f'(e_i).
func pointwiseLogResidual(
    _ inputs: LossInputs, weight: Double, gradDelta: inout Tensor, term: String, _ kind: PointwiseKind
) -> Double {
    inputs.checkShapes(gradDelta, term: term)
    let count = inputs.delta.count
    let scale = Float(weight / Double(count))
    let m = inputs.delta.sampleCount
    return inputs.delta.storage.withUnsafeBufferPointer { p in
        inputs.gtDelta.storage.withUnsafeBufferPointer { t in
            gradDelta.storage.withUnsafeMutableBufferPointer { g in
                sumOverSamples(
                    inputs.delta.shape[0],
                    PointwiseSamples(kind: kind, delta: p, gtDelta: t, grad: g, m: m, scale: scale))
            }
        }
    } / Double(count)
}

/// One sample of `pointwiseLogResidual`: its penalties summed in order, its gradient written.
private struct PointwiseSamples: SampleSumJob {
    let kind: PointwiseKind
    let delta: UnsafeBufferPointer<Float>, gtDelta: UnsafeBufferPointer<Float>
    let grad: UnsafeMutableBufferPointer<Float>
    let m: Int, scale: Float

    func sample(_ s: Int, part _: Int) -> Double {
        switch kind {
        case .huber(let f): return penalise(s, f)
        case .l1: return penalise(s, L1Loss.Penalty())
        case .mse: return penalise(s, MSELoss.Penalty())
        }
    }

    @inline(__always)
    private func penalise<F: PointwisePenalty>(_ s: Int, _ f: F) -> Double {
        var sum = 0.0
        for i in (s * m)..<((s + 1) * m) {
            let (v, slope) = f(delta[i] - gtDelta[i])
            sum += Double(v)
            grad[i] += scale * slope
        }
        return sum
    }
}
