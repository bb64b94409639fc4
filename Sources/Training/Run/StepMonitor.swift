// The overflow-incident monitor: DESIGN.md's per-step definitions computed from one training step.
import Data
import Model
import Numerics

/// Thresholds from the `monitor:` config section.
public struct MonitorSettings: Sendable, Equatable {
    /// An output value above this (or non-finite) is an overflow pixel; 65504 is the largest half float.
    public var overflowLimit: Float = 65504
    /// |tanh(p)| above this counts as saturated.
    public var saturation: Float = 0.99
    public init(overflowLimit: Float = 65504, saturation: Float = 0.99) {
        self.overflowLimit = overflowLimit
        self.saturation = saturation
    }
}

public enum StepMonitor {
    /// Overflow pixels per patch: a pixel overflows when any channel of the output is non-finite or above the
    /// limit. - Parameter output: (N, 3, H, W).
    public static func overflowPixels(_ output: Tensor, limit: Float) -> [Int] {
        let n = output.shape[0], c = output.shape[1], plane = output.shape[2] * output.shape[3]
        var counts = [Int](repeating: 0, count: n)
        output.storage.withUnsafeBufferPointer { o in
            for s in 0..<n {
                var k = 0
                for i in 0..<plane {
                    for ch in 0..<c {
                        let v = o[(s * c + ch) * plane + i]
                        if !v.isFinite || v > limit { k += 1; break }
                    }
                }
                counts[s] = k
            }
        }
        return counts
    }

    /// Largest output value of each patch (+inf when any is non-finite), for the incidents table.
    public static func maxOutput(_ output: Tensor) -> [Float] {
        let n = output.shape[0], m = output.sampleCount
        return (0..<n).map { s in
            var mx = -Float.infinity
            for v in output.storage[(s * m)..<((s + 1) * m)] { mx = v.isFinite ? max(mx, v) : .infinity }
            return mx
        }
    }

    /// The monitor record of one step. `gradNorm` is the global norm before clipping (NaN when skipped early).
    public static func record(step: Int, pass: PatchModel.Pass, head: ResidualHead, settings: MonitorSettings,
                              learnedScale: Float?, gradNorm: Double, skipped: Bool) -> (MonitorRecord, [Int]) {
        let perPatch = overflowPixels(pass.output, limit: settings.overflowLimit)
        let counts = head.counts(pass.headCache, saturation: settings.saturation)
        let total = Double(max(pass.delta.count, 1))
        // Exact percentiles (linear interpolation between order statistics) by selection, not a full sort.
        let quantiles = pass.delta.storage.withUnsafeBufferPointer { Self.percentiles($0, [0, 0.01, 0.05, 0.5, 0.95, 0.99, 1]) }
        let denom = pass.norm.denom.map(Double.init)
        let mean = denom.reduce(0, +) / Double(max(denom.count, 1))
        let variance = denom.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(denom.count, 1))
        let std = variance.squareRoot()
        // Collapse: std over the batch of each patch's mean delta.
        let n = pass.delta.shape[0], m = pass.delta.sampleCount
        let patchMeans = (0..<n).map { s in pass.delta.storage[(s * m)..<((s + 1) * m)].reduce(0.0) { $0 + Double($1) } / Double(m) }
        let pm = patchMeans.reduce(0, +) / Double(max(n, 1))
        let collapse = (patchMeans.reduce(0) { $0 + ($1 - pm) * ($1 - pm) } / Double(max(n, 1))).squareRoot()
        let record = MonitorRecord(
            step: step, patches: n, overflowPixels: perPatch.reduce(0, +), overflowIncidents: perPatch.filter { $0 > 0 }.count,
            clampHitRate: Double(counts.clampHits) / total, saturationRate: Double(counts.saturated) / total,
            deltaMin: quantiles[0], deltaMax: quantiles[6],
            deltaPercentiles: ["p1": quantiles[1], "p5": quantiles[2], "p50": quantiles[3], "p95": quantiles[4], "p99": quantiles[5]],
            denomMean: mean, denomStd: std, denomCV: mean > 0 ? std / mean : 0,
            denomMin: denom.min() ?? .nan, denomMax: denom.max() ?? .nan,
            learnableScale: learnedScale.map(Double.init), gradNorm: gradNorm, collapse: collapse, skipped: skipped)
        return (record, perPatch)
    }

    /// Percentiles with linear interpolation (numpy's default): v[k] + (pos - k) (v[k + 1] - v[k]), pos = q (n - 1),
    /// k = floor(pos), v in ascending IEEE total order; the order statistics by radix selection
    /// (`OrderStatistics.select`), exact and O(n) however many percentiles. NaN for empty `values`.
    static func percentiles(_ values: UnsafeBufferPointer<Float>, _ qs: [Double]) -> [Double] {
        guard !values.isEmpty else { return qs.map { _ in .nan } }
        let n = values.count
        let positions = qs.map { $0 * Double(n - 1) }
        let lower = positions.map { Int($0) }
        let picked = OrderStatistics.select(values, ranks: lower + lower.map { min($0 + 1, n - 1) })
        return positions.indices.map { i in
            let a = picked[i], b = picked[positions.count + i]
            return Double(a) + (positions[i] - Double(lower[i])) * Double(b - a)
        }
    }
}
