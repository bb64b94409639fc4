// SourceStatistics.quantile(selecting:), the exposure step's per-patch quantile, against the sort it replaces.
import Foundation
import Numerics
import Testing

@testable import Data

struct QuantileSelectionTests {
    /// Random values with many ties, every count from 1 to 40 and a patch's 4096, at quantiles from 0 to 1 and
    /// out of range: the sorted quantile bit for bit.
    @Test func selectionIsTheSortedQuantileBitForBit() {
        var rng = SeededRNG(seed: 17)
        for n in Array(1...40) + [4096, 4097] {
            for ties in [false, true] {
                let values = (0..<n).map { _ in
                    ties ? Double(Int(rng.uniform() * 5)) : exp(4 * (rng.uniform() - 0.5))
                }
                let sorted = values.sorted()
                for p in [-0.5, 0, 0.01, 0.1, 0.25, 0.5, 0.5 + 1e-9, 0.9, 0.99, 1, 2] + [rng.uniform()] {
                    var scratch = values
                    let got = SourceStatistics.quantile(selecting: &scratch, p)
                    let want = SourceStatistics.quantile(sorted: sorted, p)
                    #expect(got.bitPattern == want.bitPattern, "n \(n), ties \(ties), p \(p): \(got) vs \(want)")
                    #expect(scratch.sorted() == sorted, "values lost or changed")
                }
            }
        }
    }

    /// Already ascending, descending and constant inputs (the sorts' and selections' worst cases) still agree.
    @Test func orderedAndConstantInputs() {
        let up = (0..<1000).map(Double.init)
        for values in [up, Array(up.reversed()), [Double](repeating: 0.18, count: 1000)] {
            for p in [0.0, 0.5, 0.999, 1] {
                var scratch = values
                #expect(
                    SourceStatistics.quantile(selecting: &scratch, p)
                        == SourceStatistics.quantile(sorted: values.sorted(), p))
            }
        }
    }
}
