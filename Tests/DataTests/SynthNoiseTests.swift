// Poisson sampling against the exact pmf, and the noise step's mean and variance against Poisson-Gaussian.
import EXRIO
import Foundation
import Numerics
import Testing

@testable import Data

struct SynthNoiseTests {
    func poissonPMF(_ k: Int, _ mean: Double) -> Double { exp(-mean + Double(k) * log(mean) - lgamma(Double(k) + 1)) }

    /// Empirical frequencies of k in `ks` against the pmf, within 5 standard errors.
    @Test(arguments: [0.5, 3.0, 9.5, 10.0, 25.0, 400.0])
    func samplerMatchesThePMF(mean: Double) {
        let n = 100_000
        var rng = SeededRNG(seed: 11, UInt64(mean * 10))
        var counts: [Int: Int] = [:]
        var sum = 0.0
        var sumSq = 0.0
        for _ in 0..<n {
            let k = PoissonSampler.sample(mean: mean, rng: &rng)
            #expect(k >= 0 && k == k.rounded())
            counts[Int(k), default: 0] += 1
            sum += k
            sumSq += k * k
        }
        let m = sum / Double(n)
        let v = sumSq / Double(n) - m * m
        #expect(abs(m - mean) <= 5 * (mean / Double(n)).squareRoot())
        #expect(abs(v / mean - 1) <= 5 * (2 / Double(n)).squareRoot() + 5 / (mean * Double(n)).squareRoot())
        let sd = mean.squareRoot()
        for k in max(0, Int(mean - 2 * sd))...Int(mean + 2 * sd + 1) {
            let p = poissonPMF(k, mean)
            let f = Double(counts[k, default: 0]) / Double(n)
            #expect(abs(f - p) <= 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-5, "k \(k): \(f) vs \(p)")
        }
    }

    @Test func samplerHandlesHugeMeansAndZero() {
        var rng = SeededRNG(seed: 5)
        #expect(PoissonSampler.sample(mean: 0, rng: &rng) == 0)
        let mean = 2e9
        let n = 2000
        var sum = 0.0
        for _ in 0..<n { sum += PoissonSampler.sample(mean: mean, rng: &rng) }
        #expect(abs(sum / Double(n) - mean) <= 5 * (mean / Double(n)).squareRoot())
    }

    func moments(_ img: HDRImage) -> (mean: Double, variance: Double) {
        let n = Double(img.pixels.count)
        let m = img.pixels.reduce(0.0) { $0 + Double($1) } / n
        return (m, img.pixels.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / n)
    }

    @Test(arguments: [(0.05, 2000.0, 0.0), (0.5, 2000.0, 0.01), (0.002, 500.0, 0.0), (3.0, 100.0, 0.05)])
    func noiseHasPoissonGaussianMoments(x: Double, photons: Double, sigma: Double) {
        let clean = HDRImage(width: 128, height: 128, fill: Float(x))
        var input = clean
        var target = clean
        var rng = SeededRNG(seed: 3)
        NoiseStep(photonsAtWhite: photons, readSigma: sigma).apply(input: &input, target: &target, rng: &rng)
        #expect(target == clean)
        let n = Double(clean.pixels.count)
        let variance = x / photons + sigma * sigma  // clamp at 0 is > 10 sigma away in these cases
        let (m, v) = moments(input)
        #expect(abs(m - x) <= 5 * (variance / n).squareRoot())
        #expect(abs(v / variance - 1) <= 5 * (2 / n).squareRoot() + 5 / (x * photons * n).squareRoot())
    }

    @Test func readNoiseBelowZeroIsClampedToZero() {
        let clean = HDRImage(width: 128, height: 128)
        var input = clean
        var target = clean
        var rng = SeededRNG(seed: 4)
        let sigma = 0.01
        NoiseStep(photonsAtWhite: 1000, readSigma: sigma).apply(input: &input, target: &target, rng: &rng)
        #expect(input.pixels.allSatisfy { $0 >= 0 })
        // max(0, sigma Z): half the values are 0, the mean is sigma / sqrt(2 pi).
        let n = Double(input.pixels.count)
        let zeros = Double(input.pixels.filter { $0 == 0 }.count) / n
        #expect(abs(zeros - 0.5) <= 5 * (0.25 / n).squareRoot())
        let m = moments(input).mean
        #expect(abs(m - sigma / (2 * Double.pi).squareRoot()) <= 5 * sigma / n.squareRoot())
    }

    @Test func noiseIsAPureFunctionOfTheStream() {
        let clean = testImage(width: 32, height: 16, seed: 8)
        let step = NoiseStep(photonsAtWhite: 300, readSigma: 0.002)
        func run(_ seed: UInt64) -> HDRImage {
            var input = clean
            var target = clean
            var rng = SeededRNG(seed: seed, 1, 2)
            step.apply(input: &input, target: &target, rng: &rng)
            return input
        }
        #expect(run(1) == run(1))
        #expect(run(1) != run(2))
    }
}
