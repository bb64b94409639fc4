// hole_l1: log-domain L1 weighted by the batch's region masks; central differences, the kernel against a Double
// reference, ExtraNet's 5x hole weighting as l1 + 4 hole_l1, and NaN without masks.
import Numerics
import Testing

@testable import Losses

struct HoleL1LossTests {
    /// (2, 3, 4, 4) batch with |e| in [0.05, 2] and masks of 0, 1 and one soft value per sample.
    static func batch() -> (RefBatch, [Double]) {
        let b = RefBatch.make(seed: 41) { rng in signedUniform(&rng, 0.05, 2) }
        var rng = SeededRNG(seed: 42)
        var mask = (0..<(2 * 16)).map { _ in rng.uniform() < 0.3 ? 1.0 : 0.0 }
        mask[5] = 0.5
        mask[16 + 9] = 0.25
        return (b, mask)
    }

    static func inputs(_ b: RefBatch, _ mask: [Double]) -> LossInputs {
        var x = b.inputs
        x.regions = Tensor(shape: [2, 1, 4, 4], storage: mask.map(Float.init))
        return x
    }

    /// The reference value and its analytic gradient at `delta`.
    static func reference(_ b: RefBatch, _ mask: [Double], delta: [Double]) -> (value: Double, grad: [Double]) {
        let gt = b.gtDelta
        let count = Double(delta.count)
        var v = 0.0
        var g = [Double](repeating: 0, count: delta.count)
        for i in delta.indices {
            let s = i / 48
            let k = i % 16
            let w = mask[s * 16 + k]
            let e = delta[i] - gt[i]
            v += w * abs(e) / count
            g[i] = w * sign(e) / count
        }
        return (v, g)
    }

    @Test func gradientIsTheCentralDifferenceAndTheKernelTheReference() {
        let (b, mask) = Self.batch()
        let (value, grad) = Self.reference(b, mask, delta: b.delta)
        var worst = 0.0
        for i in b.delta.indices {
            var p = b.delta
            var m = b.delta
            p[i] += 1e-6
            m[i] -= 1e-6
            let numeric = (Self.reference(b, mask, delta: p).value - Self.reference(b, mask, delta: m).value) / 2e-6
            worst = max(worst, abs(numeric - grad[i]))
        }
        #expect(worst / grad.map(abs).max()! < 1e-6)
        var g = Tensor(zeros: b.shape)
        let v = HoleL1Loss().evaluate(Self.inputs(b, mask), weight: 3, gradDelta: &g)
        #expect(abs(v - value) / value <= 1e-5)
        let gradErr = zip(g.storage, grad).map { abs(Double($0) - 3 * $1) }.max()! / (3 * grad.map(abs).max()!)
        #expect(gradErr <= 1e-5)
        // Outside the masks nothing moves.
        for i in g.storage.indices where mask[(i / 48) * 16 + i % 16] == 0 { #expect(g.storage[i] == 0) }
    }

    @Test func l1PlusFourHoleL1WeightsTheHolesFiveTimes() {
        let (b, soft) = Self.batch()
        let mask = soft.map { $0 >= 0.5 ? 1.0 : 0.0 }
        let x = Self.inputs(b, mask)
        var g1 = Tensor(zeros: b.shape)
        var g2 = Tensor(zeros: b.shape)
        let total =
            L1Loss().evaluate(x, weight: 1, gradDelta: &g1) + 4 * HoleL1Loss().evaluate(x, weight: 4, gradDelta: &g1)
        let gt = b.gtDelta
        var want = 0.0
        for i in b.delta.indices {
            let w = 1 + 4 * mask[(i / 48) * 16 + i % 16]
            want += w * abs(b.delta[i] - gt[i]) / Double(b.delta.count)
            g2.storage[i] = Float(w * sign(b.delta[i] - gt[i]) / Double(b.delta.count))
        }
        #expect(abs(total - want) / want < 1e-5)
        #expect(zip(g1.storage, g2.storage).allSatisfy { abs($0 - $1) <= 1e-7 })
    }

    @Test func withoutMasksTheValueIsNaNAndNoGradient() {
        let (b, _) = Self.batch()
        var g = Tensor(zeros: b.shape)
        #expect(HoleL1Loss().evaluate(b.inputs, weight: 1, gradDelta: &g).isNaN)
        #expect(g.storage.allSatisfy { $0 == 0 })
    }
}
