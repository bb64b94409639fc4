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
}
