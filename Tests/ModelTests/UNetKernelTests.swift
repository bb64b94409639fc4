// The U-Net on UNetStack (padded activations, images per thread, stride-2 convolutions on their input's phases,
// the decoder's concatenation never copied, direct weight gradients over all of a thread's images) against the
// same network layer by layer (Conv2D: direct 3x3 kernels, im2col + sgemm for the stride-2 and 1x1 layers, copies
// for the upsampling and the concatenation), at every instruction-set level this CPU runs, 1-3 threads and every
// algorithm choice: the forward and every parameter's gradient.
import Numerics
import Testing

@testable import Model

struct UNetKernelTests {
    /// p and the gradient of every parameter (by name) after one forward and backward from zero gradients.
    static func run(
        _ net: UNet, _ store: ParameterStore, _ x: Tensor, _ dOut: Tensor
    ) -> (
        p: [Double], grads: [String: [Double]]
    ) {
        store.zeroGrads()
        let p = net.forward(x, store: store).storage.map(Double.init)
        net.backward(dOut, store: store)
        var grads: [String: [Double]] = [:]
        for e in store.entries { grads[e.name] = store.grads(e).map(Double.init) }
        return (p, grads)
    }

    /// Largest difference relative to the largest magnitude of the reference.
    static func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
        let scale = max(b.map(abs).max() ?? 0, 1e-30)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    static let shapes: [(cin: Int, width: Int, levels: Int, h: Int, w: Int)] = [
        (3, 4, 1, 8, 12), (6, 5, 2, 12, 20), (3, 8, 3, 32, 40), (3, 16, 2, 36, 32)
    ]

    @Test(arguments: shapes, Conv3x3Algorithm.allCases)
    func stackMatchesTheLayerByLayerNetwork(
        _ c: (cin: Int, width: Int, levels: Int, h: Int, w: Int), algorithm: Conv3x3Algorithm
    ) throws {
        var rng = SeededRNG(seed: 120)
        let n = 3
        let x = Tensor(
            shape: [n, c.cin, c.h, c.w], storage: (0..<(n * c.cin * c.h * c.w)).map { _ in Float(rng.normal()) })
        let dOut = Tensor(shape: [n, 3, c.h, c.w], storage: (0..<(n * 3 * c.h * c.w)).map { _ in Float(rng.normal()) })
        let reference = UNet(width: c.width, levels: c.levels, inputChannels: c.cin)
        reference.path = .layers
        let store = try ParameterStore(layout: reference.parameterLayout)
        reference.initialize(store, seed: 121)
        let expected = Self.run(reference, store, x, dOut)
        #expect(!reference.ranOnStack)
        // Winograd's rounding is about 10x the direct kernels' (Conv3x3Algorithm.winograd).
        let tolerance = algorithm == .direct ? 2e-6 : 2e-5
        for level in SIMDLevel.allCases where level <= .best {
            for threads in 1...3 {
                let net = UNet(width: c.width, levels: c.levels, inputChannels: c.cin)
                net.simdLevel = level
                net.threads = threads
                net.convAlgorithm = algorithm
                let got = Self.run(net, store, x, dOut)
                let label =
                    "w\(c.width) l\(c.levels) \(c.h)x\(c.w), \(algorithm.rawValue), \(level.name), \(threads) thread(s)"
                #expect(net.ranOnStack, "\(label): not on the stack")
                #expect(Self.maxRelative(got.p, expected.p) <= tolerance, "forward, \(label)")
                for (name, g) in expected.grads {
                    let e = Self.maxRelative(got.grads[name]!, g)
                    #expect(e <= tolerance, "\(name): \(e), \(label)")
                }
                // The same thread count again: bit for bit.
                let again = Self.run(net, store, x, dOut)
                #expect(again.p == got.p && again.grads == got.grads, "repeat, \(label)")
            }
        }
    }

