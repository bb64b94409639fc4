// LogNorm follows its formulas exactly, per sample, on flat, tiny and huge patches.
import Glibc
import Numerics
import Testing

@testable import Model

struct LogNormTests {
    /// A batch whose samples have different ranges, including exact zeros.
    static func batch() -> Tensor {
        var t = Tensor(zeros: [3, 3, 4, 5])
        var r = SeededRNG(seed: 3)
        for s in 0..<3 {
            for i in 0..<60 {
                let stops = Double(s * 8) * r.uniform() - 4
                t.storage[s * 60 + i] = Float(pow(2.0, stops))
            }
        }
        t.storage[7] = 0
        return t
    }

    @Test func matchesTheFormulasElementByElement() {
        let x = Self.batch()
        let ln = LogNorm(eps: 1e-4, denomFloor: 1e-2)
        let r = ln(x)
        for s in 0..<3 {
            let vals = (0..<60).map { Float(log(Double(x.storage[s * 60 + $0] + Float(1e-4)))) }
            let lo = vals.min()!
            let hi = vals.max()!
            #expect(r.lo[s] == lo && r.hi[s] == hi)
            #expect(r.denom[s] == max(hi - lo, 1e-2))
            for i in 0..<60 {
                #expect(r.logImage.storage[s * 60 + i] == vals[i])
                #expect(r.normalized.storage[s * 60 + i] == (vals[i] - lo) / r.denom[s])
            }
            let xn = r.normalized.storage[(s * 60)..<((s + 1) * 60)]
            #expect(xn.min() == 0 && xn.max() == 1)
        }
        // Exact zero maps to log(eps).
        #expect(r.logImage.storage[7] == Float(log(Double(Float(1e-4)))))
    }

    /// logRange (what tiled restore normalises every tile with) is the forward's lo and hi of the whole image, on
    /// an image large enough to be split over the threads, with the extremes in different parts.
    @Test func logRangeIsTheForwardsMinimumAndMaximum() {
        var r = SeededRNG(seed: 4)
        let count = 3 * 300 * 300
        var values = (0..<count).map { _ in Float(exp(12 * r.uniform() - 6)) }
        values[17] = 0
        values[count - 5] = 3e4
        let x = Tensor(shape: [1, 3, 300, 300], storage: values)
        let norm = LogNorm()
        let range = norm.logRange(x)
        let forward = norm(x)
        #expect(range.lo == forward.lo[0] && range.hi == forward.hi[0])
        #expect(range.lo == forward.logImage.storage.min()! && range.hi == forward.logImage.storage.max()!)
        #expect(range.lo == Float(log(Double(norm.eps))))
    }

    @Test func logIsCorrectlyRoundedAgainstDouble() {
        var x = Tensor(zeros: [1, 1, 1, 1000])
        for i in 0..<1000 { x.storage[i] = Float(i) * 37.25 + 1e-3 }
        let r = LogNorm()(x)
        for i in 0..<1000 {
            let exact = log(Double(x.storage[i] + LogNorm.defaultEps))
            let got = Double(r.logImage.storage[i])
            // Within half an ulp of float at that magnitude.
            #expect(abs(got - exact) <= Double(Float(exact).ulp) / 2)
        }
    }

    @Test func flatPatchUsesTheFloorAndNormalizesToZero() {
        let x = Tensor(shape: [2, 3, 2, 2], storage: [Float](repeating: 5, count: 12) + (0..<12).map { Float($0) })
        let r = LogNorm(eps: 1e-4, denomFloor: 0.05)(x)
        #expect(r.hi[0] == r.lo[0])
        #expect(r.denom[0] == 0.05)
        #expect(r.normalized.storage[0..<12].allSatisfy { $0 == 0 })
        // The second sample is unaffected by the first.
        #expect(r.lo[1] == Float(log(Double(Float(0) + Float(1e-4)))) && r.denom[1] > 1)
    }

    @Test func tinyAndHugeValuesStayFinite() {
        let x = Tensor(shape: [1, 1, 1, 4], storage: [0, 1e-30, 1e-8, 3e38])
        let r = LogNorm()(x)
        #expect(r.logImage.storage.allSatisfy { $0.isFinite })
        #expect(r.normalized.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(abs(Double(r.hi[0]) - log(3e38)) < 1e-4)
        // 1e-30 and 0 are both swamped by eps.
        #expect(r.logImage.storage[0] == r.logImage.storage[1])
    }

    @Test func samplesAreIndependent() {
        let x = Self.batch()
        let all = LogNorm()(x)
        for s in 0..<3 {
            let one = LogNorm()(Tensor(shape: [1, 3, 4, 5], storage: Array(x.storage[(s * 60)..<((s + 1) * 60)])))
            #expect(one.lo[0] == all.lo[s] && one.denom[0] == all.denom[s])
            #expect(one.normalized.storage == Array(all.normalized.storage[(s * 60)..<((s + 1) * 60)]))
        }
    }
}
