// Per-image quality metrics of a restored HDR image against its reference: PSNR-mu, PU21-PSNR, log-L1 (overflow: `Overflow`).
// The Evaluator averages them over images; here each function sees one sample's C*H*W values.
import Glibc
import Losses

/// Every function takes one sample (all C*H*W values, any order as long as output and reference agree) and
/// accumulates in Double. PSNRs are capped at `psnrCap` so that a perfect image (MSE = 0) gives a finite
/// number and one perfect image cannot turn a mean over images into +inf.
package enum ImageMetrics {
    /// mu of the NTIRE mu-law tonemap.
    package static let mu = 5000.0
    /// The reference percentile that maps to tanh(1) before the mu-law.
    package static let percentile = 0.99
    /// Smallest normaliser q, the same guard as the mu_law_l1 loss: an all-black reference must not divide by 0.
    package static let quantileFloor = 1e-8
    /// Luminance the reference's maximum is scaled to for PU21, cd/m^2 (as the pu21_l1 loss).
    package static let pu21PeakLuminance = 4000.0
    /// PU21-PSNR peak: 256, as the issue and the usual PU21 evaluation code state, although PU21 values span
    /// about 0..595 over 0.005..10000 cd/m^2; so PU21-PSNR values are comparable with published ones,
    /// not an absolute "peak signal".
    package static let pu21Peak = 256.0
    /// Per-image PSNR cap in dB, reached only when MSE <= peak^2 * 1e-10 (e.g. identical images).
    package static let psnrCap = 100.0

    /// 10 log10(peak^2 / mse), capped at `psnrCap`; NaN stays NaN (a NaN output is never hidden).
    package static func psnr(mse: Double, peak: Double) -> Double {
        if mse.isNaN { return .nan }
        if mse <= 0 { return psnrCap }
        return min(10 * log10(peak * peak / mse), psnrCap)
    }

    /// PSNR-mu's normaliser q of a reference: max(its 99th percentile (`Quantile.linear`), 1e-8).
    package static func muNormaliser(_ reference: some Collection<Float>) -> Double {
        max(Quantile.linear(reference, percentile), quantileFloor)
    }

    static let invLogMu = 1 / log1p(mu)

    /// PSNR-mu's tone map T(x) = log(1 + mu tanh(max(x, 0) / q)) / log(1 + mu), in [0, 1]; NaN stays NaN. The
    /// report's pictures use it too, so they show what the metric scores.
    @inline(__always)
    package static func muTonemap(_ x: Float, q: Double) -> Double {
        let v = Double(x)
        if v.isNaN { return .nan }
        return log1p(mu * tanh(max(v, 0) / q)) * invLogMu
    }

    /// NTIRE PSNR-mu: q = max(99th percentile of the reference (`Quantile.linear`), 1e-8);
    /// T(x) = log(1 + mu tanh(max(x, 0) / q)) / log(1 + mu), mu = 5000; PSNR of T(output) vs T(reference),
    /// peak 1, MSE over every value. x is clamped at 0 before tanh, as the mu_law_l1 loss does (outputs
    /// can be as low as -eps). An +inf output maps to T = 1 (tanh saturates): it still costs PSNR.
    package static func psnrMu(output: some Collection<Float>, reference: some Collection<Float>) -> Double {
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
    package static func pu21Psnr(output: some Collection<Float>, reference: some Collection<Float>) -> Double {
        precondition(output.count == reference.count && !reference.isEmpty, "pu21Psnr: sizes differ or empty")
        let s = pu21Scale(reference)
        var sum = 0.0
        for (o, r) in zip(output, reference) {
            let e = pu21Encode(o, scale: s) - pu21Encode(r, scale: s)
            sum += e * e
        }
        return psnr(mse: sum / Double(reference.count), peak: pu21Peak)
    }

    /// PU21-PSNR's luminance scale of a reference: 4000 / its maximum, 1 when that is <= 0.
    static func pu21Scale(_ reference: some Collection<Float>) -> Double {
        var mx = -Float.infinity
        for v in reference { mx = max(mx, v) }
        return mx > 0 ? pu21PeakLuminance / Double(mx) : 1
    }

    /// PU21 banding_glare of clamp(scale x, 0.005, 10000); NaN stays NaN.
    @inline(__always)
    static func pu21Encode(_ x: Float, scale s: Double) -> Double {
        let y = s * Double(x)
        if y.isNaN { return .nan }
        return PU21.encode(min(max(y, PU21.minLuminance), PU21.maxLuminance))
    }

    /// Pixels of the in-clip metrics: those where some channel of the input reaches the clip level, dilated by this
    /// many pixels (a (2r + 1)^2 square): the clipped region and its rim, where a reconstruction meets the
    /// unclipped surround.
    package static let clipDilation = 3

    /// The in-clip mask of one (C, H, W) input: pixel p is in it when some channel of a pixel within `radius`
    /// (Chebyshev distance) of p is >= `level`. Empty when nothing clips.
    package static func clipMask(
        input: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int, level: Float,
        radius: Int = clipDilation
    ) -> [Bool] {
        precondition(
            input.count == channels * height * width,
            "clipMask: \(input.count) values for \(channels) x \(height) x \(width)")
        let plane = height * width
        var hit = [Bool](repeating: false, count: plane)
        var any = false
        for c in 0..<channels {
            for p in 0..<plane where input[c * plane + p] >= level {
                hit[p] = true
                any = true
            }
        }
        guard any else { return [] }
        // Separable square dilation: along rows, then along columns.
        var rows = [Bool](repeating: false, count: plane)
        for y in 0..<height {
            for x in 0..<width where hit[y * width + x] {
                for xx in max(0, x - radius)...min(width - 1, x + radius) { rows[y * width + xx] = true }
            }
        }
        var mask = [Bool](repeating: false, count: plane)
        for y in 0..<height {
            for x in 0..<width where rows[y * width + x] {
                for yy in max(0, y - radius)...min(height - 1, y + radius) { mask[yy * width + x] = true }
            }
        }
        return mask
    }

    /// The pixels of one (C, H, W) input whose every channel is >= `level`: where the input says nothing about the
    /// scene but that it is bright (a pixel with one channel clipped still shows its luminance's shape in the
    /// others). Empty when there is none.
    package static func fullyClippedMask(
        input: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int, level: Float
    ) -> [Bool] {
        precondition(
            input.count == channels * height * width,
            "fullyClippedMask: \(input.count) values for \(channels) x \(height) x \(width)")
        let plane = height * width
        var mask = [Bool](repeating: true, count: plane)
        for c in 0..<channels {
            for p in 0..<plane where !(input[c * plane + p] >= level) { mask[p] = false }
        }
        return mask.contains(true) ? mask : []
    }

    /// Fewest pixels an image's clipped region needs for `logLuminanceCorrelation` to score it.
    package static let shapeMinPixels = 16

    /// The shape of a reconstructed highlight: the Pearson correlation of log(Y + eps) between output and reference
    /// over the pixels of `mask` (Y: Rec. 709 luminance of the first three channels, or the one channel), in Double.
    /// 1 when the output rises and falls where the reference does, whatever its level; 0 when either side is
    /// constant there (a flat fill of a clipped region has no shape, whatever its level). nil for fewer than
    /// `shapeMinPixels` pixels in `mask`; NaN when a value there is NaN or infinite (never hidden, as the PSNRs).
    package static func logLuminanceCorrelation(
        output: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, mask: [Bool], eps: Float
    ) -> Double? {
        precondition(output.count == reference.count, "logLuminanceCorrelation: sizes differ")
        let plane = mask.count
        guard plane > 0, reference.count % plane == 0 else { return nil }
        let channels = reference.count / plane
        func y(_ v: UnsafeBufferPointer<Float>, _ p: Int) -> Double {
            let l =
                channels >= 3
                ? 0.2126 * Double(v[p]) + 0.7152 * Double(v[plane + p]) + 0.0722 * Double(v[2 * plane + p])
                : Double(v[p])
            return log(max(l, 0) + Double(eps))
        }
        var n = 0.0
        var (sa, sb) = (0.0, 0.0)
        for p in 0..<plane where mask[p] {
            sa += y(output, p)
            sb += y(reference, p)
            n += 1
        }
        guard n >= Double(shapeMinPixels) else { return nil }
        guard sa.isFinite && sb.isFinite else { return .nan }
        let (ma, mb) = (sa / n, sb / n)
        var (saa, sbb, sab) = (0.0, 0.0, 0.0)
        for p in 0..<plane where mask[p] {
            let a = y(output, p) - ma
            let b = y(reference, p) - mb
            saa += a * a
            sbb += b * b
            sab += a * b
        }
        // Relative to the mean's square: a constant that rounding made vary by 1e-16 is still constant.
        let tiny = 1e-20 * n * max(1, ma * ma, mb * mb)
        guard saa > tiny, sbb > tiny else { return 0 }
        return min(1, max(-1, sab / (saa * sbb).squareRoot()))
    }

    /// PSNR-mu and PU21-PSNR over the values of the pixels in `mask` only (every channel of each), with the
    /// whole reference's normalisers (q, PU21's luminance scale): the same tone maps as the whole-image metrics,
    /// restricted to where the input clipped. nil for an empty mask.
    package static func inMask(
        output: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, mask: [Bool]
    ) -> (psnrMu: Double, pu21Psnr: Double)? {
        precondition(output.count == reference.count, "inMask: sizes differ")
        let plane = mask.count
        guard plane > 0, reference.count % plane == 0 else { return nil }
        let q = muNormaliser(reference)
        let s = pu21Scale(reference)
        var mu = 0.0
        var pu21 = 0.0
        var n = 0
        for i in 0..<reference.count where mask[i % plane] {
            let e = muTonemap(output[i], q: q) - muTonemap(reference[i], q: q)
            mu += e * e
            let f = pu21Encode(output[i], scale: s) - pu21Encode(reference[i], scale: s)
            pu21 += f * f
            n += 1
        }
        guard n > 0 else { return nil }
        return (psnr(mse: mu / Double(n), peak: 1), psnr(mse: pu21 / Double(n), peak: pu21Peak))
    }

    /// Mean over every value of |log(output + eps) - log(reference + eps)|, in Double. Outputs are >= -eps by
    /// construction; an +inf output gives +inf (not hidden).
    package static func logL1(output: some Collection<Float>, reference: some Collection<Float>, eps: Float) -> Double {
        precondition(output.count == reference.count && !reference.isEmpty, "logL1: sizes differ or empty")
        let e = Double(eps)
        var sum = 0.0
        for (o, r) in zip(output, reference) { sum += abs(log(Double(o) + e) - log(Double(r) + e)) }
        return sum / Double(reference.count)
    }
}
