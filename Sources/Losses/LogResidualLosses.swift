// Pointwise penalties on the log residual error e = delta - gtDelta: huber, l1 and mse.
import Config
import Foundation
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

/// |e| where the sample's region mask is set (the holes a frame warp opened), weighted by the mask's value;
/// gradient mask * sign(e). Mean over all N*C*H*W elements, so `l1` (weight 1) plus `hole_l1` (weight 4) weights
/// the holes 5x, as ExtraNet's loss does. Needs region masks (`data.train` and `data.val` with a mask/ directory):
/// the trainer refuses the config without them; a batch without masks scores NaN.
package struct HoleL1Loss: ParameterlessLossTerm {
    package static let type = "hole_l1"
    package var domain: LossDomain { .log }

    package init() {}

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        inputs.checkShapes(gradDelta, term: Self.type)
        // Not defined without masks: NaN (a scored set without masks shows "nan"; the trainer refuses such a
        // training or validation set before the first step).
        guard let regions = inputs.regions else { return .nan }
        let s = inputs.delta.shape
        precondition(
            regions.shape.count == 4 && regions.shape[0] == s[0] && regions.shape[1] == 1 && regions.shape[2] == s[2]
                && regions.shape[3] == s[3], "hole_l1: regions have shape \(regions.shape), delta \(s)")
        let count = inputs.delta.count
        let scale = Float(weight / Double(count))
        return inputs.delta.storage.withUnsafeBufferPointer { p in
            inputs.gtDelta.storage.withUnsafeBufferPointer { t in
                regions.storage.withUnsafeBufferPointer { r in
                    gradDelta.storage.withUnsafeMutableBufferPointer { g in
                        sumOverSamples(
                            s[0],
                            MaskedL1Samples(
                                delta: p, gtDelta: t, regions: r, grad: g, channels: s[1], plane: s[2] * s[3],
                                scale: scale))
                    }
                }
            }
        } / Double(count)
    }
}

/// One sample of `hole_l1`: mask-weighted |e| summed in order, its gradient written.
private struct MaskedL1Samples: SampleSumJob {
    let delta: UnsafeBufferPointer<Float>, gtDelta: UnsafeBufferPointer<Float>, regions: UnsafeBufferPointer<Float>
    let grad: UnsafeMutableBufferPointer<Float>
    let channels: Int, plane: Int, scale: Float

    func sample(_ s: Int, part _: Int) -> Double {
        var sum = 0.0
        for c in 0..<channels {
            let base = (s * channels + c) * plane
            for k in 0..<plane {
                let w = regions[s * plane + k]
                if w == 0 { continue }
                let e = delta[base + k] - gtDelta[base + k]
                sum += Double(w * abs(e))
                grad[base + k] += scale * w * torchSign(e)
            }
        }
        return sum
    }
}

/// |e| at the pixels where the input clipped: some channel of the input reaches `level` (linear, the input's own
/// scale; default 1.0, the phone recipe's 8-bit white), found from log(input + eps) >= log(level + eps) less 1e-5
/// (the logarithm's rounding). Every channel of such a pixel counts; gradient sign(e) there. Mean over all N*C*H*W
/// elements, so `l1` 1 + `clip_l1` 4 weights the clipped pixels 5x: ExtraNet's hole weighting applied to the region
/// a clipped input carries no information about (HDRCNN trains only there).
package struct ClipL1Loss: ConfigurableLossTerm {
    package static let type = "clip_l1"
    package static let keys = ["level"]
    package var domain: LossDomain { .log }
    package let level: Double

    package init(level: Double = 1.0) {
        precondition(level > 0, "clip_l1: level must be > 0, got \(level)")
        self.level = level
    }

    package init(config: ConfigMapping) throws {
        self.init(level: try config.value("level", default: 1.0, in: .greaterThan(0.0)))
    }

    package var parameters: [String: JSONValue] { ["level": .number(level)] }

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        inputs.checkShapes(gradDelta, term: Self.type)
        let s = inputs.delta.shape
        let count = inputs.delta.count
        let scale = Float(weight / Double(count))
        let threshold = Float(Foundation.log(level + Double(inputs.eps))) - 1e-5
        return inputs.delta.storage.withUnsafeBufferPointer { p in
            inputs.gtDelta.storage.withUnsafeBufferPointer { t in
                inputs.logImage.storage.withUnsafeBufferPointer { l in
                    gradDelta.storage.withUnsafeMutableBufferPointer { g in
                        sumOverSamples(
                            s[0],
                            ClipL1Samples(
                                delta: p, gtDelta: t, logImage: l, grad: g, channels: s[1], plane: s[2] * s[3],
                                threshold: threshold, scale: scale))
                    }
                }
            }
        } / Double(count)
    }
}

/// One sample of `clip_l1`: |e| summed in order over the clipped pixels' channels, its gradient written.
private struct ClipL1Samples: SampleSumJob {
    let delta: UnsafeBufferPointer<Float>, gtDelta: UnsafeBufferPointer<Float>, logImage: UnsafeBufferPointer<Float>
    let grad: UnsafeMutableBufferPointer<Float>
    let channels: Int, plane: Int, threshold: Float, scale: Float

    func sample(_ s: Int, part _: Int) -> Double {
        var sum = 0.0
        let first = s * channels * plane
        for k in 0..<plane {
            var clipped = false
            for c in 0..<channels where logImage[first + c * plane + k] >= threshold { clipped = true }
            if !clipped { continue }
            for c in 0..<channels {
                let i = first + c * plane + k
                let e = delta[i] - gtDelta[i]
                sum += Double(abs(e))
                grad[i] += scale * torchSign(e)
            }
        }
        return sum
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
