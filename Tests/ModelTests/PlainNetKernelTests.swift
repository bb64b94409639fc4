// The plain network on Conv3x3Stack (padded activations, whole images per thread) against the same network
// composed from the separately tested ops (Conv2D's im2col path + LeakyReLU), with direct and Winograd
// convolutions, at every instruction-set level this CPU runs and 1-3 threads; and its steady state allocates
// no new buffers.
import Numerics
import Testing

@testable import Model

struct PlainNetKernelTests {
    /// forward and parameter gradients of the composed reference, in Double.
    static func reference(
        depth: Int, width: Int, store: ParameterStore, x: Tensor, dOut: Tensor
    ) -> (p: [Double], grads: [Double]) {
        let channels = [3] + [Int](repeating: width, count: depth - 1) + [3]
        let grads = try! ParameterStore(layout: store.entries.map { ($0.name, $0.shape) })
        var inputs: [Tensor] = []
        var outputs: [Tensor] = []
        let convs = (0..<depth).map { i -> Conv2D in
            let c = Conv2D(inChannels: channels[i], outChannels: channels[i + 1], kernel: 3, padding: 1)
            c.algorithm = .im2col
            return c
        }
        var h = x
        for i in 0..<depth {
            let w = store.values(store.entry(named: "layers.\(i).weight")!)
            let b = store.values(store.entry(named: "layers.\(i).bias")!)
            var y = Tensor(zeros: convs[i].outputShape(input: h.shape))
            convs[i].forward(
                output: &y, input: h, weight: UnsafePointer(w.baseAddress!), bias: UnsafePointer(b.baseAddress!))
            inputs.append(h)
            outputs.append(y)
            if i < depth - 1 {
                var a = Tensor(zeros: y.shape)
                LeakyReLU.forward(output: &a, input: y, slope: 0.2)
                h = a
            } else {
                h = y
            }
        }
        var g = dOut
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let w = store.values(store.entry(named: "layers.\(i).weight")!)
            let dw = grads.values(grads.entry(named: "layers.\(i).weight")!)
            let db = grads.values(grads.entry(named: "layers.\(i).bias")!)
            var dx = Tensor(zeros: inputs[i].shape)
            convs[i].backward(
                dInput: &dx, dWeight: dw.baseAddress!, dBias: db.baseAddress!, dOutput: g, input: inputs[i],
                weight: UnsafePointer(w.baseAddress!))
            if i > 0 {
                var d = Tensor(zeros: dx.shape)
                LeakyReLU.backward(dInput: &d, dOutput: dx, input: outputs[i - 1], slope: 0.2)
                g = d
            }
        }
        return (h.storage.map(Double.init), Array(grads.values).map(Double.init))
    }

    static func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
        let scale = max(b.map(abs).max() ?? 0, 1e-30)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    @Test(arguments: [(1, 3, 9, 7), (3, 8, 13, 29), (4, 5, 6, 1), (4, 16, 20, 70)], Conv3x3Algorithm.allCases)
    func everyLevelAndThreadCountMatchesTheComposedOps(
        _ c: (depth: Int, width: Int, h: Int, w: Int),
        algorithm: Conv3x3Algorithm
    ) throws {
        var rng = SeededRNG(seed: 90)
        let n = 3
        let x = Tensor(shape: [n, 3, c.h, c.w], storage: (0..<(n * 3 * c.h * c.w)).map { _ in Float(rng.normal()) })
        let dOut = Tensor(shape: x.shape, storage: (0..<x.count).map { _ in Float(rng.normal()) })
        for level in SIMDLevel.allCases where level <= .best {
            for threads in 1...3 {
                let net = PlainNet(depth: c.depth, width: c.width)
                net.simdLevel = level
                net.threads = threads
                net.convAlgorithm = algorithm
                let store = try ParameterStore(layout: net.parameterLayout)
                net.initialize(store, seed: 91)
                let ref = Self.reference(depth: c.depth, width: c.width, store: store, x: x, dOut: dOut)
                let p = net.forward(x, store: store)
                let label = "\(algorithm.rawValue), \(level.name), \(threads) thread(s)"
                #expect(Self.maxRelative(p.storage.map(Double.init), ref.p) <= 1e-5, "forward, \(label)")
                net.backward(dOut, store: store)
                #expect(Self.maxRelative(Array(store.grads).map(Double.init), ref.grads) <= 1e-5, "gradients, \(label)")
            }
        }
    }

    /// One large image goes through the layers a strip of rows at a time (one thread) or in bands of rows (more
    /// threads than images): its output and then its gradients equal, bit for bit, those of the layer-after-layer
    /// forward (rowOrder off), at every level and algorithm, for a height that is not a multiple of 4; and a batch
    /// of two copies gives each the same output, image per thread (two threads) or in strips (one).
    @Test(arguments: Conv3x3Algorithm.allCases)
    func rowOrderForwardOfOneImageIsBitIdenticalToLayerAfterLayer(algorithm: Conv3x3Algorithm) throws {
        var rng = SeededRNG(seed: 94)
        let (h, w) = (259, 254)
        #expect(h * w >= Conv3x3Stack.rowOrderMinPixels)
        let plane = 3 * h * w
        let x = Tensor(shape: [1, 3, h, w], storage: (0..<plane).map { _ in Float(rng.normal()) })
        let pair = Tensor(shape: [2, 3, h, w], storage: x.storage + x.storage)
        let dOut = Tensor(shape: x.shape, storage: (0..<plane).map { _ in Float(rng.normal()) })
        for (depth, width) in [(4, 16), (3, 5)] {
            for level in SIMDLevel.allCases where level <= .best {
                func net(threads: Int, rowOrder: Bool = true) throws -> (PlainNet, ParameterStore) {
                    let net = PlainNet(depth: depth, width: width)
                    net.simdLevel = level
                    net.threads = threads
                    net.convAlgorithm = algorithm
                    net.rowOrder = rowOrder
                    let store = try ParameterStore(layout: net.parameterLayout)
                    net.initialize(store, seed: 95)
                    return (net, store)
                }
                let (plainNet, plainStore) = try net(threads: 1, rowOrder: false)
                let expected = plainNet.forward(x, store: plainStore).storage
                plainNet.backward(dOut, store: plainStore)
                let expectedGrads = Array(plainStore.grads)
                // Two images on two threads: one image per thread, layer after layer.
                let (batchNet, batchStore) = try net(threads: 2)
                let tag = "d\(depth) w\(width), \(algorithm.rawValue), \(level.name)"
                #expect(
                    Array(batchNet.forward(pair, store: batchStore).storage[0..<plane]) == expected, "\(tag), batch")
                for threads in 1...3 {
                    let (single, store) = try net(threads: threads)
                    let label = "\(tag), \(threads) thread(s)"
                    #expect(single.forward(x, store: store).storage == expected, "forward, \(label)")
                    single.backward(dOut, store: store)
                    if threads == 1 {
                        #expect(Array(store.grads) == expectedGrads, "gradients, \(label)")
                        // Two large images on one thread: one after the other, each in strips of rows.
                        let both = single.forward(pair, store: store).storage
                        #expect(
                            Array(both[0..<plane]) == expected && Array(both[plane...]) == expected, "\(label), pair")
                    }
                }
            }
        }
    }

    @Test func sameThreadCountGivesBitIdenticalGradients() throws {
        var rng = SeededRNG(seed: 92)
        let x = Tensor(shape: [5, 3, 16, 16], storage: (0..<(5 * 3 * 256)).map { _ in Float(rng.normal()) })
        func grads() throws -> [Float] {
            let net = PlainNet(depth: 3, width: 8)
            net.threads = 2
            let store = try ParameterStore(layout: net.parameterLayout)
            net.initialize(store, seed: 93)
            let p = net.forward(x, store: store)
            net.backward(p, store: store)
            return Array(store.grads)
        }
        #expect(try grads() == grads())
    }
}
