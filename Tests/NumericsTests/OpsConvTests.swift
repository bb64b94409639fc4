// Conv2D (im2col + sgemm, and the direct 3x3 kernels where they apply) against the naive 7-loop reference: forward, every gradient, accumulation,
// the first-layer and no-bias variants, and workspace reuse.
import Numerics
import Testing

struct OpsConvTests {
    static let tolerance = 1e-5

    /// Parameters as a ParameterStore would hand them out: weight then bias in one buffer.
    final class Params {
        let store: ParameterStore
        let weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>
        let dWeight: UnsafeMutableBufferPointer<Float>, dBias: UnsafeMutableBufferPointer<Float>
        init(_ c: ConvCase, seed: UInt64) throws {
            store = try ParameterStore(layout: [("conv.weight", c.weightShape), ("conv.bias", [c.cout])])
            let we = store.entries[0]
            let be = store.entries[1]
            weight = store.values(we)
            bias = store.values(be)
            dWeight = store.grads(we)
            dBias = store.grads(be)
            _ = weight.update(fromContentsOf: randomFloats(we.count, seed: seed))
            _ = bias.update(fromContentsOf: randomFloats(be.count, seed: seed + 1))
        }
    }

    /// At 1 thread the batch runs image after image (OpenBLAS keeps its threads); at 2 and 3 it is split over
    /// the pool (at most one part per image), each part with its own columns and gradient sums.
    @Test(arguments: convCases, [1, 2, 3])
    func forwardAndGradientsMatchTheReferenceAndAccumulate(_ c: ConvCase, threads: Int) throws {
        let p = try Params(c, seed: 20)
        let conv = Conv2D(
            inChannels: c.cin, outChannels: c.cout, kernelHeight: c.kh, kernelWidth: c.kw, stride: c.s, padding: c.p)
        conv.threads = threads
        #expect(conv.weightShape == c.weightShape && conv.outputShape(input: c.inputShape) == c.outputShape)
        let x = randomTensor(c.inputShape, seed: 21)
        let dy = randomTensor(c.outputShape, seed: 22)
        let wd = doubles(Array(p.weight))
        let bd = doubles(Array(p.bias))

        var y = Tensor(zeros: c.outputShape)
        conv.forward(output: &y, input: x, weight: p.weight.baseAddress!, bias: p.bias.baseAddress!)
        let yRef = Ref.conv2d(x: doubles(x), weight: wd, bias: bd, c)
        #expect(relativeToMax(doubles(y), yRef) <= Self.tolerance, "forward")

        // Pre-filled gradients, then two backward calls: expect prefill + 2 * reference.
        let (dxRef, dwRef, dbRef) = Ref.conv2dBackward(dy: doubles(dy), x: doubles(x), weight: wd, c)
        var dx = randomTensor(c.inputShape, seed: 23)
        let dx0 = doubles(dx)
        let dw0 = randomFloats(p.dWeight.count, seed: 24)
        let db0 = randomFloats(p.dBias.count, seed: 25)
        _ = p.dWeight.update(fromContentsOf: dw0)
        _ = p.dBias.update(fromContentsOf: db0)
        for call in 1...2 {
            conv.backward(
                dInput: &dx, dWeight: p.dWeight.baseAddress!, dBias: p.dBias.baseAddress!,
                dOutput: dy, input: x, weight: p.weight.baseAddress!)
            let k = Double(call)
            func expected(_ prefill: [Double], _ ref: [Double]) -> [Double] { zip(prefill, ref).map { $0 + k * $1 } }
            #expect(relativeToMax(doubles(dx), expected(dx0, dxRef)) <= Self.tolerance, "dInput, call \(call)")
            #expect(
                relativeToMax(doubles(Array(p.dWeight)), expected(doubles(dw0), dwRef)) <= Self.tolerance,
                "dWeight, call \(call)")
            #expect(
                relativeToMax(doubles(Array(p.dBias)), expected(doubles(db0), dbRef)) <= Self.tolerance,
                "dBias, call \(call)")
        }
    }

    @Test(arguments: [convCases[0], convCases[1], convCases[3]])
    func firstLayerAndBiasFreeVariants(_ c: ConvCase) throws {
        let p = try Params(c, seed: 30)
        let conv = Conv2D(
            inChannels: c.cin, outChannels: c.cout, kernelHeight: c.kh, kernelWidth: c.kw, stride: c.s, padding: c.p)
        let x = randomTensor(c.inputShape, seed: 31)
        let dy = randomTensor(c.outputShape, seed: 32)
        let wd = doubles(Array(p.weight))

        var y = Tensor(shape: c.outputShape, storage: randomFloats(c.outputShape.reduce(1, *), seed: 33))
        conv.forward(output: &y, input: x, weight: p.weight.baseAddress!, bias: nil)
        let zeroBias = [Double](repeating: 0, count: c.cout)
        #expect(
            relativeToMax(doubles(y), Ref.conv2d(x: doubles(x), weight: wd, bias: zeroBias, c)) <= Self.tolerance,
            "bias-free forward overwrites the output")

        // No dInput, no dBias: the weight gradient alone, bias gradient untouched.
        let (_, dwRef, _) = Ref.conv2dBackward(dy: doubles(dy), x: doubles(x), weight: wd, c)
        conv.backward(dWeight: p.dWeight.baseAddress!, dBias: nil, dOutput: dy, input: x)
        #expect(relativeToMax(doubles(Array(p.dWeight)), dwRef) <= Self.tolerance)
        #expect(p.dBias.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [1, 2])
    func secondCallWithTheSameShapesAllocatesNothing(threads: Int) throws {
        let c = convCases[0]
        let p = try Params(c, seed: 40)
        let conv = Conv2D(inChannels: c.cin, outChannels: c.cout, kernel: 3, padding: 1)
        conv.algorithm = .im2col
        conv.threads = threads
        let x = randomTensor(c.inputShape, seed: 41)
        let dy = randomTensor(c.outputShape, seed: 42)
        var y = Tensor(zeros: c.outputShape)
        var dx = Tensor(zeros: c.inputShape)
        func step() {
            conv.forward(output: &y, input: x, weight: p.weight.baseAddress!, bias: p.bias.baseAddress!)
            conv.backward(
                dInput: &dx, dWeight: p.dWeight.baseAddress!, dBias: p.dBias.baseAddress!,
                dOutput: dy, input: x, weight: p.weight.baseAddress!)
        }
        func outputAddresses() -> [UnsafeRawPointer?] {
            [
                y.storage.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) },
                dx.storage.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
            ]
        }
        // The columns live in the layer's workspace (one part) or in one slot per part.
        let ws = conv.workspace
        func buffers() -> [Workspace] { threads == 1 ? [ws] : [ws] + (0..<threads).map { ws.slot($0) } }
        step()
        let state = buffers().map { ($0.pointer, $0.capacity, $0.allocations) }
        let addresses = outputAddresses()
        #expect(buffers().last!.capacity >= c.cin * 9 * c.ho * c.wo)
        step()
        #expect(
            buffers().map(\.pointer) == state.map(\.0) && buffers().map(\.capacity) == state.map(\.1)
                && buffers().map(\.allocations) == state.map(\.2))
        #expect(outputAddresses() == addresses, "outputs written in place, not copied")
    }

    @Test func aSharedWorkspaceGrowsToTheLargestLayerOnce() {
        let ws = Workspace()
        let small = Conv2D(inChannels: 2, outChannels: 2, kernel: 1, stride: 2, workspace: ws)
        let large = Conv2D(inChannels: 2, outChannels: 2, kernel: 3, padding: 1, workspace: ws)
        large.algorithm = .im2col
        let w = [Float](repeating: 0.5, count: 2 * 2 * 9)
        let x = randomTensor([1, 2, 6, 6], seed: 50)
        var ySmall = Tensor(zeros: small.outputShape(input: x.shape))
        var yLarge = Tensor(zeros: large.outputShape(input: x.shape))
        func both() {
            small.forward(output: &ySmall, input: x, weight: w, bias: nil)
            large.forward(output: &yLarge, input: x, weight: w, bias: nil)
        }
        both()
        let allocations = ws.allocations
        #expect(ws.capacity == 2 * 9 * 36)
        both()
        both()
        #expect(ws.allocations == allocations)
    }
}

/// Hand-computed values, independent of both implementations.
struct OpsConvGoldenTests {
    @Test func onesKernelOnA3x3Ramp() {
        let x = Tensor(shape: [1, 1, 3, 3], storage: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        // 2x2 ones, stride 1, no padding: sums of each 2x2 window.
        let k2 = Conv2D(inChannels: 1, outChannels: 1, kernel: 2)
        var y = Tensor(zeros: [1, 1, 2, 2])
        k2.forward(output: &y, input: x, weight: [1, 1, 1, 1], bias: [0.5])
        #expect(y.storage == [12.5, 16.5, 24.5, 28.5])
        // 3x3 ones, stride 2, padding 1: windows centred on the corners.
        let k3 = Conv2D(inChannels: 1, outChannels: 1, kernel: 3, stride: 2, padding: 1)
        k3.forward(output: &y, input: x, weight: [Float](repeating: 1, count: 9), bias: nil)
        #expect(y.storage == [12, 16, 24, 28])
    }
}
