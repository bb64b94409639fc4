// L1 on mu-law compressed linear output, normalised per sample by the target's 99th percentile.
import Config
import Glibc
import Numerics

/// Per sample: q = max(99th percentile of the target's C*H*W values (`Quantile.linear`), 1e-8), a constant
/// (no gradient through it). n(x) = tanh(max(x, 0) / q); T(n) = log(1 + mu n) / log(1 + mu), in [0, 1].
/// Value: mean over all N*C*H*W elements of |T(n(output)) - T(n(target))|, accumulated in Double.
///
/// The max keeps log(1 + mu n) defined, since output can be as low as -eps. Its gradient follows torch.clamp:
/// 0 where x < 0, passed at x == 0. Chain to delta: d output / d delta = output + eps, so an overflowed output
/// (+inf) gives a NaN gradient, as it would in torch; the monitor skips such steps.
/// Per-element transcendental math is in Double: T values are O(1) and their differences are small, so
/// float32 would spend most of its digits on cancellation.
public struct MuLawL1Loss: ConfigurableLossTerm {
    public static let type = "mu_law_l1"
    public static let keys = ["mu"]
    public var domain: LossDomain { .muLaw }
    /// Compression strength, > 0. Default 5000 (the usual HDR deghosting choice).
    public let mu: Double
    static let percentile = 0.99
    static let quantileFloor = 1e-8

    public init(mu: Double = 5000) {
        precondition(mu > 0, "mu_law_l1: mu must be > 0, got \(mu)")
        self.mu = mu
    }

    public init(config: ConfigMapping) throws {
        self.init(mu: try config.value("mu", default: 5000.0, in: .greaterThan(0.0)))
    }

    public var parameters: [String: JSONValue] { ["mu": .number(mu)] }

    public func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        inputs.checkShapes(gradDelta, term: Self.type)
        let n = inputs.delta.shape[0]
        let m = inputs.delta.sampleCount
        let scale = weight / Double(n * m)
        return inputs.output.storage.withUnsafeBufferPointer { out in
            inputs.target.storage.withUnsafeBufferPointer { tgt in
                gradDelta.storage.withUnsafeMutableBufferPointer { g in
                    sumOverSamples(
                        n,
                        SampleJob(
                            output: out, target: tgt, gradDelta: g, sampleCount: m, mu: mu,
                            scale: scale, eps: Double(inputs.eps)))
                }
            }
        } / Double(n * m)
    }

    /// One sample: its target's percentile, then every element's penalty and gradient.
    private struct SampleJob: SampleSumJob {
        let output: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>
        let gradDelta: UnsafeMutableBufferPointer<Float>
        let sampleCount: Int, mu: Double, scale: Double, eps: Double

        func sample(_ s: Int, part _: Int) -> Double {
            let r = (s * sampleCount)..<((s + 1) * sampleCount)
            let q = max(Quantile.linear(target[r], MuLawL1Loss.percentile), MuLawL1Loss.quantileFloor)
            let invLogMu = 1 / log1p(mu)
            var sum = 0.0
            for i in r {
                let x = Double(output[i])
                let no = tanh(max(x, 0) / q)
                let nt = tanh(max(Double(target[i]), 0) / q)
                let e = (log1p(mu * no) - log1p(mu * nt)) * invLogMu
                sum += abs(e)
                // dT/dx = mu / (1 + mu n) / log(1 + mu) * (1 - n^2) / q, for x >= 0.
                let dT = x >= 0 ? mu / (1 + mu * no) * invLogMu * (1 - no * no) / q : 0
                gradDelta[i] += Float(scale * torchSign(e) * dT * (x + eps))
            }
            return sum
        }
    }
}
