// Test helpers: seeded random inputs, central-difference gradients in Double, and the error measures every
// Ops test uses (so "relative error" means the same thing in each file).
import Numerics

/// Deterministic uniform values in [lo, hi).
func randomDoubles(_ count: Int, seed: UInt64, _ lo: Double = -1, _ hi: Double = 1) -> [Double] {
    var r = SeededRNG(seed: seed, 0x0b5)
    return (0..<count).map { _ in lo + (hi - lo) * r.uniform() }
}

/// Deterministic Float values in [lo, hi) whose magnitude is at least `gap` (keeps inputs off kinks at 0).
func randomFloats(
    _ count: Int, seed: UInt64, _ lo: Float = -1, _ hi: Float = 1, avoidingZeroBy gap: Float = 0
) -> [Float] {
    var r = SeededRNG(seed: seed, 0xf10a7)
    return (0..<count).map { _ in
        while true {
            let v = lo + (hi - lo) * Float(r.uniform())
            if abs(v) >= gap { return v }
        }
    }
}

func randomTensor(
    _ shape: [Int], seed: UInt64, _ lo: Float = -1, _ hi: Float = 1, avoidingZeroBy gap: Float = 0
) -> Tensor {
    Tensor(shape: shape, storage: randomFloats(shape.reduce(1, *), seed: seed, lo, hi, avoidingZeroBy: gap))
}

func doubles(_ x: [Float]) -> [Double] { x.map(Double.init) }
func doubles(_ t: Tensor) -> [Double] { t.storage.map(Double.init) }

/// Indices to probe: all of them for small inputs, else a fixed random subset of `limit` plus both ends.
func probeIndices(_ count: Int, limit: Int = 160, seed: UInt64 = 3) -> [Int] {
    if count <= limit { return Array(0..<count) }
    var r = SeededRNG(seed: seed, UInt64(count))
    return Array(Set([0, count - 1] + (0..<(limit - 2)).map { _ in r.below(count) })).sorted()
}

/// d/dx_i of L(x) = sum(weights ⊙ f(x)) by central differences (step h, in Double), at `indices`.
func numericGradient(
    _ f: ([Double]) -> [Double], at x: [Double], weights: [Double], indices: [Int], step h: Double = 1e-6
) -> [Double] {
    func loss(_ v: [Double]) -> Double { zip(weights, f(v)).reduce(0) { $0 + $1.0 * $1.1 } }
    return indices.map { i in
        var p = x
        var m = x
        p[i] += h
        m[i] -= h
        return (loss(p) - loss(m)) / (2 * h)
    }
}

/// max |got - want| / max |want|: the error measure for sums (conv, upsampling, reductions), where a small
/// component is the difference of large terms and its own relative error means nothing.
func relativeToMax(_ got: [Double], _ want: [Double]) -> Double {
    precondition(got.count == want.count, "compared \(got.count) values with \(want.count)")
    let scale = want.reduce(0) { max($0, abs($1)) }
    let diff = zip(got, want).reduce(0) { max($0, abs($1.0 - $1.1)) }
    return scale == 0 ? diff : diff / scale
}

/// max over i of |got_i - want_i| / |want_i| (0/0 counts as 0): the error measure for elementwise ops.
func relativeElementwise(_ got: [Double], _ want: [Double]) -> Double {
    precondition(got.count == want.count, "compared \(got.count) values with \(want.count)")
    return zip(got, want).reduce(0) { acc, p in
        let d = abs(p.0 - p.1)
        return max(acc, d == 0 ? 0 : d / abs(p.1))
    }
}

/// Central-difference check of an analytic gradient of L = sum(weights ⊙ f(x)): error relative to the largest
/// analytic component, over the probed indices.
func gradCheckError(_ f: ([Double]) -> [Double], at x: [Double], weights: [Double], analytic: [Double]) -> Double {
    let idx = probeIndices(x.count)
    let numeric = numericGradient(f, at: x, weights: weights, indices: idx)
    return relativeToMax(numeric, idx.map { analytic[$0] })
}
