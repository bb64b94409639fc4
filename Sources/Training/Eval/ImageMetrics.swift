// Per-image quality metrics of a restored HDR image against its reference: PSNR-mu, PU21-PSNR, log-L1, overflow.
// The Evaluator averages them over images; here each function sees one sample's C*H*W values.
import Glibc
import Losses

/// Every function takes one sample (all C*H*W values, any order as long as output and reference agree) and
/// accumulates in Double. PSNRs are capped at `psnrCap` so that a perfect image (MSE = 0) gives a finite
/// number and one perfect image cannot turn a mean over images into +inf.
public enum ImageMetrics {
    /// mu of the NTIRE mu-law tonemap.
    public static let mu = 5000.0
    /// The reference percentile that maps to tanh(1) before the mu-law.
    public static let percentile = 0.99
    /// Smallest normaliser q, the same guard as the mu_law_l1 loss: an all-black reference must not divide by 0.
    public static let quantileFloor = 1e-8
    /// Luminance the reference's maximum is scaled to for PU21, cd/m^2 (as the pu21_l1 loss).
    public static let pu21PeakLuminance = 4000.0
    /// PU21-PSNR peak: 256, as the issue and the usual PU21 evaluation code state, although PU21 values span
    /// about 0..595 over 0.005..10000 cd/m^2; so PU21-PSNR values are comparable with published ones,
    /// not an absolute "peak signal".
    public static let pu21Peak = 256.0
    /// Per-image PSNR cap in dB, reached only when MSE <= peak^2 * 1e-10 (e.g. identical images).
    public static let psnrCap = 100.0
    /// Largest half float: an output pixel above it (or non-finite) is an overflow pixel by default.
    public static let defaultOverflowLimit: Float = 65504

    /// 10 log10(peak^2 / mse), capped at `psnrCap`; NaN stays NaN (a NaN output is never hidden).
    public static func psnr(mse: Double, peak: Double) -> Double {
        if mse.isNaN { return .nan }
        if mse <= 0 { return psnrCap }
        return min(10 * log10(peak * peak / mse), psnrCap)
    }

    /// PSNR-mu's normaliser q of a reference: max(its 99th percentile (`Quantile.linear`), 1e-8).
    public static func muNormaliser(_ reference: some Collection<Float>) -> Double {
        max(Quantile.linear(reference, percentile), quantileFloor)
    }

    static let invLogMu = 1 / log1p(mu)

    /// PSNR-mu's tone map T(x) = log(1 + mu tanh(max(x, 0) / q)) / log(1 + mu), in [0, 1]; NaN stays NaN. The
    /// report's pictures use it too, so they show what the metric scores.
    @inline(__always)
    public static func muTonemap(_ x: Float, q: Double) -> Double {
        let v = Double(x)
        if v.isNaN { return .nan }
        return log1p(mu * tanh(max(v, 0) / q)) * invLogMu
    }

    /// NTIRE PSNR-mu: q = max(99th percentile of the reference (`Quantile.linear`), 1e-8);
    /// T(x) = log(1 + mu tanh(max(x, 0) / q)) / log(1 + mu), mu = 5000; PSNR of T(output) vs T(reference),
    /// peak 1, MSE over every value. x is clamped at 0 before tanh, as the mu_law_l1 loss does (outputs
    /// can be as low as -eps). An +inf output maps to T = 1 (tanh saturates): it still costs PSNR.
    public static func psnrMu(output: some Collection<Float>, reference: some Collection<Float>) -> Double {
        precondition(output.count == reference.count && !reference.isEmpty, "psnrMu: sizes differ or empty")
        let q = muNormaliser(reference)
        var sum = 0.0
        for (o, r) in zip(output, reference) {
            let e = muTonemap(o, q: q) - muTonemap(r, q: q)
            sum += e * e
        }
        return psnr(mse: sum / Double(reference.count), peak: 1)
    }

    /// PU21-PSNR: s = 4000 / max(reference) (s = 1 when that maximum is <= 0, as the pu21_l1 loss does);
    /// V = PU21 banding_glare of clamp(s x, 0.005, 10000), each of R, G, B read as a luminance; PSNR of
    /// V(output) vs V(reference) with peak 256 (see `pu21Peak`).
    public static func pu21Psnr(output: some Collection<Float>, reference: some Collection<Float>) -> Double {
        precondition(output.count == reference.count && !reference.isEmpty, "pu21Psnr: sizes differ or empty")
        var mx = -Float.infinity
        for v in reference { mx = max(mx, v) }
        let s = mx > 0 ? pu21PeakLuminance / Double(mx) : 1
        func v(_ x: Float) -> Double {
            let y = s * Double(x)
            if y.isNaN { return .nan }
            return PU21.encode(min(max(y, PU21.minLuminance), PU21.maxLuminance))
        }
        var sum = 0.0
        for (o, r) in zip(output, reference) {
            let e = v(o) - v(r)
            sum += e * e
        }
        return psnr(mse: sum / Double(reference.count), peak: pu21Peak)
    }

    /// Mean over every value of |log(output + eps) - log(reference + eps)|, in Double. Outputs are >= -eps by
    /// construction; an +inf output gives +inf (not hidden).
    public static func logL1(output: some Collection<Float>, reference: some Collection<Float>, eps: Float) -> Double {
        precondition(output.count == reference.count && !reference.isEmpty, "logL1: sizes differ or empty")
        let e = Double(eps)
        var sum = 0.0
        for (o, r) in zip(output, reference) { sum += abs(log(Double(o) + e) - log(Double(r) + e)) }
        return sum / Double(reference.count)
    }

    /// Pixels (not values) of one (C, H, W) sample that overflow: some channel is non-finite or > `limit`.
    /// - Parameter sample: C planes of `pixels` values each.
    public static func overflowPixels(_ sample: UnsafeBufferPointer<Float>, channels: Int, limit: Float) -> Int {
        precondition(
            channels >= 1 && sample.count % channels == 0,
            "overflowPixels: \(sample.count) values for \(channels) channels")
        let plane = sample.count / channels
        var count = 0
        for p in 0..<plane {
            for c in 0..<channels {
                let v = sample[c * plane + p]
                if !v.isFinite || v > limit {
                    count += 1
                    break
                }
            }
        }
        return count
    }
}
