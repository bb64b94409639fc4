// LeakyReLU (the networks' activation) against the Double reference: forward, gradient (elementwise relative
// error), accumulation into pre-filled buffers, and PyTorch's choice at exactly 0.
import Numerics
import Testing

struct OpsPointwiseTests {
    static let tolerance = 1e-5
    static let shape = [2, 3, 4, 5]

    /// Runs a unary op's forward and backward twice onto a pre-filled gradient; checks against the reference.
    func checkUnary(
        _ name: String, input x: Tensor,
        forward: (inout Tensor, Tensor) -> Void,
        backward: (inout Tensor, Tensor, Tensor, Tensor) -> Void,  // (dInput, dOutput, input, output)
        reference: ([Double]) -> [Double], referenceBackward: ([Double], [Double]) -> [Double]
    ) {
        var y = Tensor(zeros: x.shape)
        forward(&y, x)
        #expect(relativeElementwise(doubles(y), reference(doubles(x))) <= Self.tolerance, "\(name) forward")
        let dy = randomTensor(x.shape, seed: 60)
        var dx = randomTensor(x.shape, seed: 61)
        let prefill = doubles(dx)
        let g = referenceBackward(doubles(dy), doubles(x))
        backward(&dx, dy, x, y)
        #expect(
            relativeToMax(doubles(dx), zip(prefill, g).map { $0 + $1 }) <= Self.tolerance,
            "\(name) backward adds to a pre-filled buffer")
        backward(&dx, dy, x, y)
        var once = Tensor(zeros: x.shape)
        backward(&once, dy, x, y)
        #expect(relativeElementwise(doubles(once), g) <= Self.tolerance, "\(name) backward")
        let twice = zip(prefill, g).map { $0 + 2 * $1 }
        #expect(relativeToMax(doubles(dx), twice) <= Self.tolerance, "\(name) second backward accumulates")
    }

    @Test func activations() {
        let x = randomTensor(Self.shape, seed: 62, -2, 2, avoidingZeroBy: 1e-3)
        checkUnary(
            "LeakyReLU", input: x,
            forward: { LeakyReLU.forward(output: &$0, input: $1, slope: 0.2) },
            backward: { dx, dy, x, _ in LeakyReLU.backward(dInput: &dx, dOutput: dy, input: x, slope: 0.2) },
            reference: { Ref.leakyReLU($0, slope: Double(Float(0.2))) },
            referenceBackward: { Ref.leakyReLUBackward(dy: $0, x: $1, slope: Double(Float(0.2))) })
    }

    @Test func gradientsAtExactlyZeroFollowPyTorch() {
        let x = Tensor(shape: [1, 1, 1, 3], storage: [0, -0.0, 1])
        let dy = Tensor(shape: [1, 1, 1, 3], storage: [1, 1, 1])
        var y = Tensor(zeros: x.shape)
        var dx = Tensor(zeros: x.shape)
        LeakyReLU.forward(output: &y, input: x, slope: 0.1)
        #expect(y.storage == [0, 0, 1])
        LeakyReLU.backward(dInput: &dx, dOutput: dy, input: x, slope: 0.1)
        #expect(dx.storage == [0.1, 0.1, 1])
    }
}
