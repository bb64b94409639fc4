// Axis arithmetic for SVGChart: "nice" ticks (1, 2, 5 x 10^k) on linear and log axes, and the per-pixel
// min/max downsampling that keeps a one-step spike visible among 10,000 points.
import Foundation

enum ChartScale {
    /// Ticks covering [lo, hi] with about `target` steps of 1, 2 or 5 x 10^k; the range grows to whole ticks.
    static func niceTicks(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
        var lo = lo
        var hi = hi
        if hi - lo <= abs(hi) * 1e-12 {
            // A flat series still needs an axis around its value.
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(max(target, 1))
        let mag = pow10(floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let first = (lo / step).rounded(.down)
        let last = (hi / step).rounded(.up)
        // Multiply from integers rather than accumulating, so 0.1 + 0.2 noise never reaches a label.
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// Log-axis ticks: whole decades, or 1-2-5 within them when the data spans under 2.5 decades.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = floor(log10(lo))
        let b = max(ceil(log10(hi)), a + 1)
        var ticks: [Double] = []
        for e in stride(from: a, through: b, by: 1) {
            for m in (log10(hi / lo) < 2.5 ? [1.0, 2, 5] : [1.0]) {
                let t = m * pow10(e)
                if t >= pow10(a) && t <= pow10(b) { ticks.append(t) }
            }
        }
        // Trim to the data's range plus one tick either side so the plot is not mostly empty decades.
        let firstIn = ticks.lastIndex { $0 <= lo } ?? 0
        let lastIn = ticks.firstIndex { $0 >= hi } ?? ticks.count - 1
        return Array(ticks[firstIn...lastIn])
    }

    static func pow10(_ e: Double) -> Double { Foundation.pow(10, e) }

    /// Keeps, for every one of `buckets` equal x intervals, the first, smallest, largest and last point (in x
    /// order): drawn as a polyline this is pixel-identical to all points, and an outlier can never be averaged away.
    /// Non-finite y values are kept where they fall: they break the line.
    static func downsample(_ points: [ChartPoint], buckets: Int) -> [ChartPoint] {
        guard points.count > 4 * buckets, let x0 = points.first?.x, let x1 = points.last?.x, x1 > x0 else {
            return points
        }
        var out: [ChartPoint] = []
        out.reserveCapacity(4 * buckets)
        var start = 0
        while start < points.count {
            let b = bucket(points[start].x, x0, x1, buckets)
            var end = start + 1
            while end < points.count && bucket(points[end].x, x0, x1, buckets) == b { end += 1 }
            var keep = Set([start, end - 1])
            var lo: Int? = nil
            var hi: Int? = nil
            for i in start..<end {
                let y = points[i].y
                if !y.isFinite {
                    keep.insert(i)
                    continue
                }
                if lo == nil || y < points[lo!].y { lo = i }
                if hi == nil || y > points[hi!].y { hi = i }
            }
            if let lo { keep.insert(lo) }
            if let hi { keep.insert(hi) }
            out.append(contentsOf: keep.sorted().map { points[$0] })
            start = end
        }
        return out
    }

    static func bucket(_ x: Double, _ x0: Double, _ x1: Double, _ n: Int) -> Int {
        min(n - 1, Int((x - x0) / (x1 - x0) * Double(n)))
    }
}
