// The overflow-incident monitor: the per-step definitions of docs/conventions.md, computed from one training step
// with the `monitor:` section's thresholds (`MonitorConfig`).
import Data
import Model
import Numerics
import RunFiles

/// One step's monitor statistics as a value that adds up over the ranks of a data-parallel run: counts and sums,
/// minima and maxima, and each patch's own values at its place in the global batch. `StepMonitor.sums` computes a
/// rank's (a single process's is the whole batch's), `DataParallel.combine` adds the ranks' with one packed sum and
/// one packed minimum, and `finalize` turns the result into the record: one definition of every statistic, whether
/// one process or many computed it.
package struct MonitorSums: Sendable {
    /// Patches in the global batch.
    package let batch: Int
    /// Summed over the ranks: [overflow pixels | mean delta | peak output] per patch of the global batch (zero
    /// outside this rank's share; peaks only where a patch overflowed), then the `Total` fields.
    package var summed: [Double]
    /// Minimum over the ranks: delta min, -delta max, denom min, -denom max.
    package var minima: [Double]
    /// The same on every rank (the step, gradient norm, learned scale, whether skipped), or this rank's own: the
    /// delta percentiles p1 ... p99 (exact ones would need every rank's deltas sent to one rank every step).
    package var step: Int
    package var deltaPercentiles: [String: Double]
    package var learnableScale: Double?
    package var gradNorm: Double
    package var skipped: Bool

    /// The positions of the totals after the 3 x batch per-patch values.
    enum Total: Int, CaseIterable {
        case clampHits, saturated, elements, negativePixels
        /// The denominators: count, sum, sum of squared deviations from this rank's mean, sum^2 / count. Over
        /// ranks the squared deviations from the global mean are sum(M2_i) + (sum(s_i^2 / n_i) - S^2 / N) (Chan et
        /// al.); with one rank the bracket is exactly 0 and the std is the two-pass one.
        case denomCount, denomSum, denomM2, denomSquareOverCount
    }

    package init(batch: Int) {
        self.batch = batch
        summed = [Double](repeating: 0, count: 3 * batch + Total.allCases.count)
        minima = [.infinity, .infinity, .infinity, .infinity]
        step = 0
        deltaPercentiles = [:]
        gradNorm = .nan
        skipped = false
    }

    subscript(_ t: Total) -> Double {
        get { summed[3 * batch + t.rawValue] }
        set { summed[3 * batch + t.rawValue] = newValue }
    }

    /// The record, the per-patch overflow pixel counts and the per-patch peak outputs (meaningful where the count
    /// is above 0), in batch order.
    package func finalize() -> (record: MonitorRecord, overflowPerPatch: [Int], peaks: [Float]) {
        let n = batch
        let counts = (0..<n).map { Int(summed[$0].rounded()) }
        var overflow = 0
        var incidents = 0
        for k in counts {
            overflow += k
            incidents += k > 0 ? 1 : 0
        }
        // Collapse: std over the batch of each patch's mean delta.
        var sum = 0.0
        for s in 0..<n { sum += summed[n + s] }
        let pm = sum / Double(max(n, 1))
        var squares = 0.0
        for s in 0..<n { squares += (summed[n + s] - pm) * (summed[n + s] - pm) }
        let collapse = (squares / Double(max(n, 1))).squareRoot()
        let count = self[.denomCount]
        let mean = count > 0 ? self[.denomSum] / count : .nan
        let between = self[.denomSquareOverCount] - self[.denomSum] * self[.denomSum] / count
        let std = count > 0 ? (Swift.max(0, self[.denomM2] + between) / count).squareRoot() : .nan
        let elements = Swift.max(self[.elements], 1)
        let record = MonitorRecord(
            step: step, patches: n, overflowPixels: overflow, overflowIncidents: incidents,
            clampHitRate: self[.clampHits] / elements, saturationRate: self[.saturated] / elements,
            deltaMin: minima[0], deltaMax: -minima[1], deltaPercentiles: deltaPercentiles,
            denomMean: mean, denomStd: std, denomCV: mean > 0 ? std / mean : 0,
            denomMin: count > 0 ? minima[2] : .nan, denomMax: count > 0 ? -minima[3] : .nan,
            learnableScale: learnableScale, gradNorm: gradNorm, collapse: collapse, skipped: skipped,
            negativePixels: Int(self[.negativePixels].rounded()))
        return (record, counts, (0..<n).map { Float(summed[2 * n + $0]) })
    }
}

