// LossInputs(delta:logImage:target:eps:) follows its formulas in float32 with once-rounded log and exp.
import Glibc
import Losses
import Model
import Numerics
import Testing

@testable import Losses

struct ReconstructionTests {
    @Test func followsTheFormulasElementByElement() {
        let b = RefBatch.make(seed: 51) { signedUniform(&$0, 0, 3) }
        let x = b.inputs
        let eps: Float = 1e-4
        for i in 0..<x.delta.count {
            let l = x.logImage.storage[i]
            let d = x.delta.storage[i]
            let t = x.target.storage[i]
            #expect(x.gtDelta.storage[i] == Float(log(Double(t + eps))) - l)
            #expect(x.output.storage[i] == max(Float(exp(Double(l + d))) - eps, 0))
        }
        #expect(x.eps == eps)
    }

    @Test func zeroResidualErrorReproducesTheTarget() {
        // delta = gtDelta gives back the target up to float rounding.
        let b = RefBatch.make(seed: 52) { _ in 0 }
        let x = b.inputs
        for i in 0..<x.delta.count {
            #expect(abs(x.output.storage[i] - x.target.storage[i]) <= 4e-6 * x.target.storage[i])
        }
    }

    /// Radiance is never negative: where exp(ln_hat) < eps the output is 0, and the count says how often; a NaN stays
    /// NaN (the monitor counts it as non-finite), +inf stays +inf.
    @Test func theOutputIsNeverNegativeAndTheCountSaysHowOften() {
        let eps: Float = 1e-2
        // log(eps) = -4.605: ln_hat of -6, -4.7 and -4.61 fall below it, -4.6 and 0 do not.
        let lnHat: [Float] = [-6, -4.7, -4.61, -4.6, 0, .nan, 200]
        var logImage = [Float](repeating: -1, count: 5000)
        var delta = [Float](repeating: 0.5, count: 5000)
        for (k, v) in lnHat.enumerated() {
            for j in stride(from: k, to: 5000, by: 700) { delta[j] = v + 1 }  // several chunks of the parallel loop
        }
        let shape = [1, 1, 50, 100]
        logImage[4999] = -1
        var out = Tensor(zeros: [0])
        let below = Reconstruction.output(
            logImage: Tensor(shape: shape, storage: logImage), delta: Tensor(shape: shape, storage: delta), eps: eps,
            into: &out)
        var expected = 0
        for i in 0..<5000 {
            let raw = Float(exp(Double(logImage[i] + delta[i]))) - eps
            if raw < 0 {
                expected += 1
                #expect(out.storage[i] == 0, "element \(i): \(raw)")
            } else if raw.isNaN {
                #expect(out.storage[i].isNaN)
            } else {
                #expect(out.storage[i] == raw)
            }
        }
        #expect(expected == 3 * 8)
        #expect(below == expected)
        #expect(!out.storage.contains { $0 < 0 })
    }

    @Test func overflowIsInfinityNotATrap() {
        let x = LossInputs(
            delta: Tensor(shape: [1, 1, 1, 1], storage: [100]), logImage: Tensor(zeros: [1, 1, 1, 1]),
            target: Tensor(zeros: [1, 1, 1, 1]), eps: 1e-4)
        #expect(x.output.storage[0] == .infinity)
    }
}
