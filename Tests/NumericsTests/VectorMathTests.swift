// VectorMath at every level this CPU runs against libm one element at a time: the same float (at most a rare
// one-ulp tie moved by the vector functions' few extra double ulps), IEEE special values, every tail length.
import Foundation
import Testing

@testable import Numerics

struct VectorMathTests {
    static let levels = SIMDLevel.allCases.filter { $0 <= .best }

    /// Values over the range the training step sees (log images, residuals, tanh inputs) plus special ones.
    static func values(_ n: Int, seed: UInt64, scale: Double, offset: Double) -> [Float] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { _ in Float(rng.normal() * scale + offset) }
    }

    /// a and b agree: bit for bit, or both NaN, or (for at most `ties` of them) one float ulp apart.
    static func expectClose(_ a: [Float], _ b: [Float], ties: Int, _ what: String) {
        #expect(a.count == b.count)
        var moved = 0
        for (x, y) in zip(a, b) where x.bitPattern != y.bitPattern && !(x.isNaN && y.isNaN) {
            #expect(x.nextUp == y || x.nextDown == y, "\(what): \(x) vs \(y)")
            moved += 1
        }
        #expect(moved <= ties, "\(what): \(moved) values one ulp off")
    }

    @Test(arguments: levels)
    func logMatchesLibm(level: SIMDLevel) {
        var x = Self.values(20000, seed: 1, scale: 3, offset: 0).map { Float(Foundation.exp(Double($0))) }
        x += [0, -0.0, -1e-3, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let sub = Self.values(x.count, seed: 2, scale: 1, offset: 0)
        let eps: Float = 1e-4
        for withSub in [false, true] {
            let expected = x.indices.map { i in
                Float(Foundation.log(Double(x[i] + eps))) - (withSub ? sub[i] : 0)
            }
            var y = [Float](repeating: 7, count: x.count)
            x.withUnsafeBufferPointer { xp in
                sub.withUnsafeBufferPointer { sp in
                    y.withUnsafeMutableBufferPointer {
                        VectorMath.log(xp, adding: eps, minus: withSub ? sp : nil, into: $0, level: level)
                    }
                }
            }
            Self.expectClose(y, expected, ties: 4, "log \(level.name) sub \(withSub)")
        }
        // log(0 + 0) = -inf, log of a negative = NaN.
        var special: [Float] = [0, 0]
        [Float(0), -2].withUnsafeBufferPointer { xp in
            special.withUnsafeMutableBufferPointer { VectorMath.log(xp, adding: 0, into: $0, level: level) }
        }
        #expect(special[0] == -.infinity && special[1].isNaN)
    }

    @Test(arguments: levels)
    func expAndTanhMatchLibm(level: SIMDLevel) {
        var a = Self.values(20000, seed: 3, scale: 4, offset: -1)
        a += [0, -0.0, 88, 89, 200, -200, .infinity, -.infinity, .nan]
        let b = Self.values(a.count, seed: 4, scale: 2, offset: 0)
        let eps: Float = 1e-2
        let expectedExp = a.indices.map { Float(Foundation.exp(Double(a[$0] + b[$0]))) - eps }
        let expectedTanh = a.map { Float(Foundation.tanh(Double($0))) }
        var e = [Float](repeating: 0, count: a.count)
        var t = [Float](repeating: 0, count: a.count)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                e.withUnsafeMutableBufferPointer { VectorMath.exp(ap, plus: bp, minus: eps, into: $0, level: level) }
            }
            t.withUnsafeMutableBufferPointer { VectorMath.tanh(ap, into: $0, level: level) }
        }
        Self.expectClose(e, expectedExp, ties: 4, "exp \(level.name)")
        Self.expectClose(t, expectedTanh, ties: 4, "tanh \(level.name)")
        // Overflow in float (not in double) gives +inf, as the monitor expects.
        #expect(e[a.count - 5] == .infinity && e[a.count - 4] == -eps)
        #expect(t[a.count - 3] == 1 && t[a.count - 2] == -1 && t[a.count - 1].isNaN)
    }

    /// Every count from 0 to 3 blocks and a bit: the partial last block writes exactly its own elements.
    @Test(arguments: levels)
    func tailsWriteOnlyTheirElements(level: SIMDLevel) {
        let x = Self.values(40, seed: 5, scale: 1, offset: 0)
        for n in 0...27 {
            var y = [Float](repeating: 42, count: 40)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    VectorMath.tanh(
                        UnsafeBufferPointer(rebasing: xp[0..<n]), into: UnsafeMutableBufferPointer(rebasing: $0[0..<n]),
                        level: level)
                }
            }
            for i in 0..<n { #expect(y[i] == Float(Foundation.tanh(Double(x[i])))) }
            for i in n..<40 { #expect(y[i] == 42) }
        }
    }

    /// mu_law_l1's and mu_law_mse's kernel against its definition written out per element in Double (the formula
    /// of Losses/MuLawLosses.swift): the sum to 1e-12 relative, every gradient within a float ulp.
    @Test(arguments: levels, [false, true])
    func muLawMatchesItsDefinition(level: SIMDLevel, squared: Bool) {
        let n = 3001
        var out = Self.values(n, seed: 6, scale: 2, offset: 0).map { Float(Foundation.exp(Double($0))) - 0.01 }
        let tgt = Self.values(n, seed: 7, scale: 2, offset: 0.3).map { Float(Foundation.exp(Double($0))) }
        out[5] = -0.005
        out[6] = 0
        out[7] = .greatestFiniteMagnitude
        let q = 4.5
        let mu = 5000.0
        let scale = 0.25
        let eps = 0.01
        let invLogMu = 1 / Foundation.log1p(mu)
        var expectedSum = 0.0
        var expectedGrad = [Float](repeating: 0.5, count: n)
        for i in 0..<n {
            let x = Double(out[i])
            let no = Foundation.tanh(max(x, 0) / q)
            let nt = Foundation.tanh(max(Double(tgt[i]), 0) / q)
            let e = (Foundation.log1p(mu * no) - Foundation.log1p(mu * nt)) * invLogMu
            expectedSum += squared ? e * e : abs(e)
            // 0 is the reconstruction's lower bound (its gradient is 0 there).
            let dT = x > 0 ? mu / (1 + mu * no) * invLogMu * (1 - no * no) / q : 0
            let sign: Double = squared ? 2 * e : (e > 0 ? 1 : (e < 0 ? -1 : 0))
            expectedGrad[i] += Float(scale * sign * dT * (x + eps))
        }
        var grad = [Float](repeating: 0.5, count: n)
        let sum = out.withUnsafeBufferPointer { op in
            tgt.withUnsafeBufferPointer { tp in
                grad.withUnsafeMutableBufferPointer {
                    VectorMath.muLawLoss(
                        output: op, target: tp, grad: $0, q: q, mu: mu, scale: scale, eps: eps, squared: squared,
                        level: level)
                }
            }
        }
        #expect(abs(sum - expectedSum) <= 1e-12 * expectedSum)
        Self.expectClose(grad, expectedGrad, ties: 30, "mu-law gradient \(level.name), squared \(squared)")
        // Below zero the gradient is 0: only the 0.5 it started from.
        #expect(grad[5] == 0.5)
    }
}
