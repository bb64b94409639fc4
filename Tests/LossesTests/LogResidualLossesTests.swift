// huber, l1 and mse: hand values, the Double reference against central differences, the kernels against it.
import Numerics
import Testing

@testable import Losses

struct LogResidualLossesTests {
    /// delta = e, gtDelta = 0: the loss sees e directly. Shape (1, 1, 1, count).
    static func residual(_ e: [Float]) -> LossInputs {
        let t = Tensor(shape: [1, 1, 1, e.count], storage: e)
        let z = Tensor(zeros: t.shape)
        return LossInputs(delta: t, gtDelta: z, logImage: z, output: z, target: z, eps: 1e-4)
    }

    /// |e| stays at least 0.05 away from the huber transition at 1 and from 0.
    static func batch(seed: UInt64) -> RefBatch {
        RefBatch.make(seed: seed) { rng in
            var e = 1.0
            while abs(abs(e) - 1) < 0.05 { e = signedUniform(&rng, 0.05, 2.5) }
            return e
        }
    }

    @Test func huberByHand() {
        var g = Tensor(zeros: [1, 1, 1, 2])
        let v = HuberLoss(delta: 1).evaluate(Self.residual([0.5, 2]), weight: 1, gradDelta: &g)
        #expect(v == (0.125 + 1.5) / 2)
        #expect(g.storage == [0.25, 0.5])
        var g2 = Tensor(zeros: [1, 1, 1, 2])
        // delta 3: both inside, plain 0.5 e^2.
        #expect(HuberLoss(delta: 3).evaluate(Self.residual([0.5, -2]), weight: 1, gradDelta: &g2) == (0.125 + 2) / 2)
        #expect(g2.storage == [0.25, -1])
    }

    @Test func l1AndMSEByHand() {
        var g = Tensor(zeros: [1, 1, 1, 3])
        #expect(L1Loss().evaluate(Self.residual([0, -2, 0.5]), weight: 1, gradDelta: &g) == 2.5 / 3)
        // torch.sign: |e| has gradient 0 at exactly 0.
        #expect(g.storage == [0, Float(-1.0 / 3), Float(1.0 / 3)])
        var g2 = Tensor(zeros: [1, 1, 1, 3])
        #expect(MSELoss().evaluate(Self.residual([0, -2, 0.5]), weight: 1, gradDelta: &g2) == 4.25 / 3)
        #expect(g2.storage == [0, Float(-4.0 / 3), Float(1.0 / 3)])
    }

    @Test(arguments: [0.5, 1.0, 2.0])
    func huberMatchesReference(delta: Double) {
        Check.all(HuberLoss(delta: delta), Ref.huber(delta), Self.batch(seed: 11))
    }

    @Test func l1MatchesReference() { Check.all(L1Loss(), Ref.l1, Self.batch(seed: 12)) }
    @Test func mseMatchesReference() { Check.all(MSELoss(), Ref.mse, Self.batch(seed: 13)) }

    @Test func huberIsQuadraticInsideAndLinearOutside() {
        // Both regimes really occur in the reference batch, so the check above covers both branches.
        let e = zip(Self.batch(seed: 11).delta, Self.batch(seed: 11).gtDelta).map { abs($0 - $1) }
        #expect(e.contains { $0 < 1 } && e.contains { $0 > 1 })
    }
}
