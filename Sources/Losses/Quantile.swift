// Quantiles with linear interpolation, as torch.quantile and numpy's default ("linear") compute them.
import Numerics

package enum Quantile {
    /// The p-quantile of `values` (M >= 1 values, p in [0, 1]): in ascending order (IEEE total order: -NaN
    /// < -inf < ... < -0 < +0 < ... < +inf < +NaN), position h = p (M - 1),
    /// result = v[floor h] + (h - floor h) (v[floor h + 1] - v[floor h]), in Double.
    /// E.g. p = 0.99 of 1...10 is 9 + 0.91 * (10 - 9) = 9.91.
    ///
    /// v[floor h] is found by radix selection on the values' total-order keys (four counting passes, no sort, no
    /// copy of contiguous values), v[floor h + 1] by one more pass (the smallest key above it, unless it is
    /// repeated): O(M), and nothing allocated when `values` has contiguous storage (an array, a buffer, a slice
    /// of either), so a loss term may call it every step.
    package static func linear(_ values: some Collection<Float>, _ p: Double) -> Double {
        precondition(!values.isEmpty, "Quantile.linear: no values")
        precondition(p >= 0 && p <= 1, "Quantile.linear: p must be in [0, 1], got \(p)")
        if let q = values.withContiguousStorageIfAvailable({ linear(buffer: $0, p) }) { return q }
        return Array(values).withUnsafeBufferPointer { linear(buffer: $0, p) }
    }

    private static func linear(buffer v: UnsafeBufferPointer<Float>, _ p: Double) -> Double {
        let h = p * Double(v.count - 1)
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        let av = OrderStatistics.select(v, rank: lo)
        let a = Double(av)
        let b = hi == lo ? a : Double(next(after: av, rank: lo, in: v))
        return a + (h - Double(lo)) * (b - a)
    }

    /// The (rank + 1)-th smallest value given the rank-th, `value`: `value` again when more than rank + 1 values
    /// are at or below it in the total order, else the smallest value above it. One pass.
    private static func next(after value: Float, rank: Int, in v: UnsafeBufferPointer<Float>) -> Float {
        let k = OrderStatistics.key(value)
        var atOrBelow = 0
        var above = UInt32.max
        for x in v {
            let kx = OrderStatistics.key(x)
            if kx <= k { atOrBelow += 1 } else if kx < above { above = kx }
        }
        return atOrBelow > rank + 1 ? value : OrderStatistics.value(above)
    }
}
