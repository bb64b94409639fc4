// Luminance summary of an image, as `inspect` reports it.
import Glibc

/// Statistics of Rec. 709 luminance Y = 0.2126 R + 0.7152 G + 0.0722 B over finite pixels
/// (pixels with a NaN or Inf channel are excluded; they are counted by the reader).
public struct LuminanceStats: Sendable, Equatable, Codable {
    public var min: Double
    public var max: Double
    /// Mean of the two middle values for an even count.
    public var median: Double
    /// Smallest luminance above 0, nil when none is.
    public var minPositive: Double?
    /// log2(max / minPositive), nil without a positive pixel.
    public var dynamicRangeStops: Double?
    /// Finite pixels the statistics are over.
    public var pixels: Int

    enum CodingKeys: String, CodingKey {
        case min, max, median
        case minPositive = "min_positive"
        case dynamicRangeStops = "dynamic_range_stops"
        case pixels
    }

    /// nil when the image has no finite pixel.
    public init?(_ image: HDRImage) {
        let n = image.planeCount
        var lum: [Double] = []
        lum.reserveCapacity(n)
        var lo = Double.infinity
        var hi = -Double.infinity
        var minPos = Double.infinity
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let r = Double(p[i])
                let g = Double(p[n + i])
                let b = Double(p[2 * n + i])
                guard r.isFinite, g.isFinite, b.isFinite else { continue }
                let y = 0.2126 * r + 0.7152 * g + 0.0722 * b
                lum.append(y)
                lo = Swift.min(lo, y)
                hi = Swift.max(hi, y)
                if y > 0 { minPos = Swift.min(minPos, y) }
            }
        }
        guard !lum.isEmpty else { return nil }
        min = lo
        max = hi
        pixels = lum.count
        median = Self.median(&lum)
        minPositive = minPos.isFinite ? minPos : nil
        dynamicRangeStops = minPositive.map { hi > 0 ? Glibc.log2(hi / $0) : 0 }
    }

    /// Median by selection (O(n)), reordering `values`.
    static func median(_ values: inout [Double]) -> Double {
        let k = (values.count - 1) / 2
        let lower = select(&values, k)
        if values.count % 2 == 1 { return lower }
        // After selection everything right of k is >= the k-th value: the upper middle is their minimum.
        var upper = Double.infinity
        for v in values[(k + 1)...] { upper = Swift.min(upper, v) }
        return (lower + upper) / 2
    }

    /// k-th smallest value (0-based), partially reordering `a` (Hoare partition, median-of-three pivot).
    static func select(_ a: inout [Double], _ k: Int) -> Double {
        var lo = 0
        var hi = a.count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let pivot = Swift.max(Swift.min(a[lo], a[mid]), Swift.min(Swift.max(a[lo], a[mid]), a[hi]))
            var i = lo
            var j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
        }
        return a[k]
    }
}
