// x2 nearest upsampling (the U-Net's) and channel concat against the references and PyTorch's known outputs.
import Numerics
import Testing

struct OpsResampleTests {
    static let tolerance = 1e-5

    @Test func pyTorchValuesOnA2x2Image() {
        let x = Tensor(shape: [1, 1, 2, 2], storage: [1, 2, 3, 4])
        var y = Tensor(zeros: [1, 1, 4, 4])
        UpsampleNearest2x.forward(output: &y, input: x)
        #expect(y.storage == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    @Test func upsampleMatchesTheReferenceAndAccumulates() {
        for shape in [[2, 3, 4, 5], [2, 1, 1, 3], [1, 2, 3, 1], [2, 2, 7, 6]] {
            let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
            let outShape = [shape[0], shape[1], 2 * h, 2 * w]
            let x = randomTensor(shape, seed: 80)
            let dy = randomTensor(outShape, seed: 81)
            var y = Tensor(zeros: outShape)
            var dx = randomTensor(shape, seed: 82)
            let prefill = doubles(dx)
            UpsampleNearest2x.forward(output: &y, input: x)
            UpsampleNearest2x.backward(dInput: &dx, dOutput: dy)
            UpsampleNearest2x.backward(dInput: &dx, dOutput: dy)
            let yRef = Ref.upsample2x(doubles(x), planes: planes, h: h, w: w, bilinear: false)
            let gRef = Ref.upsample2xBackward(dy: doubles(dy), planes: planes, h: h, w: w, bilinear: false)
            #expect(relativeToMax(doubles(y), yRef) <= Self.tolerance, "forward \(shape)")
            #expect(
                relativeToMax(doubles(dx), zip(prefill, gRef).map { $0 + 2 * $1 }) <= Self.tolerance,
                "backward \(shape)")
        }
    }

    @Test func concatCopiesAndSplitsAccumulating() {
        let a = randomTensor([2, 3, 4, 5], seed: 83)
        let b = randomTensor([2, 1, 4, 5], seed: 84)
        #expect(ChannelConcat.outputShape(a: a.shape, b: b.shape) == [2, 4, 4, 5])
        var y = Tensor(zeros: [2, 4, 4, 5])
        ChannelConcat.forward(output: &y, a: a, b: b)
        #expect(doubles(y) == Ref.concat(doubles(a), doubles(b), n: 2, ca: 3, cb: 1, hw: 20))

        let dy = randomTensor([2, 4, 4, 5], seed: 85)
        var da = randomTensor(a.shape, seed: 86)
        var db = Tensor(zeros: b.shape)
        let da0 = doubles(da)
        ChannelConcat.backward(dA: &da, dB: &db, dOutput: dy)
        ChannelConcat.backward(dA: &da, dB: &db, dOutput: dy)
        let (gaRef, gbRef) = Ref.concatBackward(dy: doubles(dy), n: 2, ca: 3, cb: 1, hw: 20)
        #expect(relativeToMax(doubles(da), zip(da0, gaRef).map { $0 + 2 * $1 }) <= Self.tolerance)
        #expect(doubles(db) == gbRef.map { 2 * $0 })
    }
}
