import Numerics
// Activations, exp/log and elementwise add/mul/scale against the Double references: forward, gradient
// (elementwise relative error), accumulation into pre-filled buffers, and PyTorch's choices at exactly 0.
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
        checkUnary(
            "ReLU", input: x,
            forward: { ReLU.forward(output: &$0, input: $1) },
            backward: { dx, dy, x, _ in ReLU.backward(dInput: &dx, dOutput: dy, input: x) },
            reference: Ref.relu, referenceBackward: { Ref.reluBackward(dy: $0, x: $1) })
        // |x| <= 2 keeps 1 - y^2 (from the saved float output) within 1e-5 relative; see Tanh's doc.
        checkUnary(
            "Tanh", input: x,
            forward: { Tanh.forward(output: &$0, input: $1) },
            backward: { Tanh.backward(dInput: &$0, dOutput: $1, output: $3) },
            reference: Ref.tanh, referenceBackward: { Ref.tanhBackward(dy: $0, x: $1) })
    }

    @Test func expAndLog() {
        checkUnary(
            "Exp", input: randomTensor(Self.shape, seed: 63, -4, 4),
            forward: { Exp.forward(output: &$0, input: $1) },
            backward: { Exp.backward(dInput: &$0, dOutput: $1, output: $3) },
            reference: Ref.exp, referenceBackward: { Ref.expBackward(dy: $0, x: $1) })
        checkUnary(
            "Log", input: randomTensor(Self.shape, seed: 64, 1e-3, 50),
            forward: { Log.forward(output: &$0, input: $1) },
            backward: { dx, dy, x, _ in Log.backward(dInput: &dx, dOutput: dy, input: x) },
            reference: Ref.log, referenceBackward: { Ref.logBackward(dy: $0, x: $1) })
        checkUnary(
            "Scale", input: randomTensor(Self.shape, seed: 65),
            forward: { Scale.forward(output: &$0, input: $1, factor: -1.75) },
            backward: { dx, dy, _, _ in Scale.backward(dInput: &dx, dOutput: dy, factor: -1.75) },
            reference: { Ref.scale($0, -1.75) }, referenceBackward: { dy, _ in Ref.scale(dy, -1.75) })
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
        dx = Tensor(zeros: x.shape)
        ReLU.forward(output: &y, input: x)
        ReLU.backward(dInput: &dx, dOutput: dy, input: x)
        #expect(y.storage == [0, 0, 1] && dx.storage == [0, 0, 1])
    }

    @Test func addAndMulGiveBothOperandsTheirGradients() {
        let a = randomTensor(Self.shape, seed: 66, -3, 3)
        let b = randomTensor(Self.shape, seed: 67, -3, 3)
        let dy = randomTensor(Self.shape, seed: 68)
        let (ad, bd, dyd) = (doubles(a), doubles(b), doubles(dy))
        var y = Tensor(zeros: Self.shape)

        Add.forward(output: &y, a: a, b: b)
        #expect(relativeElementwise(doubles(y), Ref.add(ad, bd)) <= Self.tolerance)
        var da = randomTensor(Self.shape, seed: 69)
        var db = Tensor(zeros: Self.shape)
        let da0 = doubles(da)
        Add.backward(dA: &da, dB: &db, dOutput: dy)
        #expect(relativeToMax(doubles(da), Ref.add(da0, dyd)) <= Self.tolerance && doubles(db) == dyd)
        Add.backward(dInput: &db, dOutput: dy)
        #expect(doubles(db) == Ref.scale(dyd, 2))

        Mul.forward(output: &y, a: a, b: b)
        #expect(relativeElementwise(doubles(y), Ref.mul(ad, bd)) <= Self.tolerance)
        da = randomTensor(Self.shape, seed: 70)
        db = Tensor(zeros: Self.shape)
        let da1 = doubles(da)
        Mul.backward(dA: &da, dB: &db, dOutput: dy, a: a, b: b)
        #expect(relativeToMax(doubles(da), Ref.add(da1, Ref.mul(dyd, bd))) <= Self.tolerance)
        #expect(relativeElementwise(doubles(db), Ref.mul(dyd, ad)) <= Self.tolerance)
        Mul.backward(dInput: &db, dOutput: dy, other: a)
        #expect(relativeElementwise(doubles(db), Ref.scale(Ref.mul(dyd, ad), 2)) <= Self.tolerance)
    }
}
