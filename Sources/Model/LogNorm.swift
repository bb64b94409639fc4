// Log normalization of a batch of linear HDR patches: the network's input and the residual head's bounds.
import Glibc
import Numerics

/// The result of `LogNorm` for a batch of N samples.
package struct LogNormalized: Sendable {
    /// log(x + eps), (N, C, H, W).
    package var logImage: Tensor
    /// (logImage - lo) / denom per sample, in [0, 1], (N, C, H, W).
    package var normalized: Tensor
    /// Per-sample minimum and maximum of logImage over all C*H*W values, (N).
    package var lo: [Float]
    package var hi: [Float]
    /// max(hi - lo, denomFloor), (N). Data for the residual head: no gradient flows through it.
    package var denom: [Float]

    /// Empty buffers, for `LogNorm.callAsFunction(_:into:)` to size on first use.
    package init() {
        logImage = Tensor(zeros: [0])
        normalized = Tensor(zeros: [0])
        lo = []
        hi = []
        denom = []
    }

    package init(logImage: Tensor, normalized: Tensor, lo: [Float], hi: [Float], denom: [Float]) {
        self.logImage = logImage
        self.normalized = normalized
        self.lo = lo
        self.hi = hi
        self.denom = denom
    }
}

/// log_img = log(x + eps); lo, hi = min, max of log_img over each sample (all channels and pixels);
/// denom = max(hi - lo, denomFloor); xn = (log_img - lo) / denom.
///
/// Arithmetic follows PyTorch's float32 order: `x + eps` and the normalization are float32 operations;
/// the logarithm is computed in Double and rounded once, so it is correctly rounded (torch's is within
/// one ulp). Inputs are expected to be >= 0 (the image readers clamp negatives); a NaN input propagates.
package struct LogNorm: Sendable, Equatable {
    /// Added before the logarithm so that black pixels have a finite log: log(1e-4) = -9.21, about
    /// 13.3 stops below 1.0, under the darkest 8-bit code of a typical capture.
    package var eps: Float
    /// Smallest denominator, so that a flat patch (hi == lo) normalizes to 0 instead of dividing by 0.
    package var denomFloor: Float

    package static let defaultEps: Float = 1e-4
    package static let defaultDenomFloor: Float = 1e-2

    package init(eps: Float = LogNorm.defaultEps, denomFloor: Float = LogNorm.defaultDenomFloor) {
        self.eps = eps
        self.denomFloor = denomFloor
    }

    /// The minimum and maximum of log(x + eps) over every value of `x`: what `statistics` takes to normalise
    /// several tiles of one image alike. The same values as the forward's log image (`VectorMath.log`: x + eps
    /// in float32, the logarithm in Double, rounded once).
    /// Split over the compute threads (minimum and maximum are exact in any order).
    package func logRange(_ x: Tensor) -> (lo: Float, hi: Float) {
        let parts = max(1, min(Parallel.threads, x.count / 65536))
        var los = [Float](repeating: .infinity, count: parts)
        var his = [Float](repeating: -.infinity, count: parts)
        x.storage.withUnsafeBufferPointer { src in
            los.withUnsafeMutableBufferPointer { lo in
                his.withUnsafeMutableBufferPointer { hi in
                    Parallel.run(parts, RangeJob(source: src, lo: lo, hi: hi, parts: parts, eps: eps))
                }
            }
        }
        return (los.reduce(Float.infinity) { min($0, $1) }, his.reduce(-Float.infinity) { max($0, $1) })
    }

    private struct RangeJob: ParallelJob {
        let source: UnsafeBufferPointer<Float>
        let lo: UnsafeMutableBufferPointer<Float>, hi: UnsafeMutableBufferPointer<Float>
        let parts: Int, eps: Float

        func run(part: Int) {
            let share = Parallel.share(part, of: parts, total: source.count)
            let chunk = 4096
            var lo = Float.infinity
            var hi = -Float.infinity
            var logs = [Float](repeating: 0, count: min(chunk, max(1, share.count)))
            logs.withUnsafeMutableBufferPointer { buffer in
                for start in stride(from: share.lowerBound, to: share.upperBound, by: chunk) {
                    let r = start..<min(start + chunk, share.upperBound)
                    let out = UnsafeMutableBufferPointer(rebasing: buffer[0..<r.count])
                    VectorMath.log(UnsafeBufferPointer(rebasing: source[r]), adding: eps, into: out)
                    for l in out {
                        lo = min(lo, l)
                        hi = max(hi, l)
                    }
                }
            }
            self.lo[part] = lo
            self.hi[part] = hi
        }
    }

    /// - Parameter x: linear values, (N, C, H, W) or any shape whose first axis is the sample.
    package func callAsFunction(_ x: Tensor) -> LogNormalized {
        var result = LogNormalized()
        callAsFunction(x, into: &result)
        return result
    }

    /// The same, writing into `result`'s buffers when they already have the right sizes (a training loop's
    /// steady state then allocates nothing here).
    /// - Parameter statistics: lo and hi to use for every sample instead of the sample's own (inference on
    ///   tiles of one image normalises them all alike: see TiledRestore); denom = max(hi - lo, denomFloor) as
    ///   always. Values outside [lo, hi] then normalise outside [0, 1].
    package func callAsFunction(
        _ x: Tensor, into result: inout LogNormalized, statistics: (lo: Float, hi: Float)? = nil
    ) {
        let n = x.shape.first ?? 0
        let m = x.sampleCount
        if result.logImage.shape != x.shape { result.logImage = Tensor(zeros: x.shape) }
        if result.normalized.shape != x.shape { result.normalized = Tensor(zeros: x.shape) }
        if result.lo.count != n { result.lo = [Float](repeating: 0, count: n) }
        if result.hi.count != n { result.hi = [Float](repeating: 0, count: n) }
        if result.denom.count != n { result.denom = [Float](repeating: 0, count: n) }
        let eps = eps
        let denomFloor = denomFloor
        x.storage.withUnsafeBufferPointer { src in
            result.logImage.storage.withUnsafeMutableBufferPointer { logs in
                result.normalized.storage.withUnsafeMutableBufferPointer { out in
                    result.lo.withUnsafeMutableBufferPointer { lo in
                        result.hi.withUnsafeMutableBufferPointer { hi in
                            result.denom.withUnsafeMutableBufferPointer { denom in
                                if n < Parallel.threads && m >= 2 * 4096 {
                                    // Fewer samples than threads (inference on one image): split each sample.
                                    Self.splitSamples(
                                        source: src, logs: logs, normalized: out, lo: lo, hi: hi, denom: denom,
                                        sampleCount: m, eps: eps, denomFloor: denomFloor, statistics: statistics)
                                    return
                                }
                                // Samples are independent: split them over the compute threads.
                                Parallel.chunks(
                                    n, minimum: 1,
                                    Job(
                                        source: src, logs: logs, normalized: out, lo: lo, hi: hi,
                                        denom: denom, sampleCount: m, eps: eps,
                                        denomFloor: denomFloor, statistics: statistics))
                            }
                        }
                    }
                }
            }
        }
    }

    /// The same values as `Job` with every sample split over the threads: the logs and each part's minimum and
    /// maximum, then (min and max being exact in any order) the sample's, then the normalisation element-wise.
    private static func splitSamples(
        source: UnsafeBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>,
        normalized: UnsafeMutableBufferPointer<Float>, lo: UnsafeMutableBufferPointer<Float>,
        hi: UnsafeMutableBufferPointer<Float>, denom: UnsafeMutableBufferPointer<Float>, sampleCount m: Int,
        eps: Float, denomFloor: Float, statistics: (lo: Float, hi: Float)?
    ) {
        let n = lo.count
        let parts = Parallel.threads
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * n * parts) { ranges in
            Parallel.run(
                parts, LogRangeJob(source: source, logs: logs, ranges: ranges, sampleCount: m, parts: parts, eps: eps))
            for s in 0..<n {
                var mn = Float.infinity
                var mx = -Float.infinity
                for p in 0..<parts {
                    mn = min(mn, ranges[2 * (s * parts + p)])
                    mx = max(mx, ranges[2 * (s * parts + p) + 1])
                }
                if let statistics { (mn, mx) = statistics }
                lo[s] = mn
                hi[s] = mx
                denom[s] = max(mx - mn, denomFloor)
            }
        }
        Parallel.chunks(
            n * m,
            NormalizeJob(
                logs: UnsafeBufferPointer(logs), normalized: normalized, lo: UnsafeBufferPointer(lo),
                denom: UnsafeBufferPointer(denom), sampleCount: m))
    }

    /// Part `part` of every sample: its logs, and its minimum and maximum into `ranges`.
    private struct LogRangeJob: ParallelJob {
        let source: UnsafeBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>
        let ranges: UnsafeMutableBufferPointer<Float>
        let sampleCount: Int, parts: Int, eps: Float
        func run(part: Int) {
            let m = sampleCount
            for s in 0..<(logs.count / m) {
                let share = Parallel.share(part, of: parts, total: m)
                let r = (s * m + share.lowerBound)..<(s * m + share.upperBound)
                VectorMath.log(
                    UnsafeBufferPointer(rebasing: source[r]), adding: eps,
                    into: UnsafeMutableBufferPointer(rebasing: logs[r]))
                var mn = Float.infinity
                var mx = -Float.infinity
                for i in r {
                    mn = min(mn, logs[i])
                    mx = max(mx, logs[i])
                }
                ranges[2 * (s * parts + part)] = mn
                ranges[2 * (s * parts + part) + 1] = mx
            }
        }
    }

    /// (log - lo) / denom, element-wise over the batch.
    private struct NormalizeJob: ParallelChunkJob {
        let logs: UnsafeBufferPointer<Float>, normalized: UnsafeMutableBufferPointer<Float>
        let lo: UnsafeBufferPointer<Float>, denom: UnsafeBufferPointer<Float>
        let sampleCount: Int
        func run(_ values: Range<Int>) {
            guard !values.isEmpty else { return }
            let m = sampleCount
            for s in (values.lowerBound / m)...((values.upperBound - 1) / m) {
                let mn = lo[s]
                let d = denom[s]
                for i in max(s * m, values.lowerBound)..<min((s + 1) * m, values.upperBound) {
                    normalized[i] = (logs[i] - mn) / d
                }
            }
        }
    }

    /// The per-sample loop as a value (run every step: no closure, nothing allocated).
    private struct Job: ParallelChunkJob {
        let source: UnsafeBufferPointer<Float>
        let logs: UnsafeMutableBufferPointer<Float>, normalized: UnsafeMutableBufferPointer<Float>
        let lo: UnsafeMutableBufferPointer<Float>, hi: UnsafeMutableBufferPointer<Float>
        let denom: UnsafeMutableBufferPointer<Float>
        let sampleCount: Int, eps: Float, denomFloor: Float
        let statistics: (lo: Float, hi: Float)?

        func run(_ samples: Range<Int>) {
            let m = sampleCount
            for s in samples {
                var mn = Float.infinity
                var mx = -Float.infinity
                let r = (s * m)..<((s + 1) * m)
                VectorMath.log(
                    UnsafeBufferPointer(rebasing: source[r]), adding: eps,
                    into: UnsafeMutableBufferPointer(rebasing: logs[r]))
                for i in r {
                    let v = logs[i]
                    mn = min(mn, v)
                    mx = max(mx, v)
                }
                if let statistics { (mn, mx) = statistics }
                let d = max(mx - mn, denomFloor)
                lo[s] = mn
                hi[s] = mx
                denom[s] = d
                for i in (s * m)..<((s + 1) * m) { normalized[i] = (logs[i] - mn) / d }
            }
        }
    }
}
