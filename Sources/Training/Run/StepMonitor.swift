// The overflow-incident monitor: the per-step definitions of docs/conventions.md, computed from one training step.
/// Thresholds from the `monitor:` config section.
import Data
import Model
import Numerics
import RunFiles

package struct MonitorSettings: Sendable, Equatable {
    /// An output value above this (or non-finite) is an overflow pixel; 65504 is the largest half float.
    package var overflowLimit: Float = 65504
    /// |tanh(p)| above this counts as saturated.
    package var saturation: Float = 0.99
    package init(overflowLimit: Float = 65504, saturation: Float = 0.99) {
        self.overflowLimit = overflowLimit
        self.saturation = saturation
    }
}

package enum StepMonitor {
    /// Overflow pixels per patch: a pixel overflows when any channel of the output is non-finite, or above the
    /// limit where the target's same channel is not: HDR targets can hold values beyond the half range (a sun
    /// in an unclipped frame), and reproducing them is not an overflow the model caused.
    /// - Parameters: output, target (nil: every value above the limit counts): (N, 3, H, W).
    package static func overflowPixels(_ output: Tensor, limit: Float, target: Tensor? = nil) -> [Int] {
        if let target { precondition(target.shape == output.shape, "overflowPixels: target \(target.shape)") }
        let n = output.shape[0]
        let c = output.shape[1]
        let plane = output.shape[2] * output.shape[3]
        var counts = [Int](repeating: 0, count: n)
        let reference = target?.storage ?? []
        output.storage.withUnsafeBufferPointer { o in
            reference.withUnsafeBufferPointer { t in
                for s in 0..<n {
                    var k = 0
                    for i in 0..<plane {
                        for ch in 0..<c {
                            let j = (s * c + ch) * plane + i
                            let v = o[j]
                            if !v.isFinite || (v > limit && (t.isEmpty || t[j] <= limit)) {
                                k += 1
                                break
                            }
                        }
                    }
                    counts[s] = k
                }
            }
        }
        return counts
    }

    /// The mean of sample `s`'s `m` values of `v` (N samples of m), summed in Double in order: collapse's input.
    static func patchMean(_ v: UnsafeBufferPointer<Float>, sample s: Int, count m: Int) -> Double {
        var sum = 0.0
        for i in (s * m)..<((s + 1) * m) { sum += Double(v[i]) }
        return sum / Double(m)
    }

    /// Largest output value of each patch (+inf when any is non-finite), for the incidents table.
    package static func maxOutput(_ output: Tensor) -> [Float] {
        let n = output.shape[0]
        let m = output.sampleCount
        return (0..<n).map { s in
            var mx = -Float.infinity
            for v in output.storage[(s * m)..<((s + 1) * m)] { mx = v.isFinite ? max(mx, v) : .infinity }
            return mx
        }
    }

    /// The delta quantiles a record keeps: min, p1, p5, p50, p95, p99, max.
    static let deltaQuantiles: [Double] = [0, 0.01, 0.05, 0.5, 0.95, 0.99, 1]

    /// The monitor record of one step. `gradNorm` is the global norm before clipping (NaN when skipped early).
    /// Its statistics allocate nothing once `scratch` (the selection's buffer, owned by the caller) has grown;
    /// the record's percentile dictionary and the returned per-patch overflow counts are its only heap storage.
    package static func record(
        step: Int, pass: PatchModel.Pass, target: Tensor?, head: ResidualHead, settings: MonitorSettings,
        learnedScale: Float?, gradNorm: Double, skipped: Bool, scratch: Workspace
    ) -> (MonitorRecord, [Int]) {
        let perPatch = overflowPixels(pass.output, limit: settings.overflowLimit, target: target)
        let counts = head.counts(pass.headCache, saturation: settings.saturation)
        let total = Double(max(pass.delta.count, 1))
        // Exact percentiles (linear interpolation between order statistics) by selection, not a full sort.
        let q = withUnsafeTemporaryAllocation(of: Double.self, capacity: deltaQuantiles.count) { quantiles in
            deltaQuantiles.withUnsafeBufferPointer { qs in
                pass.delta.storage.withUnsafeBufferPointer { percentiles($0, qs, into: quantiles, scratch: scratch) }
            }
            return (quantiles[0], quantiles[1], quantiles[2], quantiles[3], quantiles[4], quantiles[5], quantiles[6])
        }
        let (mean, std, lo, hi) = pass.norm.denom.withUnsafeBufferPointer { d -> (Double, Double, Double, Double) in
            let count = Double(max(d.count, 1))
            if d.isEmpty { return (.nan, .nan, .nan, .nan) }
            var sum = 0.0
            var lo = Double.infinity
            var hi = -Double.infinity
            for v in d {
                sum += Double(v)
                lo = min(lo, Double(v))
                hi = max(hi, Double(v))
            }
            let mean = sum / count
            var squares = 0.0
            for v in d { squares += (Double(v) - mean) * (Double(v) - mean) }
            return (mean, (squares / count).squareRoot(), lo, hi)
        }
        // Collapse: std over the batch of each patch's mean delta.
        let n = pass.delta.shape[0]
        let m = pass.delta.sampleCount
        let collapse = pass.delta.storage.withUnsafeBufferPointer { v in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { patchMeans in
                for s in 0..<n { patchMeans[s] = patchMean(v, sample: s, count: m) }
                var sum = 0.0
                for x in patchMeans { sum += x }
                let pm = sum / Double(max(n, 1))
                var squares = 0.0
                for x in patchMeans { squares += (x - pm) * (x - pm) }
                return (squares / Double(max(n, 1))).squareRoot()
            }
        }
        var overflow = 0
        var incidents = 0
        for k in perPatch {
            overflow += k
            incidents += k > 0 ? 1 : 0
        }
        let record = MonitorRecord(
            step: step, patches: n, overflowPixels: overflow, overflowIncidents: incidents,
            clampHitRate: Double(counts.clampHits) / total, saturationRate: Double(counts.saturated) / total,
            deltaMin: q.0, deltaMax: q.6, deltaPercentiles: ["p1": q.1, "p5": q.2, "p50": q.3, "p95": q.4, "p99": q.5],
            denomMean: mean, denomStd: std, denomCV: mean > 0 ? std / mean : 0,
            denomMin: lo, denomMax: hi,
            learnableScale: learnedScale.map(Double.init), gradNorm: gradNorm, collapse: collapse, skipped: skipped,
            negativePixels: pass.negativePixels)
        return (record, perPatch)
    }

    /// Percentiles with linear interpolation (numpy's default): v[k] + (pos - k) (v[k + 1] - v[k]), pos = q (n - 1),
    /// k = floor(pos), v in ascending IEEE total order; the order statistics by radix selection
    /// (`OrderStatistics.select`), exact and O(n) however many percentiles. NaN for empty `values`.
    static func percentiles(_ values: UnsafeBufferPointer<Float>, _ qs: [Double]) -> [Double] {
        qs.withUnsafeBufferPointer { q in
            [Double](unsafeUninitializedCapacity: q.count) { result, count in
                percentiles(values, q, into: result, scratch: Workspace())
                count = q.count
            }
        }
    }

    /// The same into `result` (qs.count elements), nothing allocated once `scratch` has grown.
    static func percentiles(
        _ values: UnsafeBufferPointer<Float>, _ qs: UnsafeBufferPointer<Double>,
        into result: UnsafeMutableBufferPointer<Double>, scratch: Workspace
    ) {
        guard !values.isEmpty else {
            for i in qs.indices { result[i] = .nan }
            return
        }
        let n = values.count
        let count = qs.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { ranks in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * count) { picked in
                for i in 0..<count {
                    let lower = Int(qs[i] * Double(n - 1))
                    ranks[i] = lower
                    ranks[count + i] = min(lower + 1, n - 1)
                }
                OrderStatistics.select(values, ranks: UnsafeBufferPointer(ranks), into: picked, scratch: scratch)
                for i in 0..<count {
                    let position = qs[i] * Double(n - 1)
                    let a = picked[i]
                    let b = picked[count + i]
                    result[i] = Double(a) + (position - Double(ranks[i])) * Double(b - a)
                }
            }
        }
    }
}
