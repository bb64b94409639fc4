// Element-wise log, exp and tanh of float32 buffers computed in Double and rounded once, several values per call
// (CKernels/vmath.c: glibc's libmvec at the AVX2 and AVX-512 levels, libm at the generic one). The training step's
// per-element transcendental loops (LogNorm, the residual head, the reconstruction, mu_law_l1) run through it.
import CKernels

package enum VectorMath {
    /// The level every call uses unless given one: the best this CPU runs.
    package static let level = SIMDLevel.best

    /// y[i] = Float(log(Double(x[i] + add))) (- sub[i] when `sub` is given). x, y (and sub) the same count;
    /// y may be x.
    @inline(__always)
    package static func log(
        _ x: UnsafeBufferPointer<Float>, adding add: Float, minus sub: UnsafeBufferPointer<Float>? = nil,
        into y: UnsafeMutableBufferPointer<Float>, level: SIMDLevel = level
    ) {
        precondition(x.count == y.count && (sub?.count ?? x.count) == x.count, "VectorMath.log: counts differ")
        guard !x.isEmpty else { return }
        hp_map_log(level.rawValue, x.baseAddress, add, sub?.baseAddress, y.baseAddress, x.count)
    }

    /// y[i] = Float(exp(Double(a[i] + b[i]))) - sub.
    @inline(__always)
    package static func exp(
        _ a: UnsafeBufferPointer<Float>, plus b: UnsafeBufferPointer<Float>, minus sub: Float,
        into y: UnsafeMutableBufferPointer<Float>, level: SIMDLevel = level
    ) {
        precondition(a.count == b.count && a.count == y.count, "VectorMath.exp: counts differ")
        guard !a.isEmpty else { return }
        hp_map_exp(level.rawValue, a.baseAddress, b.baseAddress, sub, y.baseAddress, a.count)
    }

    /// y[i] = max(Float(exp(Double(a[i] + b[i]))) - sub, 0) (NaN kept); returns how many were below 0 before the
    /// bound.
    @inline(__always)
    package static func expFloor(
        _ a: UnsafeBufferPointer<Float>, plus b: UnsafeBufferPointer<Float>, minus sub: Float,
        into y: UnsafeMutableBufferPointer<Float>, level: SIMDLevel = level
    ) -> Int {
        precondition(a.count == b.count && a.count == y.count, "VectorMath.expFloor: counts differ")
        guard !a.isEmpty else { return 0 }
        return hp_map_exp_floor(level.rawValue, a.baseAddress, b.baseAddress, sub, y.baseAddress, a.count)
    }

    /// y[i] = Float(tanh(Double(x[i]))).
    @inline(__always)
    package static func tanh(
        _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>, level: SIMDLevel = level
    ) {
        precondition(x.count == y.count, "VectorMath.tanh: counts differ")
        guard !x.isEmpty else { return }
        hp_map_tanh(level.rawValue, x.baseAddress, y.baseAddress, x.count)
    }
}

extension VectorMath {
    /// mu_law_l1's and mu_law_mse's per-sample sum and gradient (Losses/MuLawLosses.swift holds the definition):
    /// returns the sum over i of |e_i| (or e_i^2 when `squared`), e_i = (log1p(mu n(out_i)) - log1p(mu n(tgt_i))) /
    /// log1p(mu), n(v) = tanh(max(v, 0) / q), and adds Float(scale * g(e_i) * dT_i * (out_i + eps)) to grad[i],
    /// g(e) = sign(e) (or 2e), dT_i the derivative of the first term in out_i (0 where out_i < 0). All in Double.
    @inline(__always)
    package static func muLawLoss(
        output: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>, grad: UnsafeMutableBufferPointer<Float>,
        q: Double, mu: Double, scale: Double, eps: Double, squared: Bool = false, level: SIMDLevel = level
    ) -> Double {
        precondition(output.count == target.count && output.count == grad.count, "VectorMath.muLawLoss: counts differ")
        guard !output.isEmpty else { return 0 }
        return hp_mulaw_loss(
            level.rawValue, squared ? 1 : 0, output.baseAddress, target.baseAddress, grad.baseAddress, output.count, q,
            mu, scale, eps)
    }
}
