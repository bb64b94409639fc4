// AdamW against a Double re-implementation of torch's formula, a hand-checked first step and torch's own bits.
import Foundation
import Numerics
import Testing

@testable import Training

@Suite struct AdamWTests {
    @Test func firstStepIsMinusLrTimesSignAfterDecay() throws {
        let s = try ParameterStore(layout: [("w", [1])], stateSlots: 2)
        s.values[0] = 1
        s.grads[0] = 0.5
        let opt = AdamW(lr: 0.1)
        opt.step(s, lr: 0.1)
        // By hand: decay 1 * (1 - 0.1*0.01) = 0.999; m = 0.1*0.5 = 0.05, v = 0.001*0.25; bc1 = 0.1, bc2 = 0.001,
        // so m/bc1 = 0.5 and sqrt(v/bc2) = 0.5: p = 0.999 - 0.1 * 0.5/(0.5 + 1e-8) = 0.899 (eps is below float resolution).
        // In float32 the roundings of 0.999, m and denom leave the sum next to a rounding midpoint: torch.optim.AdamW
        // gives 0x3f6624de = 0.89900005, one ulp above the float nearest 0.899, and so must we.
        #expect(s.values[0].bitPattern == 0x3f66_24de)
        #expect(abs(s.values[0] - 0.899) <= Float(0.899).ulp)
        #expect(s.state(0)[0] == Float(0.1) * 0.5)
        #expect(s.state(1)[0] == Float(1 - 0.999) * 0.5 * 0.5)
        #expect(opt.stepCount == 1)
    }

    @Test func twentyStepsMatchDoubleReference() throws {
        let s = try smallStore(stateSlots: 2)
        let (lr, b1, b2, eps, wd) = (1e-3, 0.9, 0.999, 1e-8, 0.05)
        let opt = AdamW(lr: lr, betas: (b1, b2), eps: eps, weightDecay: wd)
        var p = (0..<s.count).map { Double(s.values[$0]) }
        var m = [Double](repeating: 0, count: s.count)
        var v = m
        for t in 0..<20 {
            let lrT = lr * (1 + 0.1 * Double(t % 3))  // the step's lr varies, as under a schedule
            setGrads(s, step: t)
            opt.step(s, lr: lrT)
            let k = Double(t + 1)
            for i in 0..<s.count {
                let g = Double(gradient(i, t))
                p[i] *= 1 - lrT * wd
                m[i] += (g - m[i]) * (1 - b1)
                v[i] = v[i] * b2 + (1 - b2) * g * g
                let denom = v[i].squareRoot() / (1 - pow(b2, k)).squareRoot() + eps
                p[i] += -(lrT / (1 - pow(b1, k))) * m[i] / denom
            }
        }
        #expect(opt.stepCount == 20)
        for i in 0..<s.count {
            #expect(abs(Double(s.values[i]) - p[i]) <= 1e-6 * abs(p[i]), "p[\(i)] \(s.values[i]) vs \(p[i])")
            #expect(abs(Double(s.state(0)[i]) - m[i]) <= 1e-5 * abs(m[i]), "m[\(i)]")
            #expect(abs(Double(s.state(1)[i]) - v[i]) <= 1e-5 * abs(v[i]), "v[\(i)]")
        }
    }

    /// 200,003 parameters: the update runs in chunks over the threads (at least 65,536 each) and equals one pass over
    /// every element in order, in float as the formula is written, bit for bit.
    @Test func chunksOverThreadsEqualOnePassBitForBit() throws {
        let n = 200_003
        let s = try ParameterStore(layout: [("w", [n])], stateSlots: 2)
        var p = [Float](repeating: 0, count: n)
        for i in 0..<n {
            s.values[i] = Float(i % 97) * 0.01 - 0.4
            p[i] = s.values[i]
        }
        var (m, v) = ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
        let (lr, wd): (Double, Double) = (2e-3, 0.01)
        let opt = AdamW(lr: lr, weightDecay: wd)
        for t in 0..<3 {
            for i in 0..<n { s.grads[i] = Float((i * 7 + t * 13) % 31) * 0.003 - 0.04 }
            opt.step(s, lr: lr)
            let k = Double(Float(t + 1))
            let (bc1, bc2) = (1 - pow(0.9, k), 1 - pow(0.999, k))
            let decay = Float(1 - lr * wd)
            let w1 = Float(1 - 0.9)
            let (b2, oneMinusB2, bc2Sqrt) = (Float(0.999), Float(1 - 0.999), Float(pow(bc2, 0.5)))
            let negStepSize = Float(-(lr / bc1))
            for i in 0..<n {
                let pi = p[i] * decay
                let gi = s.grads[i]
                let mNew = m[i].addingProduct(w1, gi - m[i])
                let vNew = (v[i] * b2).addingProduct(oneMinusB2 * gi, gi)
                (m[i], v[i]) = (mNew, vNew)
                p[i] = pi + (negStepSize * mNew) / (vNew.squareRoot() / bc2Sqrt + Float(1e-8))
            }
        }
        #expect((0..<n).allSatisfy { s.values[$0].bitPattern == p[$0].bitPattern })
        #expect((0..<n).allSatisfy { s.state(0)[$0] == m[$0] && s.state(1)[$0] == v[$0] })
    }

    @Test func zeroWeightDecayLeavesZeroGradParametersAlone() throws {
        let s = try ParameterStore(layout: [("w", [2])], stateSlots: 2)
        s.values[0] = 3
        s.values[1] = -2
        let opt = AdamW(lr: 0.5, weightDecay: 0)
        for _ in 0..<3 { opt.step(s, lr: 0.5) }
        #expect(s.values[0] == 3 && s.values[1] == -2)
    }
}
