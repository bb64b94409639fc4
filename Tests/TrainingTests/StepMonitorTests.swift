// The monitor's building blocks: exact percentiles by selection, overflow pixels and incidents per patch.
import Numerics
import Testing

@testable import Training

struct StepMonitorTests {
    /// numpy-style linear-interpolation percentile from a full sort, the reference.
    static func reference(_ v: [Float], _ q: Double) -> Double {
        let s = v.sorted()
        let pos = q * Double(s.count - 1)
        let k = Int(pos)
        let k2 = min(k + 1, s.count - 1)
        return Double(s[k]) + (pos - Double(k)) * Double(s[k2] - s[k])
    }

    @Test(arguments: [1, 2, 7, 100, 4097])
    func percentilesBySelectionEqualTheSortedReference(_ n: Int) {
        var r = SeededRNG(seed: UInt64(n))
        // Duplicates included: values from a small set half the time.
        let v = (0..<n).map { i in i % 2 == 0 ? Float(r.below(5)) : Float(r.normal()) }
        let qs = [0, 0.01, 0.05, 0.5, 0.95, 0.99, 1]
        let got = v.withUnsafeBufferPointer { StepMonitor.percentiles($0, qs) }
        for (q, g) in zip(qs, got) { #expect(g == Self.reference(v, q), "n \(n) q \(q)") }
    }

    @Test func overflowPixelsCountPixelsNotChannels() {
        var out = Tensor(zeros: [2, 3, 2, 2])
        out[0, 0, 0, 0] = 70_000
        out[0, 1, 0, 0] = .infinity  // one pixel, two bad channels
        out[0, 2, 1, 1] = .nan
        out[1, 1, 0, 1] = 65_504  // exactly the limit: not an overflow
        #expect(StepMonitor.overflowPixels(out, limit: 65_504) == [2, 0])
        #expect(StepMonitor.maxOutput(out)[0] == .infinity && StepMonitor.maxOutput(out)[1] == 65_504)
    }

    /// An HDR target beyond the half range (an unclipped sun): reproducing it is not an overflow; exceeding the
    /// limit where the target's same channel is within it is, and a non-finite value always is.
    @Test func overflowIsCountedWhereTheTargetIsWithinTheLimit() {
        var out = Tensor(zeros: [1, 3, 2, 2])
        var target = Tensor(zeros: [1, 3, 2, 2])
        out[0, 0, 0, 0] = 100_000
        target[0, 0, 0, 0] = 106_000  // the sun: asked for
        out[0, 1, 0, 1] = 100_000
        target[0, 0, 0, 1] = 106_000  // another channel of the target is bright, this one is not: overflow
        out[0, 2, 1, 0] = .infinity
        target[0, 2, 1, 0] = 1e30  // never asked for
        #expect(StepMonitor.overflowPixels(out, limit: 65_504) == [3])
        #expect(StepMonitor.overflowPixels(out, limit: 65_504, target: target) == [2])
    }
}
