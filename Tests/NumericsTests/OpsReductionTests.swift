import Numerics
// Double-accumulated sums and means, per sample and total, and the gradients that spread them back.
import Testing

struct OpsReductionTests {
    @Test func sumsAreAccumulatedInDouble() {
        // 2^18 copies of float(0.1): a float running sum drifts by ~1e-3 relative, a Double one stays exact
        // to ~1e-12.
        let n = 1 << 18
        let v = Float(0.1)
        let x = Tensor(shape: [4, n / 4], storage: [Float](repeating: v, count: n))
        let exact = Double(n) * Double(v)
        #expect(abs(Reduce.sum(x) - exact) / exact < 1e-12)
        #expect(abs(Reduce.mean(x) - Double(v)) / Double(v) < 1e-12)
        for s in Reduce.sampleSums(x) { #expect(abs(s - exact / 4) / exact < 1e-12) }
        var floatSum: Float = 0
        for e in x.storage { floatSum += e }
        #expect(abs(Double(floatSum) - exact) / exact > 1e-5, "the test would catch a float accumulator")
    }

    @Test func perSampleValuesMatchTheReference() {
        let x = randomTensor([3, 2, 4, 5], seed: 90)
        let ref = Ref.sampleSums(doubles(x), n: 3)
        #expect(relativeToMax(Reduce.sampleSums(x), ref) <= 1e-12)
        #expect(relativeToMax(Reduce.sampleMeans(x), ref.map { $0 / 40 }) <= 1e-12)
        #expect(abs(Reduce.sum(x) - ref.reduce(0, +)) <= 1e-12 * 120)
    }

    @Test func backwardSpreadsTheUpstreamGradientAndAccumulates() {
        var dx = Tensor(shape: [2, 1, 1, 4], storage: [1, 1, 1, 1, 2, 2, 2, 2])
        Reduce.sumBackward(dInput: &dx, dSum: 0.5)
        #expect(dx.storage == [1.5, 1.5, 1.5, 1.5, 2.5, 2.5, 2.5, 2.5])
        Reduce.meanBackward(dInput: &dx, dMean: 4)
        #expect(dx.storage == [2, 2, 2, 2, 3, 3, 3, 3])
        Reduce.sampleSumsBackward(dInput: &dx, dSums: [1, -1])
        #expect(dx.storage == [3, 3, 3, 3, 2, 2, 2, 2])
        Reduce.sampleMeansBackward(dInput: &dx, dMeans: [4, 8])
        #expect(dx.storage == [4, 4, 4, 4, 4, 4, 4, 4])
    }
}
