import Numerics
// Quantile.linear interpolates like numpy.percentile / torch.quantile.
import Testing

@testable import Losses

struct QuantileTests {
    @Test func interpolatesBetweenSortedNeighbours() {
        // 1...10 shuffled: position 0.99 * 9 = 8.91, between 9 and 10.
        let v: [Float] = [7, 3, 10, 1, 9, 2, 8, 5, 6, 4]
        #expect(abs(Quantile.linear(v, 0.99) - 9.91) < 1e-12)
        // np.percentile([1, 2, 3, 4, 5], 99) = 4.96; np.percentile(..., 50) = 3.
        #expect(abs(Quantile.linear([5, 1, 4, 2, 3] as [Float], 0.99) - 4.96) < 1e-12)
        #expect(Quantile.linear([5, 1, 4, 2, 3] as [Float], 0.5) == 3)
    }

    @Test func endsAndSingleValue() {
        let v: [Float] = [0.5, -2, 8]
        #expect(Quantile.linear(v, 0) == -2)
        #expect(Quantile.linear(v, 1) == 8)
        #expect(Quantile.linear([4.25] as [Float], 0.99) == 4.25)
    }

    /// The quantile of a contiguous slice, of an array and of a collection without contiguous storage agree with
    /// the definition computed from the sorted values.
    @Test func quantileOfSlicesAndLazyCollectionsFollowsTheDefinition() {
        let v: [Float] = (0..<1000).map { Float(($0 * 7919) % 1000) / 8 - 30 }
        let r = 200..<800
        let sorted = v[r].sorted()
        for p in [0, 0.013, 0.5, 0.99, 1] {
            let h = p * Double(sorted.count - 1)
            let lo = Int(h.rounded(.down))
            let hi = min(lo + 1, sorted.count - 1)
            let expected = Double(sorted[lo]) + (h - Double(lo)) * (Double(sorted[hi]) - Double(sorted[lo]))
            let fromBuffer = v.withUnsafeBufferPointer { Quantile.linear($0[r], p) }
            #expect(fromBuffer == expected)
            #expect(Quantile.linear(v[r], p) == expected)
            #expect(Quantile.linear(v[r].lazy.map { $0 }, p) == expected)
        }
    }

    /// Repeated values on either side of the interpolation (the upper neighbour equal to the lower one, or the
    /// next distinct value), infinities and signed zeros: every rank pair against the sorted definition.
    @Test func repeatedValuesAndNeighboursFollowTheDefinition() {
        let v: [Float] = [3, 1, 3, 3, 2, -0.0, 0, 7, 3, 1, .infinity, -.infinity, 2, 2, 9, 3]
        let sorted = v.sorted { OrderStatistics.key($0) < OrderStatistics.key($1) }
        for lo in 0..<(v.count - 1) {
            // p between rank lo and lo + 1: h = lo + 0.25.
            let p = (Double(lo) + 0.25) / Double(v.count - 1)
            let a = Double(sorted[lo])
            let b = Double(sorted[lo + 1])
            let h = p * Double(v.count - 1)
            let expected = a + (h - Double(lo)) * (b - a)
            let q = Quantile.linear(v, p)
            #expect(q == expected || (q.isNaN && expected.isNaN), "rank \(lo): \(q) vs \(expected)")
        }
    }
}
