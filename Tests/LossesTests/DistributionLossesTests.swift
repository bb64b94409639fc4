// histogram, moment and sparsity: hand values, the Double reference against central differences, kernels against it.
import Numerics
import Testing

@testable import Losses

struct DistributionLossesTests {
    static func inputs(pred: [Float], gt: [Float], shape: [Int]) -> LossInputs {
        let z = Tensor(zeros: shape)
        return LossInputs(
            delta: Tensor(shape: shape, storage: pred), gtDelta: Tensor(shape: shape, storage: gt),
            logImage: z, output: z, target: z, eps: 1e-4)
    }

    static func batch(seed: UInt64) -> RefBatch { RefBatch.make(seed: seed) { signedUniform(&$0, 0.01, 1.5) } }

    @Test func histogramByHand() {
        // sorted pred [1, 2, 3] (positions 1, 2, 0) against sorted gt [0, 1, 10]: (1 + 1 + 7) / 3.
        var g = Tensor(zeros: [1, 1, 1, 3])
        let v = HistogramLoss().evaluate(
            Self.inputs(pred: [3, 1, 2], gt: [10, 0, 1], shape: [1, 1, 1, 3]),
            weight: 1, gradDelta: &g)
        #expect(v == 3)
        #expect(g.storage == [Float(-1.0 / 3), Float(1.0 / 3), Float(1.0 / 3)])
    }

    @Test func histogramIgnoresPlacement() {
        // A permutation of gt within a sample costs nothing.
        var g = Tensor(zeros: [2, 1, 1, 3])
        let v = HistogramLoss().evaluate(
            Self.inputs(pred: [1, 2, 3, 5, 4, 6], gt: [3, 1, 2, 6, 5, 4], shape: [2, 1, 1, 3]),
            weight: 1, gradDelta: &g)
        #expect(v == 0)
    }

    @Test func histogramMatchesReference() throws {
        let b = Self.batch(seed: 21)
        // Away from kinks: no near-ties in pred (a step of 1e-6 must not reorder) and no sorted pair equal.
        let gt = b.gtDelta
        for s in 0..<b.n {
            let p = b.sample(b.delta, s).sorted()
            let g = b.sample(gt, s).sorted()
            try #require(zip(p, p.dropFirst()).allSatisfy { $1 - $0 > 1e-4 })
            try #require(zip(p, g).allSatisfy { abs($0 - $1) > 1e-4 })
        }
        Check.all(HistogramLoss(), Ref.histogram, b)
    }

    @Test func momentByHand() {
        // pred [1, 3]: mean 2, population variance 1; gt [0, 0]: 0, 0. Term 2 + 1.
        var g = Tensor(zeros: [1, 1, 1, 2])
        let v = MomentLoss().evaluate(
            Self.inputs(pred: [1, 3], gt: [0, 0], shape: [1, 1, 1, 2]), weight: 1, gradDelta: &g)
        #expect(v == 3)
        // (sign(2) + sign(1) * 2 * (p - 2)) / 2
        #expect(g.storage == [-0.5, 1.5])
    }

    @Test func momentMatchesReference() throws {
        let b = Self.batch(seed: 22)
        let gt = b.gtDelta
        for s in 0..<b.n {
            let (mp, vp) = Ref.moments(b.sample(b.delta, s))
            let (mg, vg) = Ref.moments(b.sample(gt, s))
            try #require(abs(mp - mg) > 1e-3 && abs(vp - vg) > 1e-3)
        }
        Check.all(MomentLoss(), Ref.moment, b)
    }

    @Test func sparsityByHand() {
        var g = Tensor(zeros: [1, 1, 1, 4])
        let v = SparsityLoss().evaluate(
            Self.inputs(pred: [0, -1, 2, 0.5], gt: [9, 9, 9, 9], shape: [1, 1, 1, 4]),
            weight: 2, gradDelta: &g)
        #expect(v == 3.5 / 4)
        #expect(g.storage == [0, -0.5, 0.5, 0.5])
    }

    @Test func sparsityMatchesReference() throws {
        let b = Self.batch(seed: 23)
        try #require(b.delta.allSatisfy { abs($0) > 1e-4 })
        Check.all(SparsityLoss(), Ref.sparsity, b)
    }
}
