// L1 and squared error on mu-law compressed linear output, normalised per sample by the target's 99th percentile.
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
package struct MuLawL1Loss: MuLawLossTerm {
    package static let type = "mu_law_l1"
    package static let squared = false
    static let percentile = 0.99
    static let quantileFloor = 1e-8
    /// Compression strength, > 0. Default 5000 (the usual HDR deghosting choice).
    package let mu: Double

    package init(mu: Double = 5000) {
        precondition(mu > 0, "mu_law_l1: mu must be > 0, got \(mu)")
        self.mu = mu
    }
}

/// mu_law_l1's squared twin: the mean over all N*C*H*W elements of (T(n(output)) - T(n(target)))^2, with T, n
/// and q exactly as `MuLawL1Loss` defines them. PSNR-mu is -10 log10 of this mean taken over a whole image (with
/// the image's q), so this is the metric's own error on a training patch; the L1 pulls a prediction towards the
/// median of what could lie behind a clip, the square towards the mean, which is what a PSNR rewards.
package struct MuLawMSELoss: MuLawLossTerm {
    package static let type = "mu_law_mse"
    package static let squared = true
    /// Compression strength, > 0. Default 5000, PSNR-mu's.
    package let mu: Double

    package init(mu: Double = 5000) {
        precondition(mu > 0, "mu_law_mse: mu must be > 0, got \(mu)")
        self.mu = mu
    }
}

/// What the two mu-law terms share: the key `mu`, the domain, and the per-sample kernel; they differ in `squared`.
package protocol MuLawLossTerm: ConfigurableLossTerm {
    var mu: Double { get }
    init(mu: Double)
    static var squared: Bool { get }
}

extension MuLawLossTerm {
    package static var keys: [String] { ["mu"] }
    package var domain: LossDomain { .muLaw }
    package var parameters: [String: JSONValue] { ["mu": .number(mu)] }

    package init(config: ConfigMapping) throws {
        self.init(mu: try config.value("mu", default: 5000.0, in: .greaterThan(0.0)))
    }

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        meanOverOutputSamples(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type) { b in
            MuLawSampleJob(b: b, mu: mu, squared: Self.squared)
        }
    }
}

/// One sample of either mu-law term: its target's percentile, then every element's penalty and gradient.
private struct MuLawSampleJob: SampleSumJob {
    let b: OutputTermBuffers, mu: Double, squared: Bool

    func sample(_ s: Int, part _: Int) -> Double {
        let r = (s * b.sampleCount)..<((s + 1) * b.sampleCount)
        let q = max(Quantile.linear(b.target[r], MuLawL1Loss.percentile), MuLawL1Loss.quantileFloor)
        // dT/dx = mu / (1 + mu n) / log(1 + mu) * (1 - n^2) / q for x >= 0, chained by d output / d delta
        // = output + eps: VectorMath.muLawLoss, several values per tanh and log1p call.
        return VectorMath.muLawLoss(
            output: UnsafeBufferPointer(rebasing: b.output[r]), target: UnsafeBufferPointer(rebasing: b.target[r]),
            grad: UnsafeMutableBufferPointer(rebasing: b.gradDelta[r]), q: q, mu: mu, scale: b.scale, eps: b.eps,
            squared: squared)
    }
}
