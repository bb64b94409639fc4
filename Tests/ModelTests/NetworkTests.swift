// Networks: parameter names and shapes in PyTorch layout, seeded PyTorch-default initialisation, config.
import Config
import Numerics
import Testing

@testable import Model

struct NetworkTests {
    @Test func plainLayoutFollowsPyTorchNames() {
        let net = PlainNet(depth: 3, width: 8)
        #expect(
            net.parameterLayout.map(\.name) == [
                "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                "layers.2.weight", "layers.2.bias"
            ])
        #expect(net.parameterLayout.map(\.shape) == [[8, 3, 3, 3], [8], [8, 8, 3, 3], [8], [3, 8, 3, 3], [3]])
    }

    @Test func unetLayoutAndShapes() {
        let net = UNet(width: 4, levels: 2)
        let shapes = Dictionary(uniqueKeysWithValues: net.parameterLayout.map { ($0.name, $0.shape) })
        #expect(shapes["enc.0.conv1.weight"] == [4, 3, 3, 3] && shapes["enc.2.conv2.weight"] == [16, 16, 3, 3])
        #expect(shapes["dec.1.conv1.weight"] == [8, 24, 3, 3] && shapes["dec.0.conv1.weight"] == [4, 12, 3, 3])
        #expect(shapes["out.weight"] == [3, 4, 1, 1] && net.parameterLayout.last?.name == "out.bias")
        let store = try! ParameterStore(layout: net.parameterLayout)
        let p = net.forward(Tensor(zeros: [2, 3, 8, 12]), store: store)
        #expect(p.shape == [2, 3, 8, 12])
    }

    @Test func initialisationIsSeededAndWithinPyTorchsDefaultBounds() throws {
        let net = PlainNet(depth: 3, width: 8)
        let a = try ParameterStore(layout: net.parameterLayout)
        let b = try ParameterStore(layout: net.parameterLayout)
        let c = try ParameterStore(layout: net.parameterLayout)
        net.initialize(a, seed: 11)
        net.initialize(b, seed: 11)
        net.initialize(c, seed: 12)
        #expect(Array(a.values) == Array(b.values))
        #expect(Array(a.values) != Array(c.values))
        for e in a.entries {
            let fanIn = e.name.hasPrefix("layers.0") ? 27 : 72
            let bound = Float(1 / Double(fanIn).squareRoot())
            let v = a.values(e)
            #expect(v.allSatisfy { abs($0) <= bound }, "\(e.name)")
            if v.count >= 64 {
                #expect(v.max()! > bound * 0.5 && v.min()! < -bound * 0.5, "\(e.name) should fill its range")
            }
        }
    }

    /// He's init (`train.init: kaiming`): weights uniform in [-b, b], b = sqrt(6 / ((1 + slope^2) fan_in)), so a
    /// layer's weights have variance 2 / ((1 + slope^2) fan_in); biases zero; seeded like the default.
    @Test(arguments: [false, true]) func kaimingInitialisationHasHesVarianceAndZeroBiases(unet: Bool) throws {
        let net: any PatchNetwork = unet ? UNet(width: 16, levels: 2, inputChannels: 4) : PlainNet(depth: 5, width: 32)
        let a = try ParameterStore(layout: net.parameterLayout)
        let b = try ParameterStore(layout: net.parameterLayout)
        let d = try ParameterStore(layout: net.parameterLayout)
        net.initialize(a, seed: 5, scheme: .kaiming)
        net.initialize(b, seed: 5, scheme: .kaiming)
        net.initialize(d, seed: 5)
        #expect(Array(a.values) == Array(b.values))
        let shapes = Dictionary(uniqueKeysWithValues: net.parameterLayout.map { ($0.name, $0.shape) })
        var checked = 0
        for e in a.entries {
            let v = a.values(e)
            let shape = try #require(shapes[e.name])
            if e.name.hasSuffix(".bias") {
                #expect(v.allSatisfy { $0 == 0 }, "\(e.name)")
                #expect(d.values(e).contains { $0 != 0 }, "the default init draws biases: \(e.name)")
                continue
            }
            let fanIn = Double(shape[1] * shape[2] * shape[3])
            let slope = Double(leakySlope)
            let bound = (6 / ((1 + slope * slope) * fanIn)).squareRoot()
            #expect(v.allSatisfy { abs(Double($0)) <= bound }, "\(e.name)")
            if v.count >= 4096 {
                let variance = v.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(v.count)
                let he = 2 / ((1 + slope * slope) * fanIn)
                #expect(abs(variance / he - 1) < 0.06, "\(e.name): variance \(variance), He's \(he)")
                // PyTorch's default draws the same layer with 1 / (3 fan_in): 5.8x less.
                let dv = d.values(e).reduce(0.0) { $0 + Double($1) * Double($1) } / Double(v.count)
                #expect(variance / dv > 5 && variance / dv < 6.7, "\(e.name)")
                checked += 1
            }
        }
        #expect(checked >= 3)
    }

    /// On one thread both batches run on the U-Net's stack, image by image: bit for bit the same. (With more threads
    /// than images the layer-by-layer path runs instead, equal within rounding: UNetKernelTests.)
    @Test(arguments: 1...3) func forwardIsDeterministicAndBatchIndependent(threads: Int) throws {
        let net = UNet(width: 4, levels: 1)
        net.threads = threads
        let store = try ParameterStore(layout: net.parameterLayout)
        net.initialize(store, seed: 3)
        var r = SeededRNG(seed: 5)
        // 24 rows: one image splits into bands of rows on 2 and 3 threads.
        let x = Tensor(shape: [2, 3, 24, 6], storage: (0..<864).map { _ in Float(r.uniform()) })
        let both = net.forward(x, store: store)
        let first = net.forward(Tensor(shape: [1, 3, 24, 6], storage: Array(x.storage[0..<432])), store: store)
        #expect(Array(both.storage[0..<432]) == first.storage)
    }

    /// One network used with store after store, each freed before the next is made (so the allocator may hand
    /// the next one the same address): every forward uses the weights of the store it is given, as a network
    /// that has never seen another store does.
    @Test func aPlainNetFollowsEachNewStoreEvenAtAReusedAddress() throws {
        let net = PlainNet(depth: 2, width: 4)
        var r = SeededRNG(seed: 9)
        let x = Tensor(shape: [1, 3, 8, 8], storage: (0..<192).map { _ in Float(r.uniform()) })
        for seed in 0..<12 {
            let store = try ParameterStore(layout: net.parameterLayout)
            net.initialize(store, seed: UInt64(seed))
            let fresh = PlainNet(depth: 2, width: 4).forward(x, store: store)
            #expect(net.forward(x, store: store) == fresh, "store \(seed)")
        }
    }

    static let badConfigs: [(String, String)] = [
        (
            "arch: plian",
            "config error: model.arch: unknown architecture 'plian' (did you mean 'plain'?); known: plain, unet"
        ),
        ("arch: plain\nlevels: 2", "config error: model.levels: not used by arch plain (it belongs to arch unet)"),
        ("arch: unet\ndepth: 5", "config error: model.depth: not used by arch unet (it belongs to arch plain)"),
        ("arch: plain\nwidht: 8", "config error: model.widht: unknown key (did you mean 'width'?)"),
        ("arch: plain\ndepth: 0", "config error: model.depth: must be in [1, 64], got 0"),
        (
            "arch: plain\nconv_algorithm: winogard",
            "config error: model.conv_algorithm: unknown algorithm 'winogard' (did you mean 'winograd'?); known: auto, direct, winograd"
        ),
        (
            "arch: unet\nconv_algorithm: direct",
            "config error: model.conv_algorithm: not used by arch unet (it belongs to arch plain)"
        )
    ]

    @Test(arguments: badConfigs)
    func badModelConfigs(_ yaml: String, _ message: String) throws {
        let section = try StrictYAML.parse(
            "model:\n" + yaml.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        ).mapping("model")
        do {
            _ = try ModelConfig(config: section)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func defaults() throws {
        #expect(
            try ModelConfig(config: StrictYAML.parse("model: {arch: plain}").mapping("model"))
                == .plain(depth: 5, width: 32))
        #expect(
            try ModelConfig(config: StrictYAML.parse("model: {arch: unet}").mapping("model"))
                == .unet(width: 16, levels: 2))
    }

    @Test(arguments: Conv3x3Algorithm.allCases)
    func convAlgorithmReachesTheNetwork(_ algorithm: Conv3x3Algorithm) throws {
        let yaml = "model: {arch: plain, depth: 3, width: 8, conv_algorithm: \(algorithm.rawValue)}"
        let config = try ModelConfig(config: StrictYAML.parse(yaml).mapping("model"))
        #expect(config == .plain(depth: 3, width: 8, conv: algorithm))
        #expect((config.makeNetwork() as? PlainNet)?.convAlgorithm == algorithm)
    }
}
