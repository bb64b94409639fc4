// Quantiles with linear interpolation, as torch.quantile and numpy's default ("linear") compute them.
import Numerics

public enum Quantile {
    /// The p-quantile of `values` (M >= 1 values, p in [0, 1]): in ascending order (IEEE total order: -NaN
    /// < -inf < ... < -0 < +0 < ... < +inf < +NaN), position h = p (M - 1),
    /// result = v[floor h] + (h - floor h) (v[floor h + 1] - v[floor h]), in Double.
    /// E.g. p = 0.99 of 1...10 is 9 + 0.91 * (10 - 9) = 9.91.
    ///
    /// The two order statistics are found by radix selection on the values' total-order keys (four counting
    /// passes each, no sort, no copy of contiguous values): O(M), and nothing allocated when `values` has
    /// contiguous storage (an array, a buffer, a slice of either), so a loss term may call it every step.
    public static func linear(_ values: some Collection<Float>, _ p: Double) -> Double {
        precondition(!values.isEmpty, "Quantile.linear: no values")
        precondition(p >= 0 && p <= 1, "Quantile.linear: p must be in [0, 1], got \(p)")
        if let q = values.withContiguousStorageIfAvailable({ linear(buffer: $0, p) }) { return q }
        return Array(values).withUnsafeBufferPointer { linear(buffer: $0, p) }
    }

    private static func linear(buffer v: UnsafeBufferPointer<Float>, _ p: Double) -> Double {
        let h = p * Double(v.count - 1)
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        let a = Double(OrderStatistics.select(v, rank: lo))
        let b = hi == lo ? a : Double(OrderStatistics.select(v, rank: hi))
        return a + (h - Double(lo)) * (b - a)
    }
}
