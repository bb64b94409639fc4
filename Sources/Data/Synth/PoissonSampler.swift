// Exact Poisson variates for any mean: Knuth's product method for small means, Hörmann's PTRS above.
import Glibc
import Numerics

package enum PoissonSampler {
    /// Means below this use Knuth's method (expected mean + 1 uniforms, exact); from it on, PTRS
    /// (W. Hörmann, "The transformed rejection method for generating Poisson random variables", 1993),
    /// also exact, with about 1.1 iterations per variate whatever the mean. The split at 10 is where PTRS's
    /// hat is valid and the one numpy uses.
    package static let ptrsThreshold = 10.0

    /// A Poisson(mean) variate as a Double (means up to ~1e15 stay exact integers).
    /// - Parameter mean: finite, >= 0.
    package static func sample(mean: Double, rng: inout SeededRNG) -> Double {
        precondition(mean >= 0 && mean.isFinite, "Poisson mean \(mean)")
        if mean == 0 { return 0 }
        return mean < ptrsThreshold ? knuth(mean, &rng) : ptrs(mean, &rng)
    }

    static func knuth(_ mean: Double, _ rng: inout SeededRNG) -> Double {
        let limit = exp(-mean)
        var k = 0.0
        var p = rng.uniform()
        while p > limit {
            k += 1
            p *= rng.uniform()
        }
        return k
    }

    static func ptrs(_ mean: Double, _ rng: inout SeededRNG) -> Double {
        let b = 0.931 + 2.53 * mean.squareRoot()
        let a = -0.059 + 0.02483 * b
        let invAlpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = rng.uniform() - 0.5
            let v = rng.uniform()
            let us = 0.5 - abs(u)
            // k stays a Double: at us == 0 it is -inf and is rejected below instead of trapping in Int().
            let k = ((2 * a / us + b) * u + mean + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            // Only the rejections that reach this test need log(mean): taken here, not once per variate (most
            // variates are accepted above), the same value where it is used.
            let logMean = log(mean)
            var sign: Int32 = 0
            let logFactorial = lgamma_r(k + 1, &sign)  // lgamma_r: no shared signgam, safe across threads
            if log(v) + log(invAlpha) - log(a / (us * us) + b) <= -mean + k * logMean - logFactorial { return k }
        }
    }
}