package enum StepMonitor {
    /// The mean of sample `s`'s `m` values of `v` (N samples of m), summed in Double in order: collapse's input.
    static func patchMean(_ v: UnsafeBufferPointer<Float>, sample s: Int, count m: Int) -> Double {
        var sum = 0.0
        for i in (s * m)..<((s + 1) * m) { sum += Double(v[i]) }
        return sum / Double(m)
    }

    /// The delta quantiles a record keeps: min, p1, p5, p50, p95, p99, max.
    static let deltaQuantiles: [Double] = [0, 0.01, 0.05, 0.5, 0.95, 0.99, 1]

    /// This rank's monitor sums of one step (a single process: the whole batch's), its patches at `offset` in a
    /// global batch of `batch` (nil: this batch alone). `gradNorm` is the global norm before clipping (NaN when
    /// skipped early). The delta percentiles allocate nothing once `scratch` (the selection's buffer, owned by
    /// the caller) has grown.
    package static func sums(
        step: Int, pass: PatchModel.Pass, target: Tensor?, head: ResidualHead, settings: MonitorConfig,
        learnedScale: Float?, gradNorm: Double, skipped: Bool, scratch: Workspace, batch: Int? = nil, offset: Int = 0
    ) -> MonitorSums {
        let local = pass.delta.shape[0]
        var sums = MonitorSums(batch: batch ?? local)
        let n = sums.batch
        sums.step = step
        sums.learnableScale = learnedScale.map(Double.init)
        sums.gradNorm = gradNorm
        sums.skipped = skipped
        let limit = Float(settings.overflowLimit)
        let perPatch = Overflow.perSample(pass.output, reference: target, limit: limit)
        let peaks = perPatch.contains { $0 > 0 } ? Overflow.peaks(pass.output) : nil
        let m = pass.delta.sampleCount
        pass.delta.storage.withUnsafeBufferPointer { v in
            for s in 0..<local {
                sums.summed[offset + s] = Double(perPatch[s])
                sums.summed[n + offset + s] = patchMean(v, sample: s, count: m)
                if let peaks, perPatch[s] > 0 { sums.summed[2 * n + offset + s] = Double(peaks[s]) }
            }
        }
        let counts = head.counts(pass.headCache, saturation: Float(settings.saturation))
        sums[.clampHits] = Double(counts.clampHits)
        sums[.saturated] = Double(counts.saturated)
        sums[.elements] = Double(pass.delta.count)
        sums[.negativePixels] = Double(pass.negativePixels)
        // Exact percentiles (linear interpolation between order statistics) by selection, not a full sort.
        let q = withUnsafeTemporaryAllocation(of: Double.self, capacity: deltaQuantiles.count) { quantiles in
            deltaQuantiles.withUnsafeBufferPointer { qs in
                pass.delta.storage.withUnsafeBufferPointer { percentiles($0, qs, into: quantiles, scratch: scratch) }
            }
            return (quantiles[0], quantiles[1], quantiles[2], quantiles[3], quantiles[4], quantiles[5], quantiles[6])
        }
        sums.deltaPercentiles = ["p1": q.1, "p5": q.2, "p50": q.3, "p95": q.4, "p99": q.5]
        sums.minima[0] = q.0
        sums.minima[1] = -q.6
        pass.norm.denom.withUnsafeBufferPointer { d in
            guard !d.isEmpty else { return }
            let count = Double(d.count)
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
            sums[.denomCount] = count
            sums[.denomSum] = sum
            sums[.denomM2] = squares
            sums[.denomSquareOverCount] = sum * sum / count
            sums.minima[2] = lo
            sums.minima[3] = -hi
        }
        return sums
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
