// `noise`: Poisson-Gaussian sensor noise on the input, photon shot noise plus read noise.
import Config
import EXRIO
import Numerics

/// Per channel value x (linear, white = 1): x' = max(0, Poisson(x * k) / k + read_sigma * N(0, 1)),
/// k = `photons_at_white`. So Var(x') = x / k + read_sigma^2 where the clamp is inactive. Channels are
/// independent (each sensel counts its own photons). Read noise can push dark values below 0; they are
/// clamped to 0 because negative light cannot be stored as a capture and the log domain downstream needs
/// x >= 0. That clamp biases the mean of near-black pixels up by at most ~0.4 read_sigma.
package struct NoiseStep: DegradationStep {
    package static let type = "noise"
    package static let keys = ["photons_at_white", "read_sigma"]

    /// Photon count that a value of 1.0 collects, > 0; higher means cleaner. A range [low, high] is drawn
    /// log-uniformly for each pair (the first draw of the step's stream).
    package var photonsAtWhite: ParameterRange
    /// Standard deviation of the additive Gaussian read noise, in linear units, >= 0.
    package var readSigma: Double

    package init(photonsAtWhite: Double, readSigma: Double = 0) {
        self.photonsAtWhite = ParameterRange(photonsAtWhite)
        self.readSigma = readSigma
    }

    package init(config: ConfigMapping) throws {
        photonsAtWhite = try ParameterRange(
            config: config, key: "photons_at_white", bounds: .greaterThan(0.0), logarithmic: true)
        readSigma = try config.value("read_sigma", default: 0.0, in: .atLeast(0))
    }

    package var parameters: [String: JSONValue] {
        ["photons_at_white": photonsAtWhite.json, "read_sigma": .number(readSigma)]
    }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        let k = photonsAtWhite.draw(&rng)
        let sigma = readSigma
        input.pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                var x = PoissonSampler.sample(mean: Double(max(p[i], 0)) * k, rng: &rng) / k
                if sigma > 0 { x += sigma * rng.normal() }
                p[i] = Float(max(x, 0))
            }
        }
    }
}
