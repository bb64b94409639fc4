// The contract every loss term implements; terms are built from config by a registry keyed by `type`.
import Config
import Numerics

/// The domain a loss term compares in; reported next to each term's value.
package enum LossDomain: String, Sendable, Codable {
    case delta, log, linear
    case muLaw = "mu_law"
    case pu21
}

/// What a loss term sees for one batch. Every tensor is (N, 3, H, W) float32 and NCHW contiguous.
package struct LossInputs: Sendable {
    /// The residual after the head's safety clamp: ln_hat = logImage + delta.
    package var delta: Tensor
    /// log(target + eps) - logImage: the residual that would reproduce the target exactly.
    package var gtDelta: Tensor
    /// log(input + eps).
    package var logImage: Tensor
    /// max(exp(logImage + delta) - eps, 0), the linear reconstruction. d output / d delta = output + eps where
    /// output > 0, else 0 (the lower bound holds it).
    package var output: Tensor
    /// The clean linear target.
    package var target: Tensor
    package var eps: Float
    /// The batch's region masks (N, 1, H, W; 1 inside), when its data set has them (`hole_l1` needs them).
    package var regions: Tensor?

    package init(
        delta: Tensor, gtDelta: Tensor, logImage: Tensor, output: Tensor, target: Tensor, eps: Float,
        regions: Tensor? = nil
    ) {
        self.regions = regions
        self.delta = delta
        self.gtDelta = gtDelta
        self.logImage = logImage
        self.output = output
        self.target = target
        self.eps = eps
    }
}

/// One term of the total loss. The total is sum(weight_i * term_i); each term is logged on its own.
package protocol LossTerm: Sendable {
    /// The registry key (`type:` in the config).
    static var type: String { get }
    var domain: LossDomain { get }
    /// Returns the term's value (reduction as documented by the term; default: mean over every element of
    /// the batch, accumulated in Double) and accumulates `weight` * d(term)/d(delta) into `gradDelta`
    /// ((N, 3, H, W), +=, never overwritten). Terms on the linear output chain through output + eps.
    func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double
}