    /// Fewer images than threads (a large tile to restore): every layer's rows split over the threads. The output
    /// and the gradients equal the one-thread stack's bit for bit, at every instruction-set level and algorithm.
    @Test(arguments: Conv3x3Algorithm.allCases)
    func fewerImagesThanThreadsSplitRowsBitForBit(algorithm: Conv3x3Algorithm) throws {
        var rng = SeededRNG(seed: 122)
        // 3 levels at 96 x 40: 12 rows at the bottom level, bands of 8 and 4 rows there on 2 threads, 4, 4 and 4 on
        // 3 (and Winograd at the top level under `automatic`). Two images on 3 threads split rows too.
        let (h, w) = (96, 40)
        for n in 1...2 {
            let x = Tensor(shape: [n, 3, h, w], storage: (0..<(n * 3 * h * w)).map { _ in Float(rng.normal()) })
            let dOut = Tensor(shape: [n, 3, h, w], storage: (0..<(n * 3 * h * w)).map { _ in Float(rng.normal()) })
            let reference = UNet(width: 8, levels: 3)
            reference.path = .layers
            let store = try ParameterStore(layout: reference.parameterLayout)
            reference.initialize(store, seed: 123)
            let layered = Self.run(reference, store, x, dOut)
            for level in SIMDLevel.allCases where level <= .best {
                var one: (p: [Double], grads: [String: [Double]])?
                for threads in 1...3 {
                    let net = UNet(width: 8, levels: 3)
                    net.simdLevel = level
                    net.threads = threads
                    net.convAlgorithm = algorithm
                    let got = Self.run(net, store, x, dOut)
                    let label = "\(n) image(s), \(algorithm.rawValue), \(level.name), \(threads) thread(s)"
                    #expect(net.ranOnStack, "\(label)")
                    #expect(Self.maxRelative(got.p, layered.p) <= 2e-5, "forward against the layers, \(label)")
                    if let one {
                        #expect(got.p == one.p, "forward, \(label)")
                        // One image: its backward runs on one thread whatever the count. Two images on 2 or 3 threads
                        // sum the gradients of two parts (checked against the layers above).
                        if n == 1 { #expect(got.grads == one.grads, "gradients, \(label)") }
                        for (name, g) in layered.grads {
                            #expect(Self.maxRelative(got.grads[name]!, g) <= 2e-5, "\(name), \(label)")
                        }
                    } else {
                        one = got
                    }
                }
            }
        }
    }

    /// Winograd on mosaics of up to 8 images (bands of small images side by side, Sources/CKernels/mosaic.c)
    /// against Winograd image by image: 11 images (a mosaic of 8, one of 3 on one thread; 6 and 5 on two), levels
    /// of 40 x 24, 20 x 12, 10 x 6 and 5 x 3 (bands past the last row, tiles past the last column). Every output is
    /// computed by the same tile as on its own image: the forward, every d input and so the bias gradients are bit
    /// for bit the same; the weight gradients sum the same products in another order.
    @Test func mosaicsComputeEveryOutputAsImageByImage() throws {
        var rng = SeededRNG(seed: 127)
        let (n, h, w) = (11, 40, 24)
        let x = Tensor(shape: [n, 3, h, w], storage: (0..<(n * 3 * h * w)).map { _ in Float(rng.normal()) })
        let dOut = Tensor(shape: [n, 3, h, w], storage: (0..<(n * 3 * h * w)).map { _ in Float(rng.normal()) })
        let reference = UNet(width: 8, levels: 3)
        let store = try ParameterStore(layout: reference.parameterLayout)
        reference.initialize(store, seed: 128)
        for level in SIMDLevel.allCases where level <= .best {
            for threads in 1...2 {
                func make(mosaics: Bool) -> UNet {
                    let net = UNet(width: 8, levels: 3)
                    net.simdLevel = level
                    net.threads = threads
                    net.convAlgorithm = .winograd
                    if !mosaics { net.mosaicMaxSide = 0 }
                    return net
                }
                let (on, off) = (make(mosaics: true), make(mosaics: false))
                let a = Self.run(on, store, x, dOut)
                let b = Self.run(off, store, x, dOut)
                let label = "\(level.name), \(threads) thread(s)"
                #expect(on.mosaicLevel <= 2 && off.mosaicLevel == 4, "\(label): mosaics from level \(on.mosaicLevel)")
                #expect(a.p == b.p, "forward, \(label)")
                for (name, g) in b.grads {
                    if name.hasSuffix(".bias") {
                        #expect(a.grads[name]! == g, "\(name), \(label)")
                    } else {
                        let e = Self.maxRelative(a.grads[name]!, g)
                        #expect(e <= 2e-5, "\(name): \(e), \(label)")
                    }
                }
            }
        }
    }

    /// The forward keeps its packed weights while they are unchanged (inference); a weight changed in place, or a
    /// new store, is packed again: the output is a fresh network's.
    @Test(arguments: Conv3x3Algorithm.allCases)
    func packedWeightsFollowEveryChange(algorithm: Conv3x3Algorithm) throws {
        var rng = SeededRNG(seed: 124)
        let x = Tensor(shape: [2, 3, 32, 32], storage: (0..<(2 * 3 * 1024)).map { _ in Float(rng.normal()) })
        let net = UNet(width: 8, levels: 2)
        net.convAlgorithm = algorithm
        let store = try ParameterStore(layout: net.parameterLayout)
        net.initialize(store, seed: 125)
        func fresh(_ s: ParameterStore) -> [Float] {
            let other = UNet(width: 8, levels: 2)
            other.convAlgorithm = algorithm
            return other.forward(x, store: s).storage
        }
        #expect(net.forward(x, store: store).storage == fresh(store))
        for name in ["enc.1.conv2.weight", "dec.0.conv1.weight", "out.weight", "enc.0.conv1.bias"] {
            let e = store.entries.first { $0.name == name }!
            let v = store.values(e)
            v[v.count / 2] += 0.25
            #expect(net.forward(x, store: store).storage == fresh(store), "after changing \(name)")
        }
        let other = try ParameterStore(layout: net.parameterLayout)
        net.initialize(other, seed: 126)
        #expect(net.forward(x, store: other).storage == fresh(other), "a new store")
    }

    /// `bench --layers`: an attached profile times every layer's forward, backward chain and weight transforms, and
    /// the weight gradient a direct layer takes after the chains (a Winograd layer's is in its backward: none there),
    /// changes no result, and counts nothing once detached.
    @Test(arguments: [Conv3x3Algorithm.direct, .winograd], [1, 2])
    func layerProfileTimesEveryLayer(algorithm: Conv3x3Algorithm, threads: Int) throws {
        var rng = SeededRNG(seed: 130)
        let (n, h, w) = (4, 32, 32)
        let x = Tensor(shape: [n, 4, h, w], storage: (0..<(n * 4 * h * w)).map { _ in Float(rng.normal()) })
        let dOut = Tensor(shape: [n, 3, h, w], storage: (0..<(n * 3 * h * w)).map { _ in Float(rng.normal()) })
        let net = UNet(width: 8, levels: 2, inputChannels: 4)
        net.threads = threads
        net.convAlgorithm = algorithm
        let store = try ParameterStore(layout: net.parameterLayout)
        net.initialize(store, seed: 131)
        let untimed = Self.run(net, store, x, dOut)
        let names = net.layerDescriptions
        #expect(names.count == 4 * 2 + 2 + 1)
        #expect(names.first == "enc.0.conv1 3x3 4->8 level 0" && names[2] == "enc.1.conv1 3x3 s2 8->16 level 1")
        #expect(names[6] == "dec.0.conv1 3x3 24->8 level 0" && names.last == "out 1x1 8->3 level 0")
        let profile = LayerProfile(layers: names.count)
        net.profile = profile
        let timed = Self.run(net, store, x, dOut)
        net.profile = nil
        #expect(timed.p == untimed.p && timed.grads == untimed.grads, "the profile changes no result")
        func table() -> [[Double]] {
            names.indices.map { i in LayerProfile.Phase.allCases.map { profile.milliseconds(layer: i, phase: $0) } }
        }
        let ms = table()
        for (i, name) in names.enumerated() {
            #expect(ms[i][0] > 0 && ms[i][1] > 0 && ms[i][3] > 0, "\(name): \(ms[i])")
            let direct = algorithm == .direct || !name.contains(" 3x3 ") || name.contains(" s2 ")
            #expect((ms[i][2] > 0) == direct, "\(name), \(algorithm.rawValue): weight gradient \(ms[i][2]) ms")
        }
        _ = Self.run(net, store, x, dOut)
        #expect(table() == ms, "detached: nothing more counted")
    }
}
