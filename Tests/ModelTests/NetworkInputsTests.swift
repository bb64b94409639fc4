// model.inputs: parsing and its errors, the planes the network is given, and what a model does with them.
import Config
import Model
import Numerics
import Testing

struct NetworkInputsTests {
    static func section(_ yaml: String) throws -> ConfigMapping {
        try StrictYAML.parse("model: " + yaml).mapping("model")
    }

    /// Reads both parts of a `model:` section the way the run config does: inputs first, then the architecture.
    static func parse(_ yaml: String) throws -> (ModelConfig, NetworkInputs) {
        let s = try section(yaml)
        let inputs = try NetworkInputs(config: s)
        return (try ModelConfig(config: s), inputs)
    }

    @Test func defaultIsLogNormAlone() throws {
        let (model, inputs) = try Self.parse("{arch: plain, depth: 2, width: 4}")
        #expect(model == .plain(depth: 2, width: 4))
        #expect(inputs == .logNormOnly && inputs.channels == 3)
    }

    @Test func planesAndClipLevel() throws {
        let (_, inputs) = try Self.parse("{arch: unet, inputs: [log_norm, clip_mask, log_level], clip_level: 0.5}")
        #expect(inputs.planes == [.logNorm, .clipMask, .logLevel])
        #expect(inputs.clipLevel == 0.5 && inputs.channels == 9)
    }

    static let badInputs: [(String, String)] = [
        (
            "[log_norm, clip_mak]",
            "config error: model.inputs: unknown input plane 'clip_mak' (did you mean 'clip_mask'?); known: log_norm, log_level, clip_mask, clip_depth, hole_mask"
        ),
        ("[log_norm, log_level, log_level]", "config error: model.inputs: log_level is listed twice"),
        (
            "[clip_mask, log_norm]",
            "config error: model.inputs: must start with log_norm (the normalized log image the residual is added to)"
        ),
        (
            "[]",
            "config error: model.inputs: must start with log_norm (the normalized log image the residual is added to)"
        )
    ]

