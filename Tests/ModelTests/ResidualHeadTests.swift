// The residual head in every mode, with and without the clamp: formulas, gradients, config errors.
import Config
import Glibc
import Numerics
import Testing

@testable import Model

struct ResidualHeadTests {
    static let modes: [ResidualMode] = [
        .fixedCap(cap: 6, alpha: 1), .fixedCap(cap: 16, alpha: 1.2), .adaptive(k: 0.9), .learnable(initial: 6)
    ]
    static let cases: [(ResidualMode, Float?)] = modes.flatMap { m in [(m, nil), (m, Float(8)), (m, Float(2.5))] }

    /// p values spread over the tanh range, 2 samples with different denominators.
    static func inputs() -> (p: Tensor, denom: [Float]) {
        var r = SeededRNG(seed: 9)
        var p = Tensor(zeros: [2, 3, 3, 4])
        for i in p.storage.indices { p.storage[i] = Float(r.uniform() * 5 - 2.5) }
        return (p, [3.5, 11.25])
    }

    /// The head in Double, written plainly: delta = clamp(coef * scale * tanh(p)).
    static func reference(
        _ p: [Double], denom: [Double], s: Double, mode: ResidualMode, scale: Double, clamp: Double?
    ) -> [Double] {
        let m = p.count / denom.count
        return p.indices.map { i in
            let coef: Double
            switch mode {
            case .fixedCap(let cap, let alpha): coef = Double(alpha) * Double(cap)
            case .adaptive(let k): coef = Double(k) * denom[i / m]
            case .learnable: coef = s
            }
            let d = coef * scale * tanh(p[i])
            return clamp.map { min(max(d, -$0), $0) } ?? d
        }
    }

    @Test(arguments: cases)
    func matchesReferenceAndCentralDifferences(_ mode: ResidualMode, _ clamp: Float?) {
        let head = ResidualHead(config: ResidualConfig(mode: mode, scale: 0.75, clamp: clamp))
        let (p, denom) = Self.inputs()
        let s0: Float = 5.5
        var delta = Tensor(zeros: [0])
        var cache = ResidualHead.Cache()
        head.forward(delta: &delta, p: p, cache: &cache, denom: denom, learnedScale: s0)
        let pd = p.storage.map(Double.init)
        let dd = denom.map(Double.init)
        let ref = Self.reference(pd, denom: dd, s: Double(s0), mode: mode, scale: 0.75, clamp: clamp.map(Double.init))
        for i in ref.indices { #expect(abs(Double(delta.storage[i]) - ref[i]) <= 2e-6 * max(1, abs(ref[i]))) }

        // L = sum(r * delta): analytic gradients vs central differences of the Double reference.
        var rng = SeededRNG(seed: 4)
        let r = (0..<p.count).map { _ in rng.uniform() - 0.5 }
        var dP = Tensor(zeros: p.shape)
        var dS: Float = 0
        head.backward(dP: &dP, dScale: &dS, dDelta: Tensor(shape: p.shape, storage: r.map(Float.init)), cache: cache)
        let loss = { (x: [Double], s: Double) -> Double in
            zip(Self.reference(x, denom: dd, s: s, mode: mode, scale: 0.75, clamp: clamp.map(Double.init)), r).reduce(0)
            { $0 + $1.0 * $1.1 }
        }
        let h = 1e-6
        for i in pd.indices {
            var up = pd
            var dn = pd
            up[i] += h
            dn[i] -= h
            let numeric = (loss(up, Double(s0)) - loss(dn, Double(s0))) / (2 * h)
            #expect(
                abs(Double(dP.storage[i]) - numeric) <= 1e-5 * max(1, abs(numeric)),
                "dP[\(i)] \(dP.storage[i]) vs \(numeric)")
        }
        let numericS = (loss(pd, Double(s0) + h) - loss(pd, Double(s0) - h)) / (2 * h)
        if case .learnable = mode {
            #expect(abs(Double(dS) - numericS) <= 1e-5 * max(1, abs(numericS)), "dScale \(dS) vs \(numericS)")
        } else {
            #expect(dS == 0)
        }
    }

