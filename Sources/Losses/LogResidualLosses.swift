// Pointwise penalties on the log residual error e = delta - gtDelta: huber, l1 and mse.
import Config
import Numerics

// ln_hat - log(target + eps) = delta - gtDelta, so comparing in the log domain is comparing the deltas.
// Reduction of all three: mean over all N*C*H*W elements, accumulated in Double.

/// PyTorch `HuberLoss(delta:)`: 0.5 e^2 where |e| < delta, else delta * (|e| - 0.5 delta).
/// Gradient: e inside, delta * sign(e) outside (the two agree at |e| == delta). Mean over all N*C*H*W elements.
public struct HuberLoss: ConfigurableLossTerm {
    public static let type = "huber"
    public static let keys = ["delta"]
    public var domain: LossDomain { .log }
    /// The transition point, > 0. Default 1.0 (PyTorch's).
    public let delta: Double

    public init(delta: Double = 1.0) {
        precondition(delta > 0, "huber: delta must be > 0, got \(delta)")
        self.delta = delta
    }

    public init(config: ConfigMapping) throws {
        self.init(delta: try config.value("delta", default: 1.0, in: .greaterThan(0.0)))
    }

    public var parameters: [String: JSONValue] { ["delta": .number(delta)] }

    public func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        let d = Float(delta)
        let halfD = 0.5 * Float(delta)
        return pointwiseLogResidual(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type) { e in
            let a = abs(e)
            return a < d ? (0.5 * e * e, e) : (d * (a - halfD), d * torchSign(e))
        }
    }
}

/// |e|, gradient sign(e) (0 at e == 0, as torch). Mean over all N*C*H*W elements.
public struct L1Loss: ParameterlessLossTerm {
    public static let type = "l1"
    public var domain: LossDomain { .log }

    public init() {}

    public func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        pointwiseLogResidual(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type) { e in
            (abs(e), torchSign(e))
        }
    }
}

/// e^2, gradient 2e. Mean over all N*C*H*W elements.
public struct MSELoss: ParameterlessLossTerm {
    public static let type = "mse"
    public var domain: LossDomain { .log }

    public init() {}

    public func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        pointwiseLogResidual(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type) { e in (e * e, 2 * e) }
    }
}

/// mean_i f(e_i) with e = delta - gtDelta; gradDelta[i] += weight / count * f'(e_i).
/// - Parameter f: (e) -> (penalty, d penalty / d e), in float32.
@inline(__always)
func pointwiseLogResidual(
    _ inputs: LossInputs, weight: Double, gradDelta: inout Tensor, term: String,
    _ f: (Float) -> (Float, Float)
) -> Double {
    inputs.checkShapes(gradDelta, term: term)
    let count = inputs.delta.count
    let scale = Float(weight / Double(count))
    var sum = 0.0
    inputs.delta.storage.withUnsafeBufferPointer { p in
        inputs.gtDelta.storage.withUnsafeBufferPointer { t in
            gradDelta.storage.withUnsafeMutableBufferPointer { g in
                for i in 0..<count {
                    let (v, slope) = f(p[i] - t[i])
                    sum += Double(v)
                    g[i] += scale * slope
                }
            }
        }
    }
    return sum / Double(count)
}
