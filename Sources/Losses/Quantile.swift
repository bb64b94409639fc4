// Quantiles with linear interpolation, as torch.quantile and numpy's default ("linear") compute them.

public enum Quantile {
    /// The p-quantile of `values` (M >= 1 values, p in [0, 1]): sort ascending, position h = p (M - 1),
    /// result = v[floor h] + (h - floor h) (v[floor h + 1] - v[floor h]), in Double.
    /// E.g. p = 0.99 of 1...10 is 9 + 0.91 * (10 - 9) = 9.91.
    public static func linear(_ values: some Collection<Float>, _ p: Double) -> Double {
        precondition(!values.isEmpty, "Quantile.linear: no values")
        precondition(p >= 0 && p <= 1, "Quantile.linear: p must be in [0, 1], got \(p)")
        var v = Array(values)
        v.sort { totalOrderKey($0) < totalOrderKey($1) }
        let h = p * Double(v.count - 1)
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        let a = Double(v[lo]), b = Double(v[hi])
        return a + (h - Double(lo)) * (b - a)
    }
}