    @Test func clampBlocksGradientOutsideAndPassesAtTheBound() {
        let head = ResidualHead(config: ResidualConfig(mode: .fixedCap(cap: 1, alpha: 1), clamp: 0.5))
        // tanh(p) = 0.5 exactly is not representable; use values clearly inside, outside, and at |d| == c.
        let atBound = Float(atanh(Double(0.5)))
        let p = Tensor(shape: [1, 1, 1, 4], storage: [0.1, 2, -2, atBound])
        var delta = Tensor(zeros: [0])
        var cache = ResidualHead.Cache()
        head.forward(delta: &delta, p: p, cache: &cache, denom: [1], learnedScale: nil)
        #expect(delta.storage[1] == 0.5 && delta.storage[2] == -0.5)
        var dP = Tensor(shape: p.shape, storage: [1, 1, 1, 1])
        var dS: Float = 0
        head.backward(dP: &dP, dScale: &dS, dDelta: Tensor(shape: p.shape, storage: [1, 1, 1, 1]), cache: cache)
        #expect(dP.storage[0] > 1 && dP.storage[1] == 1 && dP.storage[2] == 1)  // accumulated onto 1; blocked where clamped
        let pre = cache.preClamp.storage[3]
        if abs(pre) <= 0.5 { #expect(dP.storage[3] > 1) } else { #expect(dP.storage[3] == 1) }
        #expect(head.counts(cache, saturation: 0.99).clampHits == 2 + (abs(pre) >= 0.5 ? 1 : 0))
    }

    @Test func adaptiveUsesEachSamplesOwnDenominator() {
        let head = ResidualHead(config: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil))
        let p = Tensor(shape: [2, 1, 1, 1], storage: [1, 1])
        var delta = Tensor(zeros: [0])
        var cache = ResidualHead.Cache()
        head.forward(delta: &delta, p: p, cache: &cache, denom: [2, 10], learnedScale: nil)
        #expect(delta.storage[1] / delta.storage[0] == 5)
    }

    @Test func legacyModeASpansPlusMinus19Point2() {
        let head = ResidualHead(config: ResidualConfig(mode: .fixedCap(cap: 16, alpha: 1.2), clamp: nil))
        let p = Tensor(shape: [1, 1, 1, 2], storage: [30, -30])
        var delta = Tensor(zeros: [0])
        var cache = ResidualHead.Cache()
        head.forward(delta: &delta, p: p, cache: &cache, denom: [1], learnedScale: nil)
        #expect(abs(delta.storage[0] - 19.2) < 1e-5 && abs(delta.storage[1] + 19.2) < 1e-5)
        #expect(head.counts(cache, saturation: 0.99).saturated == 2)
    }

    static let badConfigs: [(String, String)] = [
        (
            "mode: fixed_cap\nk: 0.9\nclamp: 8",
            "config error: residual.k: not used by mode fixed_cap (it belongs to mode adaptive)"
        ),
        (
            "mode: adaptive\ncap: 6\nclamp: 8",
            "config error: residual.cap: not used by mode adaptive (it belongs to mode fixed_cap)"
        ),
        (
            "mode: fixed_cap\ncap: 6",
            "config error: residual.clamp: missing required key (a number, or null for no clamp)"
        ),
        (
            "mode: sigmoid\nclamp: 8",
            "config error: residual.mode: unknown mode 'sigmoid'; known: adaptive, fixed_cap, learnable"
        ),
        (
            "mode: learnable\nlearnable_int: 6\nclamp: 8",
            "config error: residual.learnable_int: unknown key (did you mean 'learnable_init'?)"
        ),
        ("clamp: 8", "config error: residual.mode: missing required key")
    ]

    @Test(arguments: badConfigs)
    func badConfigsAreNamedErrors(_ yaml: String, _ message: String) throws {
        let root = try StrictYAML.parse(
            "residual:\n" + yaml.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        let section = try root.mapping("residual")
        #expect(throws: (any Error).self) { try ResidualConfig(config: section) }
        do { _ = try ResidualConfig(config: section) } catch { #expect("\(error)" == message) }
    }

    @Test func goodConfigsAndDefaults() throws {
        let a = try ResidualConfig(
            config: try StrictYAML.parse("residual:\n  mode: fixed_cap\n  clamp: null").mapping("residual"))
        #expect(a == ResidualConfig(mode: .fixedCap(cap: 6, alpha: 1), scale: 1, clamp: nil))
        let b = try ResidualConfig(
            config: try StrictYAML.parse("residual:\n  mode: learnable\n  clamp: 8\n  scale: 0.5").mapping("residual"))
        #expect(b == ResidualConfig(mode: .learnable(initial: 6), scale: 0.5, clamp: 8))
        #expect(
            ResidualHead(config: b).parameterLayout.map(\.name) == ["head.scale"]
                && ResidualHead(config: b).initialValues == [6])
    }
}