    @Test(arguments: badInputs)
    func badInputLists(_ list: String, _ message: String) throws {
        #expect(throws: (any Error).self) { try Self.parse("{arch: plain, inputs: \(list)}") }
        do {
            _ = try Self.parse("{arch: plain, inputs: \(list)}")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func clipLevelNeedsTheMaskAndMustBePositive() throws {
        #expect(try Self.parse("{arch: plain, inputs: [log_norm, clip_depth], clip_level: 2.0}").1.clipLevel == 2)
        do {
            _ = try Self.parse("{arch: plain, clip_level: 0.9}")
            Issue.record("accepted clip_level without clip_mask")
        } catch {
            #expect(
                "\(error)" == "config error: model.clip_level: only used with clip_mask or clip_depth in model.inputs")
        }
        do {
            _ = try Self.parse("{arch: plain, inputs: [log_norm, clip_mask], clip_level: 0}")
            Issue.record("accepted clip_level 0")
        } catch {
            #expect("\(error)".hasPrefix("config error: model.clip_level:"))
        }
    }

    @Test func assembledPlanes() throws {
        // One sample, 3 channels of 1x2 pixels: values below, at and above the clip level.
        let x = Tensor(shape: [1, 3, 1, 2], storage: [0.25, 1.0, 2.0, 0.5, 0.999, 1.5])
        let norm = LogNorm(eps: 1e-2)(x)
        let inputs = NetworkInputs(planes: [.logNorm, .logLevel, .clipMask], clipLevel: 1.0)
        var out = Tensor(zeros: [0])
        inputs.assemble(input: x, norm: norm, into: &out)
        #expect(out.shape == [1, 9, 1, 2])
        let v = Array(out.storage)
        #expect(Array(v[0..<6]) == Array(norm.normalized.storage))
        #expect(Array(v[6..<12]) == Array(norm.logImage.storage))
        #expect(Array(v[12..<18]) == [0, 1, 1, 0, 0, 1])
    }

    @Test func holeMaskPlanesAreTheRegionsInEveryChannel() throws {
        let x = Tensor(shape: [2, 3, 1, 2], storage: (0..<12).map { Float($0) * 0.2 })
        let norm = LogNorm(eps: 1e-2)(x)
        let inputs = NetworkInputs(planes: [.logNorm, .holeMask])
        #expect(inputs.usesRegions && !NetworkInputs.logNormOnly.usesRegions && inputs.channels == 6)
        var out = Tensor(zeros: [0])
        let regions = Tensor(shape: [2, 1, 1, 2], storage: [1, 0, 0.5, 1])
        inputs.assemble(input: x, norm: norm, regions: regions, into: &out)
        #expect(out.shape == [2, 6, 1, 2])
        let v = Array(out.storage)
        #expect(Array(v[0..<6]) == Array(norm.normalized.storage[0..<6]))
        #expect(Array(v[6..<12]) == [1, 0, 1, 0, 1, 0])
        #expect(Array(v[18..<24]) == [0.5, 1, 0.5, 1, 0.5, 1])
        // Without regions: no hole.
        inputs.assemble(input: x, norm: norm, into: &out)
        #expect(Array(out.storage[6..<12]) == [0, 0, 0, 0, 0, 0] && Array(out.storage[18..<24]) == [0, 0, 0, 0, 0, 0])
        #expect(try Self.parse("{arch: plain, inputs: [log_norm, hole_mask]}").1.planes == [.logNorm, .holeMask])
    }

    /// The octagonal distance of an offset: the fewest steps, squares (3x3) and crosses in turn starting with a
    /// square, whose sum reaches it: k >= max(|dx|, |dy|) and k + ceil(k / 2) >= |dx| + |dy|.
    static func octagonal(_ dx: Int, _ dy: Int) -> Int {
        var k = max(abs(dx), abs(dy))
        while k + (k + 1) / 2 < abs(dx) + abs(dy) { k += 1 }
        return k
    }

    /// clip_depth against a brute-force octagonal distance: every pixel's nearest pixel of the patch whose largest
    /// channel is below the level, min(d, 24) / 24, the same in all 3 planes; regions that touch the border, that
    /// reach past 24 pixels, and a sample where every pixel clips.
    @Test func clipDepthIsTheOctagonalDistanceToTheNearestUnclippedPixel() throws {
        let h = 40
        let w = 70
        var rng = SeededRNG(seed: 9)
        var x = [Float](repeating: 0, count: 2 * 3 * h * w)
        for i in 0..<(h * w) {
            let (y, xx) = i.quotientAndRemainder(dividingBy: w)
            // Sample 0: red clips in a disc of radius 30 cut by the border, green in random speckles, blue nowhere.
            x[i] = ((y - 5) * (y - 5) + (xx - 40) * (xx - 40) < 900) ? 1.5 : 0.5
            x[h * w + i] = rng.below(5) == 0 ? 1.0 : 0.2
            x[2 * h * w + i] = 0.3
            // Sample 1: every pixel clips in blue.
            for c in 0..<3 { x[(3 + c) * h * w + i] = c == 2 ? 4 : 0.1 }
        }
        let input = Tensor(shape: [2, 3, h, w], storage: x)
        let inputs = NetworkInputs(planes: [.logNorm, .clipDepth], clipLevel: 1.0)
        var out = Tensor(zeros: [0])
        inputs.assemble(input: input, norm: LogNorm(eps: 1e-2)(input), into: &out)
        #expect(out.shape == [2, 6, h, w] && inputs.contextRadius == 24)
        func clipped(_ y: Int, _ xx: Int) -> Bool { (0..<3).contains { x[$0 * h * w + y * w + xx] >= 1.0 } }
        for y in 0..<h {
            for xx in 0..<w {
                var d = Int.max
                for v in 0..<h {
                    for u in 0..<w where !clipped(v, u) { d = min(d, Self.octagonal(v - y, u - xx)) }
                }
                let expected = Float(min(d, 24)) / 24
                for c in 0..<3 where out[0, 3 + c, y, xx] != expected {
                    Issue.record("(\(y), \(xx)) plane \(c): \(out[0, 3 + c, y, xx]), expected \(expected)")
                    return
                }
                if out[1, 3, y, xx] != 1 || out[1, 5, y, xx] != 1 {
                    Issue.record("sample 1 (\(y), \(xx)): every pixel clips, so every depth is 1")
                    return
                }
            }
        }
        // The distance is no chessboard one: (3, 3) away takes 4 steps, (2, 0) 2.
        #expect(Self.octagonal(3, 3) == 4 && Self.octagonal(2, 0) == 2 && Self.octagonal(1, 1) == 1)
    }

    /// A model whose extra planes' first-layer weights are zero computes exactly what the 3-plane model with the
    /// same other weights does; with those weights set, the clip mask changes the output where pixels clip.
    @Test(arguments: [ModelConfig.plain(depth: 3, width: 8), .unet(width: 4, levels: 1)])
    func extraPlanesReachTheFirstLayerOnly(_ arch: ModelConfig) throws {
        let residual = ResidualConfig(mode: .learnable(initial: 2), clamp: 8)
        let logNorm = LogNorm(eps: 1e-2)
        let plain = try PatchModel(model: arch, residual: residual, logNorm: logNorm, stateSlots: 0, seed: 3)
        let inputs = NetworkInputs(planes: [.logNorm, .clipMask], clipLevel: 1.0)
        let masked = try PatchModel(
            model: arch, inputs: inputs, residual: residual, logNorm: logNorm, stateSlots: 0, seed: 3)
        let first = arch == .plain(depth: 3, width: 8) ? "layers.0.weight" : "enc.0.conv1.weight"
        let e3 = try #require(plain.store.entry(named: first))
        let e6 = try #require(masked.store.entry(named: first))
        #expect(e3.shape[1] == 3 && e6.shape[1] == 6)
        // Copy every parameter; the first layer's 3 extra input channels get zero weights.
        for entry in plain.store.entries where entry.name != first {
            let target = try #require(masked.store.entry(named: entry.name))
            _ = masked.store.values(target).update(fromContentsOf: plain.store.values(entry))
        }
        let cout = e3.shape[0]
        let src = plain.store.values(e3)
        let dst = masked.store.values(e6)
        for o in 0..<cout {
            for c in 0..<6 {
                for k in 0..<9 { dst[(o * 6 + c) * 9 + k] = c < 3 ? src[(o * 3 + c) * 9 + k] : 0 }
            }
        }
        var rng = SeededRNG(seed: 5)
        let values = (0..<(2 * 3 * 8 * 8)).map { _ in Float(rng.uniform()) * 1.5 }
        let x = Tensor(shape: [2, 3, 8, 8], storage: values)
        let a = Array(plain.forward(x).output.storage)
        #expect(Array(masked.forward(x).output.storage) == a)
        for o in 0..<cout { for k in 0..<9 { dst[(o * 6 + 3) * 9 + k] = 0.5 } }
        #expect(Array(masked.forward(x).output.storage) != a)
    }
}
