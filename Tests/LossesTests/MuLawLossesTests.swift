// mu_law_l1 and mu_law_mse: reference with central differences, kernel against it, the clamp at 0 and the
// percentile floor.
import Glibc
import Numerics
import Testing

@testable import Losses

struct MuLawLossesTests {
    /// Outputs 5% to 65% away from the target (log error in [0.05, 0.5]): T differences far from 0.
    static func batch(seed: UInt64) -> RefBatch { RefBatch.make(seed: seed) { signedUniform(&$0, 0.05, 0.5) } }

    @Test(arguments: [5000.0, 10.0])
    func matchesReference(mu: Double) {
        Check.all(MuLawL1Loss(mu: mu), Ref.muLaw(mu), Self.batch(seed: 31))
    }

    @Test(arguments: [5000.0, 10.0])
    func squaredMatchesReference(mu: Double) {
        Check.all(MuLawMSELoss(mu: mu), Ref.muLaw(mu, squared: true), Self.batch(seed: 32))
    }

    /// The squared term by hand: the same T and q as the L1's, its error squared and its gradient 2e dT/dx.
    @Test func squaredByHandOnOneSample() {
        let target: [Float] = [1, 2, 3, 4]
        let shape = [1, 1, 1, 4]
        let z = Tensor(zeros: shape)
        let inputs = LossInputs(
            delta: z, gtDelta: z, logImage: z, output: Tensor(shape: shape, storage: [2, 2, 3, 1]),
            target: Tensor(shape: shape, storage: target), eps: 1e-4)
        var g = Tensor(zeros: shape)
        let v = MuLawMSELoss(mu: 5000).evaluate(inputs, weight: 3, gradDelta: &g)
        let q = 3.97
        let T = { (x: Double) in log(1 + 5000 * tanh(x / q)) / log(1 + 5000) }
        let e0 = T(2) - T(1)
        let e3 = T(1) - T(4)
        // The value is the unweighted mean; the weight scales the gradient only.
        #expect(abs(v - (e0 * e0 + e3 * e3) / 4) < 1e-12)
        let slope = { (x: Double) in
            let n = tanh(x / q)
            return 5000 / (1 + 5000 * n) / log(5001) * (1 - n * n) / q * (x + 1e-4)
        }
        let g0 = 3 * 2 * e0 * slope(2) / 4
        let g3 = 3 * 2 * e3 * slope(1) / 4
        #expect(abs(Double(g.storage[0]) - g0) < 1e-6 * abs(g0))
        #expect(abs(Double(g.storage[3]) - g3) < 1e-6 * abs(g3))
        #expect(g.storage[1] == 0 && g.storage[2] == 0)
    }

    @Test func byHandOnOneSample() {
        // target [1, 2, 3, 4]: q = 3 + 0.97 * 1 = 3.97; output [2, 2, 3, 4] differs in one element.
        let target: [Float] = [1, 2, 3, 4]
        let shape = [1, 1, 1, 4]
        let out: [Float] = [2, 2, 3, 4]
        let z = Tensor(zeros: shape)
        let inputs = LossInputs(
            delta: z, gtDelta: z, logImage: z, output: Tensor(shape: shape, storage: out),
            target: Tensor(shape: shape, storage: target), eps: 1e-4)
        var g = Tensor(zeros: shape)
        let v = MuLawL1Loss(mu: 5000).evaluate(inputs, weight: 1, gradDelta: &g)
        let q = 3.97
        let T = { (x: Double) in log(1 + 5000 * tanh(x / q)) / log(1 + 5000) }
        #expect(abs(v - (T(2) - T(1)) / 4) < 1e-12)
        let n = tanh(2 / q)
        let slope = 5000 / (1 + 5000 * n) / log(5001) * (1 - n * n) / q * (2 + 1e-4) / 4
        #expect(abs(Double(g.storage[0]) - slope) < 1e-7 * slope)
        #expect(g.storage[1...] == [0, 0, 0])
    }

    @Test func outputHeldAtZeroHasNoGradientAndCountsAsZero() {
        // exp(logImage + delta) < eps: exp(...) - eps is slightly negative, and the output's lower bound holds it at 0.
        let shape = [1, 1, 1, 2]
        let eps: Float = 1e-4
        let inputs = LossInputs(
            delta: Tensor(shape: shape, storage: [-30, 0]),
            logImage: Tensor(shape: shape, storage: [0, 0]),
            target: Tensor(shape: shape, storage: [1, 1]), eps: eps)
        #expect(inputs.output.storage[0] == 0)
        var g = Tensor(zeros: shape)
        let v = MuLawL1Loss().evaluate(inputs, weight: 1, gradDelta: &g)
        #expect(g.storage[0] == 0)
        // q = 1 (both targets 1): the first element costs T(tanh(1)) - T(0) = T(tanh(1)).
        let T1 = log(1 + 5000 * tanh(1.0)) / log(5001.0)
        let x1 = Double(inputs.output.storage[1])
        let T2 = log(1 + 5000 * tanh(x1)) / log(5001.0)
        #expect(abs(v - (T1 + abs(T2 - T1)) / 2) < 1e-9)
    }

    @Test func allBlackTargetUsesTheQuantileFloor() {
        let shape = [1, 1, 1, 2]
        let z = Tensor(zeros: shape)
        let inputs = LossInputs(
            delta: z, gtDelta: z, logImage: z, output: Tensor(shape: shape, storage: [1e-9, 0]),
            target: z, eps: 1e-4)
        var g = Tensor(zeros: shape)
        let v = MuLawL1Loss().evaluate(inputs, weight: 1, gradDelta: &g)
        // n = tanh(1e-9 / 1e-8) = tanh(0.1): finite, no NaN.
        let expected = log(1 + 5000 * tanh(Double(Float(1e-9)) / 1e-8)) / log(5001.0) / 2
        #expect(abs(v - expected) < 1e-9)
        #expect(g.storage.allSatisfy { $0.isFinite })
    }
}
