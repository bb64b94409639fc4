// The direct 3x3 kernels (every instruction-set level this CPU runs, 1-3 threads, odd sizes, channel counts
// that are not multiples of the register blocks) against the naive reference and against the im2col path.
import Numerics
import Testing

struct OpsConvDirectTests {
    static let tolerance = 1e-5

    /// 3x3 / stride 1 / padding 1 geometries: the first and last layers of the networks (3 channels), widths
    /// that leave partial vector blocks, a 1x1 image (all padding), a batch smaller and larger than the threads.
    static let cases: [ConvCase] = [
        ConvCase(n: 3, cin: 3, cout: 32, h: 13, w: 29, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 2, cin: 32, cout: 3, h: 8, w: 8, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 1, cin: 5, cout: 9, h: 1, w: 1, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 5, cin: 7, cout: 17, h: 4, w: 17, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 1, cin: 16, cout: 16, h: 40, w: 33, kh: 3, kw: 3, s: 1, p: 1)
    ]

    static var levels: [SIMDLevel] { SIMDLevel.allCases.filter { $0 <= .best } }

    @Test(arguments: cases)
    func everyLevelAndThreadCountMatchesTheReference(_ c: ConvCase) throws {
        let p = try OpsConvTests.Params(c, seed: 60)
        let x = randomTensor(c.inputShape, seed: 61)
        let dy = randomTensor(c.outputShape, seed: 62)
        let wd = doubles(Array(p.weight))
        let bd = doubles(Array(p.bias))
        let yRef = Ref.conv2d(x: doubles(x), weight: wd, bias: bd, c)
        let (dxRef, dwRef, dbRef) = Ref.conv2dBackward(dy: doubles(dy), x: doubles(x), weight: wd, c)
        for level in Self.levels {
            for threads in 1...3 {
                let conv = Conv2D(inChannels: c.cin, outChannels: c.cout, kernel: 3, padding: 1)
                conv.algorithm = .direct
                conv.simdLevel = level
                conv.threads = threads
                let label = "\(level.name), \(threads) thread(s)"
                var y = Tensor(shape: c.outputShape, storage: randomFloats(c.outputShape.reduce(1, *), seed: 63))
                conv.forward(output: &y, input: x, weight: p.weight.baseAddress!, bias: p.bias.baseAddress!)
                #expect(relativeToMax(doubles(y), yRef) <= Self.tolerance, "forward, \(label)")

                // Gradients accumulate onto what is there.
                var dx = randomTensor(c.inputShape, seed: 64)
                let dx0 = doubles(dx)
                let dw0 = randomFloats(p.dWeight.count, seed: 65)
                let db0 = randomFloats(c.cout, seed: 66)
                _ = p.dWeight.update(fromContentsOf: dw0)
                _ = p.dBias.update(fromContentsOf: db0)
                conv.backward(
                    dInput: &dx, dWeight: p.dWeight.baseAddress!, dBias: p.dBias.baseAddress!,
                    dOutput: dy, input: x, weight: p.weight.baseAddress!)
                #expect(
                    relativeToMax(doubles(dx), zip(dx0, dxRef).map { $0 + $1 }) <= Self.tolerance, "dInput, \(label)")
                #expect(
                    relativeToMax(doubles(Array(p.dWeight)), zip(doubles(dw0), dwRef).map { $0 + $1 })
                        <= Self.tolerance,
                    "dWeight, \(label)")
                #expect(
                    relativeToMax(doubles(Array(p.dBias)), zip(doubles(db0), dbRef).map { $0 + $1 }) <= Self.tolerance,
                    "dBias, \(label)")

                // The first layer's variant: weight gradient only.
                p.dWeight.update(repeating: 0)
                p.dBias.update(repeating: 0)
                conv.backward(dWeight: p.dWeight.baseAddress!, dBias: nil, dOutput: dy, input: x)
                #expect(relativeToMax(doubles(Array(p.dWeight)), dwRef) <= Self.tolerance, "dWeight alone, \(label)")
                #expect(p.dBias.allSatisfy { $0 == 0 })
            }
        }
    }

    @Test func directAndIm2colAgreeOnANetworkSizedLayer() throws {
        let c = ConvCase(n: 4, cin: 32, cout: 32, h: 64, w: 64, kh: 3, kw: 3, s: 1, p: 1)
        let p = try OpsConvTests.Params(c, seed: 70)
        let x = randomTensor(c.inputShape, seed: 71)
        let dy = randomTensor(c.outputShape, seed: 72)
        func run(_ algorithm: ConvAlgorithm) -> (y: [Double], dx: [Double], dw: [Double], db: [Double]) {
            let conv = Conv2D(inChannels: c.cin, outChannels: c.cout, kernel: 3, padding: 1)
            conv.algorithm = algorithm
            var y = Tensor(zeros: c.outputShape)
            var dx = Tensor(zeros: c.inputShape)
            conv.forward(output: &y, input: x, weight: p.weight.baseAddress!, bias: p.bias.baseAddress!)
            p.dWeight.update(repeating: 0)
            p.dBias.update(repeating: 0)
            conv.backward(
                dInput: &dx, dWeight: p.dWeight.baseAddress!, dBias: p.dBias.baseAddress!, dOutput: dy,
                input: x, weight: p.weight.baseAddress!)
            return (doubles(y), doubles(dx), doubles(Array(p.dWeight)), doubles(Array(p.dBias)))
        }
        let a = run(.direct)
        let b = run(.im2col)
        #expect(relativeToMax(a.y, b.y) <= 2e-6)
        #expect(relativeToMax(a.dx, b.dx) <= 2e-6)
        #expect(relativeToMax(a.dw, b.dw) <= 2e-6)
        #expect(relativeToMax(a.db, b.db) <= 2e-6)
    }

    @Test func steadyStateCallsAllocateNothing() throws {
        let c = Self.cases[0]
        let p = try OpsConvTests.Params(c, seed: 80)
        let conv = Conv2D(inChannels: c.cin, outChannels: c.cout, kernel: 3, padding: 1)
        let x = randomTensor(c.inputShape, seed: 81)
        let dy = randomTensor(c.outputShape, seed: 82)
        var y = Tensor(zeros: c.outputShape)
        var dx = Tensor(zeros: c.inputShape)
        conv.threads = 2
        func step() {
            conv.forward(output: &y, input: x, weight: p.weight.baseAddress!, bias: p.bias.baseAddress!)
            conv.backward(
                dInput: &dx, dWeight: p.dWeight.baseAddress!, dBias: p.dBias.baseAddress!,
                dOutput: dy, input: x, weight: p.weight.baseAddress!)
        }
        func allocations() -> [Int] {
            [conv.workspace.allocations] + (0..<2).map { conv.workspace.slot($0).allocations }
        }
        step()
        let first = allocations()
        step()
        step()
        #expect(allocations() == first)
    }
}
