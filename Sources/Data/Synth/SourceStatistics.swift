// Quantiles of a whole source image, for a step that exposes a patch by the image it was cut from.
import EXRIO

/// Tables of quantiles of one image's max(R, G, B) and Rec. 709 luminance, made once per source so that an
/// `exposure` step with `over: image` can expose every patch cut from it as a camera exposes the whole frame
/// (HDRCNN's virtual camera): a patch of sky may then be clipped whole and a patch of shadow not at all.
///
/// Entry k of a table is the image's k / `resolution` quantile, interpolated linearly between order statistics
/// (rank p * (n - 1), numpy's default, as `ExposureStep` computes a patch's); a quantile between entries is
/// interpolated linearly between them. Keeping 4097 values instead of the sorted image (0.5M values for a 1k
/// panorama) bounds memory, at an error below one table step of the distribution.
package struct SourceStatistics: Sendable, Equatable {
    package static let resolution = 4096
    /// resolution + 1 quantiles of max(R, G, B), ascending.
    package let peakQuantiles: [Double]
    /// resolution + 1 quantiles of 0.2126 R + 0.7152 G + 0.0722 B, ascending.
    package let luminanceQuantiles: [Double]

    /// - Parameter image: (3, H, W), finite values, at least one pixel.
    package init(_ image: HDRImage) {
        precondition(image.planeCount > 0, "SourceStatistics of an empty image")
        peakQuantiles = Self.table(sorted: Self.peaks(image).sorted())
        luminanceQuantiles = Self.table(sorted: Self.luminances(image).sorted())
    }

    /// max(R, G, B) of every pixel, in pixel order.
    package static func peaks(_ image: HDRImage) -> [Double] {
        let n = image.planeCount
        return image.pixels.withUnsafeBufferPointer { p in
            (0..<n).map { Double(max(p[$0], p[n + $0], p[2 * n + $0])) }
        }
    }

    /// Rec. 709 luminance 0.2126 R + 0.7152 G + 0.0722 B of every pixel, in pixel order.
    package static func luminances(_ image: HDRImage) -> [Double] {
        let n = image.planeCount
        return image.pixels.withUnsafeBufferPointer { p in
            (0..<n).map { (i: Int) -> Double in
                let (r, g, b) = (Double(p[i]), Double(p[n + i]), Double(p[2 * n + i]))
                return 0.2126 * r + 0.7152 * g + 0.0722 * b
            }
        }
    }

    /// The p-quantile (p in [0, 1]) of max(R, G, B).
    package func peak(at p: Double) -> Double { Self.lookup(peakQuantiles, p) }

    /// The p-quantile (p in [0, 1]) of luminance.
    package func luminance(at p: Double) -> Double { Self.lookup(luminanceQuantiles, p) }

    /// The p-quantile of ascending `sorted` (count >= 1), linear between order statistics.
    package static func quantile(sorted: [Double], _ p: Double) -> Double {
        let n = sorted.count
        let rank = min(max(p, 0), 1) * Double(n - 1)
        let lo = Int(rank.rounded(.down))
        let hi = min(lo + 1, n - 1)
        return sorted[lo] + (rank - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// `quantile(sorted: values.sorted(), p)` without sorting: the two order statistics it interpolates between,
    /// found by selection (the same values, so the same result bit for bit). `values` (count >= 1, no NaN) is
    /// left permuted. A patch's exposure takes one quantile of its 4096 values, where a sort was a tenth of the
    /// loader's time.
    package static func quantile(selecting values: inout [Double], _ p: Double) -> Double {
        let n = values.count
        precondition(n > 0, "quantile of no values")
        let rank = min(max(p, 0), 1) * Double(n - 1)
        let lo = Int(rank.rounded(.down))
        let hi = min(lo + 1, n - 1)
        return values.withUnsafeMutableBufferPointer { v in
            let a = select(v, rank: lo)
            // Selection leaves every value above rank lo at a higher index: the next order statistic is their least.
            var b = a
            if hi > lo {
                b = v[hi]
                for i in (hi + 1)..<n where v[i] < b { b = v[i] }
            }
            return a + (rank - Double(lo)) * (b - a)
        }
    }

    /// The value of rank k (0-based) of `v`, which is left partitioned around it (Hoare's selection, the middle
    /// of three as pivot).
    private static func select(_ v: UnsafeMutableBufferPointer<Double>, rank k: Int) -> Double {
        var (lo, hi) = (0, v.count - 1)
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if v[mid] < v[lo] { v.swapAt(mid, lo) }
            if v[hi] < v[lo] { v.swapAt(hi, lo) }
            if v[hi] < v[mid] { v.swapAt(hi, mid) }
            let pivot = v[mid]
            var (i, j) = (lo, hi)
            while i <= j {
                while v[i] < pivot { i += 1 }
                while pivot < v[j] { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                return v[k]
            }
        }
        return v[k]
    }

    static func table(sorted: [Double]) -> [Double] {
        (0...resolution).map { quantile(sorted: sorted, Double($0) / Double(resolution)) }
    }

    static func lookup(_ table: [Double], _ p: Double) -> Double {
        let x = min(max(p, 0), 1) * Double(resolution)
        let k = min(Int(x.rounded(.down)), resolution - 1)
        return table[k] + (x - Double(k)) * (table[k + 1] - table[k])
    }
}
