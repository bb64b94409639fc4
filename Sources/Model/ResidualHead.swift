// The residual head: network output p -> bounded log-domain residual delta, with the safety clamp.
import Glibc
import Numerics

/// delta = clamp(coef[n] * tanh(p), -c, c), coef per mode (see `ResidualMode`), then ln_hat = log_img + delta.
///
/// Gradients follow PyTorch: tanh' = 1 - t^2 from the saved t; clamp passes the gradient where
/// -c <= x <= c (inclusive, like torch.clamp) and blocks it outside; denom is data (no gradient); the
/// learnable scale gets sum(dDelta_pre * t * scale). Backward accumulates (+=).
package struct ResidualHead: Sendable {
    package let config: ResidualConfig
    /// Name of the trainable scalar in the parameter store (mode learnable only).
    package static let scaleName = "head.scale"

    package init(config: ResidualConfig) { self.config = config }

    /// Parameters the head adds to the model: `head.scale` (shape []) in learnable mode, else none.
    package var parameterLayout: [(name: String, shape: [Int])] {
        if case .learnable = config.mode { return [(Self.scaleName, [])] }
        return []
    }

    /// The initial value of each head parameter, in `parameterLayout` order.
    package var initialValues: [Float] {
        if case .learnable(let s0) = config.mode { return [s0] }
        return []
    }

    /// What forward saves for backward and what the monitor reads.
    package struct Cache: Sendable {
        /// tanh(p), (N, 3, H, W).
        package var t: Tensor
        /// delta before the clamp, (N, 3, H, W).
        package var preClamp: Tensor
        /// The per-sample coefficient multiplying t, (N).
        package var coef: [Float]
        package init() {
            t = Tensor(zeros: [0])
            preClamp = Tensor(zeros: [0])
            coef = []
        }
    }

    /// Sample `sample`'s coefficient: alpha * cap * scale, k * denom * scale, or head.scale * scale.
    func coefficient(denom: [Float], learnedScale: Float?, sample: Int) -> Float {
        let s = config.scale
        switch config.mode {
        case .fixedCap(let cap, let alpha): return alpha * cap * s
        case .adaptive(let k): return k * denom[sample] * s
        case .learnable:
            precondition(learnedScale != nil, "ResidualHead: learnable mode needs the value of head.scale")
            return learnedScale! * s
        }
    }

    /// - Parameter delta: output, (N, 3, H, W), overwritten.
    /// - Parameter p: network output, (N, 3, H, W).
    /// - Parameter cache: filled with t, the pre-clamp delta and the coefficients.
    /// - Parameter denom: (N), LogNorm's per-sample denominator.
    /// - Parameter learnedScale: the current `head.scale` (required in learnable mode).
    package func forward(delta: inout Tensor, p: Tensor, cache: inout Cache, denom: [Float], learnedScale: Float?) {
        let n = p.shape[0]
        let m = p.sampleCount
        precondition(denom.count == n, "ResidualHead: \(denom.count) denominators for \(n) samples")
        if delta.shape != p.shape { delta = Tensor(zeros: p.shape) }
        if cache.t.shape != p.shape {
            cache.t = Tensor(zeros: p.shape)
            cache.preClamp = Tensor(zeros: p.shape)
        }
        if cache.coef.count != n { cache.coef = [Float](repeating: 0, count: n) }
        for s in 0..<n { cache.coef[s] = coefficient(denom: denom, learnedScale: learnedScale, sample: s) }
        let c = config.clamp
        let coef = cache.coef
        p.storage.withUnsafeBufferPointer { src in
            cache.t.storage.withUnsafeMutableBufferPointer { t in
                cache.preClamp.storage.withUnsafeMutableBufferPointer { pre in
                    delta.storage.withUnsafeMutableBufferPointer { out in
                        // Element-wise: split every value over the compute threads (one image too).
                        coef.withUnsafeBufferPointer { coef in
                            Parallel.chunks(
                                n * m,
                                ForwardJob(
                                    p: src, coef: coef, t: t, preClamp: pre, delta: out,
                                    sampleCount: m, clamp: c))
                        }
                    }
                }
            }
        }
    }

    /// - Parameter dP: (N, 3, H, W), accumulated (+=).
    /// - Parameter dScale: accumulated (+=) gradient of `head.scale`; ignored unless learnable.
    /// - Parameter dDelta: (N, 3, H, W), gradient of the loss w.r.t. the clamped delta.
    /// - Parameter cache: what forward saved.
    package func backward(dP: inout Tensor, dScale: inout Float, dDelta: Tensor, cache: Cache) {
        let n = dDelta.shape[0]
        let m = dDelta.sampleCount
        let c = config.clamp
        let learnable: Bool = {
            if case .learnable = config.mode { return true }
            return false
        }()
        var ds = 0.0
        dDelta.storage.withUnsafeBufferPointer { g in
            cache.t.storage.withUnsafeBufferPointer { t in
                cache.preClamp.storage.withUnsafeBufferPointer { pre in
                    dP.storage.withUnsafeMutableBufferPointer { dp in
                        for s in 0..<n {
                            let k = cache.coef[s]
                            for i in (s * m)..<((s + 1) * m) {
                                // torch.clamp: gradient flows where min <= x <= max.
                                let gi: Float = c.map { abs(pre[i]) <= $0 ? g[i] : 0 } ?? g[i]
                                dp[i] += gi * k * (1 - t[i] * t[i])
                                if learnable { ds += Double(gi) * Double(t[i]) }
                            }
                        }
                    }
                }
            }
        }
        if learnable { dScale += Float(ds * Double(config.scale)) }
    }

    /// Monitor counts over a forward's cache: clamp hits (|delta before clamp| >= c, the definition in
    /// docs/conventions.md) and tanh saturation (|t| > `saturation`).
    package func counts(_ cache: Cache, saturation: Float) -> (clampHits: Int, saturated: Int) {
        var hits = 0
        var sat = 0
        if let c = config.clamp { for v in cache.preClamp.storage where abs(v) >= c { hits += 1 } }
        for v in cache.t.storage where abs(v) > saturation { sat += 1 }
        return (hits, sat)
    }

    /// The forward's per-sample loop as a value (run every step: no closure, nothing allocated).
    private struct ForwardJob: ParallelChunkJob {
        let p: UnsafeBufferPointer<Float>, coef: UnsafeBufferPointer<Float>
        let t: UnsafeMutableBufferPointer<Float>, preClamp: UnsafeMutableBufferPointer<Float>
        let delta: UnsafeMutableBufferPointer<Float>
        let sampleCount: Int, clamp: Float?

        /// `values`: indices into the whole (N, 3, H, W) batch, taken sample segment by sample segment.
        func run(_ values: Range<Int>) {
            let m = sampleCount
            guard !values.isEmpty else { return }
            for s in (values.lowerBound / m)...((values.upperBound - 1) / m) {
                let k = coef[s]
                let r = max(s * m, values.lowerBound)..<min((s + 1) * m, values.upperBound)
                // In Double, rounded once, like LogNorm's log.
                VectorMath.tanh(UnsafeBufferPointer(rebasing: p[r]), into: UnsafeMutableBufferPointer(rebasing: t[r]))
                for i in r {
                    let ti = t[i]
                    let d = k * ti
                    preClamp[i] = d
                    delta[i] = clamp.map { Swift.min(Swift.max(d, -$0), $0) } ?? d
                }
            }
        }
    }
}
