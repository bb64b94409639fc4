// Plain Double references of every loss term with analytic gradients, test batches, and the checks that
// compare a reference with central differences and with the float32 kernels.
import Glibc
import Numerics
import Testing

@testable import Losses

/// A batch in Double, made from float32 values so that the kernels see exactly the same numbers.
/// Flat arrays are NCHW with n samples of m = C*H*W values each.
struct RefBatch {
    var shape: [Int]
    var delta: [Double]
    var logImage: [Double]
    var target: [Double]
    var eps: Double
    var n: Int { shape[0] }
    var m: Int { shape[1] * shape[2] * shape[3] }

    var gtDelta: [Double] { zip(target, logImage).map { log($0 + eps) - $1 } }
    var output: [Double] { zip(logImage, delta).map { exp($0 + $1) - eps } }
    func sample(_ x: [Double], _ s: Int) -> ArraySlice<Double> { x[(s * m)..<((s + 1) * m)] }

    /// The float32 inputs a kernel sees, through the same builder the trainer uses.
    var inputs: LossInputs {
        LossInputs(
            delta: Tensor(shape: shape, storage: delta.map(Float.init)),
            logImage: Tensor(shape: shape, storage: logImage.map(Float.init)),
            target: Tensor(shape: shape, storage: target.map(Float.init)), eps: Float(eps))
    }

    /// Target uniform in [0.2, 5], logImage = log(target + eps) + U(-1, 1) (a degraded input), and
    /// delta = gtDelta + e with e from `error`; every value rounded to float32 first.
    static func make(
        seed: UInt64, shape: [Int] = [2, 3, 4, 4], eps: Float = 1e-4,
        error: (inout SeededRNG) -> Double
    ) -> RefBatch {
        var rng = SeededRNG(seed: seed)
        let count = shape.reduce(1, *)
        var t = [Double]()
        var l = [Double]()
        var d = [Double]()
        for _ in 0..<count {
            let tf = Float(0.2 + 4.8 * rng.uniform())
            let lf = Float(log(Double(tf + eps)) + 2 * rng.uniform() - 1)
            let gt = log(Double(tf) + Double(eps)) - Double(lf)
            t.append(Double(tf))
            l.append(Double(lf))
            d.append(Double(Float(gt + error(&rng))))
        }
        return RefBatch(shape: shape, delta: d, logImage: l, target: t, eps: Double(eps))
    }
}

/// A value of magnitude in [lo, hi] with a random sign.
func signedUniform(_ rng: inout SeededRNG, _ lo: Double, _ hi: Double) -> Double {
    let v = lo + (hi - lo) * rng.uniform()
    return rng.uniform() < 0.5 ? -v : v
}

func sign(_ x: Double) -> Double { x > 0 ? 1 : (x < 0 ? -1 : 0) }

/// (value, d value / d delta) of a term on a batch.
typealias Reference = @Sendable (RefBatch) -> (value: Double, grad: [Double])

enum Ref {
    /// mean over all elements of f(e), e = delta - gtDelta; f returns (penalty, slope).
    static func pointwise(_ f: @escaping @Sendable (Double) -> (Double, Double)) -> Reference {
        { b in
            let e = zip(b.delta, b.gtDelta).map { $0 - $1 }
            let count = Double(e.count)
            return (e.map { f($0).0 }.reduce(0, +) / count, e.map { f($0).1 / count })
        }
    }

    static func huber(_ d: Double) -> Reference {
        pointwise { e in abs(e) < d ? (0.5 * e * e, e) : (d * (abs(e) - 0.5 * d), d * sign(e)) }
    }
    static let l1: Reference = pointwise { e in (abs(e), sign(e)) }
    static let mse: Reference = pointwise { e in (e * e, 2 * e) }

    static let sparsity: Reference = { b in
        let count = Double(b.delta.count)
        return (b.delta.map(abs).reduce(0, +) / count, b.delta.map { sign($0) / count })
    }

    static let histogram: Reference = { b in
        let gt = b.gtDelta
        var value = 0.0
        var grad = [Double](repeating: 0, count: b.delta.count)
        for s in 0..<b.n {
            let idx = Array((s * b.m)..<((s + 1) * b.m))
            let order = idx.sorted { b.delta[$0] < b.delta[$1] }
            let g = b.sample(gt, s).sorted()
            var sum = 0.0
            for k in 0..<b.m {
                let e = b.delta[order[k]] - g[k]
                sum += abs(e)
                grad[order[k]] = sign(e) / Double(b.m * b.n)
            }
            value += sum / Double(b.m)
        }
        return (value / Double(b.n), grad)
    }

