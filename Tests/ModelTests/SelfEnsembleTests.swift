// model.self_ensemble: the eight transforms against their definitions, the inverse, the ensemble's output against
// the model's own forward on transformed images, its symmetry, and the config key.
import Config
import Model
import Numerics
import Testing

struct SelfEnsembleTests {
    /// (N, C, H, W) of seeded values, every element different.
    static func tensor(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
        var rng = SeededRNG(seed: seed)
        return Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform() * scale) })
    }

    /// Element (n, c, y, x) of (N, C, H, W) `t`.
    static func at(_ t: Tensor, _ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Float {
        t.storage[((n * t.shape[1] + c) * t.shape[2] + y) * t.shape[3] + x]
    }

    /// Each transform against its definition written out: transpose first (out[y][x] = in[x][y]), then the flips.
    @Test(arguments: 0..<8) func transformsAreTheirDefinitions(_ k: Int) {
        let x = Self.tensor([2, 3, 5, 7], seed: 1)
        let t = SelfEnsemble.Transform(k)
        let y = SelfEnsemble.apply(t, x)
        #expect(y.shape == (t.transpose ? [2, 3, 7, 5] : [2, 3, 5, 7]))
        let (oh, ow) = (y.shape[2], y.shape[3])
        for n in 0..<2 {
            for c in 0..<3 {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let fi = t.flipH ? oh - 1 - i : i
                        let fj = t.flipW ? ow - 1 - j : j
                        let expected = t.transpose ? Self.at(x, n, c, fj, fi) : Self.at(x, n, c, fi, fj)
                        #expect(Self.at(y, n, c, i, j) == expected, "transform \(k) at (\(n), \(c), \(i), \(j))")
                    }
                }
            }
        }
        // The inverse undoes it exactly, and adds.
        var sum = Tensor(shape: x.shape, storage: [Float](repeating: 1, count: x.count))
        SelfEnsemble.addInverse(t, y, into: &sum)
        #expect(sum.storage == x.storage.map { $0 + 1 })
    }

    @Test func theEightTransformsAreDistinctAndTheFirstIsTheIdentity() {
        let x = Self.tensor([1, 1, 4, 4], seed: 2)
        let images = (0..<8).map { SelfEnsemble.apply(SelfEnsemble.Transform($0), x).storage }
        #expect(images[0] == x.storage)
        #expect(Set(images.map { $0.map(\.bitPattern) }).count == 8)
    }

    /// A plain network with every input plane a transform could disturb (clip_depth's distance, the clip mask, the
    /// absolute level), its output layer scaled up so that residuals are large and the clamp acts.
    static func model(
        ensemble: Int, arch: ModelConfig = .plain(depth: 3, width: 6), clamp: Float = 0.5, outScale: Float = 8
    ) throws -> PatchModel {
        let m = try PatchModel(
            model: arch, inputs: NetworkInputs(planes: [.logNorm, .logLevel, .clipMask, .clipDepth], clipLevel: 1),
            residual: ResidualConfig(mode: .learnable(initial: 3), clamp: clamp), logNorm: LogNorm(eps: 1e-2),
            stateSlots: 0, seed: 5)
        for suffix in [".weight", ".bias"] {
            let e = try #require(m.store.entry(named: m.network.outputLayer + suffix))
            let v = m.store.values(e)
            for i in v.indices { v[i] *= outScale }
        }
        m.selfEnsemble = SelfEnsemble(count: ensemble)
        return m
    }

    /// Images with clipped regions (values >= 1) beside dark ones, non-square.
    static func images(n: Int = 2, h: Int = 12, w: Int = 16) -> Tensor {
        let x = tensor([n, 3, h, w], seed: 3, scale: 1.6)
        return Tensor(shape: x.shape, storage: x.storage.map { $0 > 1 ? 1 : $0 * $0 })
    }

    @Test func oneMemberIsTheForwardPassBitForBit() throws {
        let m = try Self.model(ensemble: 1)
        let x = Self.images()
        let a = m.forward(x).output.storage
        #expect(m.infer(x).output.storage == a)
    }

    /// infer with K members is the mean of the model's own single passes over the transformed images, each turned
    /// back: LogNorm's statistics, the clip planes and the head do not change under a flip or a transpose.
    @Test(arguments: [2, 4, 8]) func theEnsembleIsTheMeanResidualOfTheTransformedImages(_ count: Int) throws {
        let single = try Self.model(ensemble: 1)
        let ensemble = try Self.model(ensemble: count)
        let x = Self.images()
        var sum = Tensor(zeros: x.shape)
        for k in 0..<count {
            let t = SelfEnsemble.Transform(k)
            SelfEnsemble.addInverse(t, single.forward(SelfEnsemble.apply(t, x)).delta, into: &sum)
        }
        let delta = Tensor(shape: x.shape, storage: sum.storage.map { $0 / Float(count) })
        let expected = Reconstruction.output(logImage: single.forward(x).norm.logImage, delta: delta, eps: 1e-2)
        let pass = ensemble.infer(x)
        #expect(pass.delta.storage == delta.storage)
        #expect(pass.output.storage == expected.storage)
        // The members disagree (else the test would show nothing) and the clamp acted.
        #expect(pass.delta.storage != single.forward(x).delta.storage)
        #expect(single.forward(x).delta.storage.contains { abs($0) == 0.5 })
    }

    /// With all eight, restoring a flipped or transposed image gives the flipped or transposed restoration (the same
    /// eight passes, summed in another order: equal to float rounding).
    @Test(arguments: [.plain(depth: 3, width: 6), .unet(width: 4, levels: 2)] as [ModelConfig])
    func eightMembersMakeTheRestorationSymmetric(_ arch: ModelConfig) throws {
        // Residuals mostly inside the clamp: a U-Net whose output layer is scaled up has every residual at the
        // clamp, which is symmetric whatever the network does.
        let outScale: Float = arch == .plain(depth: 3, width: 6) ? 8 : 1
        let m = try Self.model(ensemble: 8, arch: arch, clamp: 2, outScale: outScale)
        let plain = try Self.model(ensemble: 1, arch: arch, clamp: 2, outScale: outScale)
        let x = Self.images()
        let base = m.infer(x).output
        var worst: Float = 0
        var worstSingle: Float = 0
        for k in 1..<8 {
            let t = SelfEnsemble.Transform(k)
            let turned = SelfEnsemble.apply(t, x)
            var back = Tensor(zeros: x.shape)
            SelfEnsemble.addInverse(t, m.infer(turned).output, into: &back)
            var single = Tensor(zeros: x.shape)
            SelfEnsemble.addInverse(t, plain.infer(turned).output, into: &single)
            let reference = plain.infer(x).output
            for i in 0..<x.count {
                worst = max(worst, abs(back.storage[i] - base.storage[i]) / (abs(base.storage[i]) + 1e-2))
                worstSingle = max(
                    worstSingle, abs(single.storage[i] - reference.storage[i]) / (abs(reference.storage[i]) + 1e-2))
            }
        }
        #expect(worst < 1e-5, "self-ensemble of 8: \(worst) relative")
        // One pass is far from symmetric: the check above can fail.
        #expect(worstSingle > 1e-2, "one pass: \(worstSingle)")
    }

    static func section(_ yaml: String) throws -> ConfigMapping {
        try StrictYAML.parse("model: " + yaml).mapping("model")
    }

    @Test func configKey() throws {
        #expect(try SelfEnsemble(config: Self.section("{arch: plain}")).count == 1)
        let s = try Self.section("{arch: plain, self_ensemble: 8}")
        #expect(try SelfEnsemble(config: s).count == 8)
        _ = try NetworkInputs(config: s)
        #expect(try ModelConfig(config: s) == .plain(depth: 5, width: 32))
        #expect(SelfEnsemble(count: 8).json == ["self_ensemble": .integer(8)] && SelfEnsemble.single.json.isEmpty)
        for bad in ["3", "0", "16"] {
            do {
                _ = try SelfEnsemble(config: Self.section("{arch: plain, self_ensemble: \(bad)}"))
                Issue.record("accepted self_ensemble \(bad)")
            } catch {
                #expect("\(error)" == "config error: model.self_ensemble: must be 1, 2, 4 or 8 (got \(bad))")
            }
        }
    }
}
