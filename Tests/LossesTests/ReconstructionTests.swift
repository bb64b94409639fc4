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
            #expect(x.output.storage[i] == Float(exp(Double(l + d))) - eps)
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

    @Test func overflowIsInfinityNotATrap() {
        let x = LossInputs(
            delta: Tensor(shape: [1, 1, 1, 1], storage: [100]), logImage: Tensor(zeros: [1, 1, 1, 1]),
            target: Tensor(zeros: [1, 1, 1, 1]), eps: 1e-4)
        #expect(x.output.storage[0] == .infinity)
    }
}