    static func moments(_ x: ArraySlice<Double>) -> (Double, Double) {
        let mean = x.reduce(0, +) / Double(x.count)
        return (mean, x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count))
    }

    static let moment: Reference = { b in
        let gt = b.gtDelta
        var value = 0.0
        var grad = [Double](repeating: 0, count: b.delta.count)
        for s in 0..<b.n {
            let (mp, vp) = moments(b.sample(b.delta, s))
            let (mg, vg) = moments(b.sample(gt, s))
            value += abs(mp - mg) + abs(vp - vg)
            for i in (s * b.m)..<((s + 1) * b.m) {
                grad[i] =
                    (sign(mp - mg) / Double(b.m) + sign(vp - vg) * 2 * (b.delta[i] - mp) / Double(b.m)) / Double(b.n)
            }
        }
        return (value / Double(b.n), grad)
    }

    /// numpy's default percentile: position p (M - 1) between sorted neighbours.
    static func quantile(_ x: ArraySlice<Double>, _ p: Double) -> Double {
        let v = x.sorted()
        let h = p * Double(v.count - 1)
        let lo = Int(floor(h))
        let hi = min(lo + 1, v.count - 1)
        return v[lo] + (h - Double(lo)) * (v[hi] - v[lo])
    }

    /// A term on the linear output: mean over elements of |T_s(out) - T_s(target)| (or its square), T_s a
    /// per-sample transform made from the target's sample; the transform returns (value, slope w.r.t. the linear
    /// value).
    static func linearL1(
        squared: Bool = false,
        _ transform: @escaping @Sendable (ArraySlice<Double>) -> @Sendable (Double) -> (Double, Double)
    ) -> Reference {
        { b in
            let out = b.output
            var sum = 0.0
            var grad = [Double](repeating: 0, count: b.delta.count)
            let count = Double(b.delta.count)
            for s in 0..<b.n {
                let f = transform(b.sample(b.target, s))
                for i in (s * b.m)..<((s + 1) * b.m) {
                    let (vo, slope) = f(out[i])
                    let e = vo - f(b.target[i]).0
                    sum += squared ? e * e : abs(e)
                    grad[i] = (squared ? 2 * e : sign(e)) * slope * (out[i] + b.eps) / count
                }
            }
            return (sum / count, grad)
        }
    }

    static func muLaw(_ mu: Double, squared: Bool = false) -> Reference {
        linearL1(squared: squared) { tgt in
            let q = max(quantile(tgt, 0.99), 1e-8)
            return { x in
                let n = tanh(max(x, 0) / q)
                let dn = x >= 0 ? (1 - n * n) / q : 0
                return (log(1 + mu * n) / log(1 + mu), mu / (1 + mu * n) / log(1 + mu) * dn)
            }
        }
    }

    /// gfxdisp/pu21 banding_glare, written out again here on purpose (not read from the library).
    static let pu21Par = [
        0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627, 0.09150303166, 0.9099517204, 596.3148142
    ]
    static func pu21V(_ y: Double) -> Double {
        let p = pu21Par
        return p[6] * (pow((p[0] + p[1] * pow(y, p[3])) / (1 + p[2] * pow(y, p[3])), p[4]) - p[5])
    }

    static let pu21: Reference = linearL1 { tgt in
        let mx = tgt.max()!
        let s = mx > 0 ? 4000 / mx : 1
        return { x in
            let y = s * x
            let yc = min(max(y, 0.005), 10000)
            let p = pu21Par
            let u = pow(yc, p[3])
            let den = 1 + p[2] * u
            let r = (p[0] + p[1] * u) / den
            let dV = p[6] * p[4] * pow(r, p[4] - 1) * (p[1] - p[0] * p[2]) / (den * den) * p[3] * u / yc
            return (pu21V(yc), y >= 0.005 && y <= 10000 ? dV * s : 0)
        }
    }
}

enum Check {
    /// Central differences of the reference's value w.r.t. each delta element (step h) against its analytic
    /// gradient: max |numeric - analytic| / max |analytic|.
    static func gradientError(_ ref: Reference, _ b: RefBatch, h: Double = 1e-6) -> Double {
        let analytic = ref(b).grad
        var worst = 0.0
        for i in b.delta.indices {
            var p = b
            var m = b
            p.delta[i] += h
            m.delta[i] -= h
            let numeric = (ref(p).value - ref(m).value) / (2 * h)
            worst = max(worst, abs(numeric - analytic[i]))
        }
        return worst / analytic.map(abs).max()!
    }

    /// The float32 kernel against the reference: (relative value error, max gradient error / max |grad|).
    /// The kernel runs with weight 1 into a zero gradient.
    static func kernelError(_ term: some LossTerm, _ ref: Reference, _ b: RefBatch) -> (value: Double, grad: Double) {
        let (rv, rg) = ref(b)
        var g = Tensor(zeros: b.shape)
        let v = term.evaluate(b.inputs, weight: 1, gradDelta: &g)
        let gradErr = zip(g.storage, rg).map { abs(Double($0) - $1) }.max()! / rg.map(abs).max()!
        return (abs(v - rv) / abs(rv), gradErr)
    }

    /// Both checks at the tolerances of the brief: reference gradient < 1e-6, kernel value and gradient <= 1e-5.
    static func all(
        _ term: some LossTerm, _ ref: Reference, _ b: RefBatch,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let ge = gradientError(ref, b)
        #expect(ge < 1e-6, "reference gradient vs central differences: \(ge)", sourceLocation: sourceLocation)
        let (ve, ke) = kernelError(term, ref, b)
        #expect(ve <= 1e-5, "kernel value vs reference: \(ve)", sourceLocation: sourceLocation)
        #expect(ke <= 1e-5, "kernel gradient vs reference: \(ke)", sourceLocation: sourceLocation)
    }
}
