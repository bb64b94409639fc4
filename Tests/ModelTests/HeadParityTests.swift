// The residual head against PyTorch (fixtures from tools/parity/generate.py): forward and gradients.
import Numerics
import TestSupport
import Testing

@testable import Model

struct HeadParityTests {
    struct Fixture: Decodable {
        struct Config: Decodable {
            var cap: Float?
            var alpha: Float?
            var k: Float?
            var learnable_init: Float?
            var scale: Float
            var clamp: Float?
        }
        var mode: String
        var config: Config
        var p, denom, r, delta, grad_p: FixtureTensor
        var head_scale: Float
        var grad_head_scale: Float
    }

    static let names = ParityFixture.names(prefix: "head_")

    @Test func allSixFixturesArePresent() {
        #expect(Self.names.count == 6, "\(Self.names)")
    }

    @Test(arguments: names)
    func matchesPyTorch(_ name: String) throws {
        let f = try ParityFixture.load(name, as: Fixture.self)
        let mode: ResidualMode
        switch f.mode {
        case "fixed_cap": mode = .fixedCap(cap: f.config.cap!, alpha: f.config.alpha!)
        case "adaptive": mode = .adaptive(k: f.config.k!)
        default: mode = .learnable(initial: f.config.learnable_init!)
        }
        let head = ResidualHead(config: ResidualConfig(mode: mode, scale: f.config.scale, clamp: f.config.clamp))
        let p = Tensor(shape: f.p.shape, storage: f.p.data)
        var delta = Tensor(zeros: [0])
        var cache = ResidualHead.Cache()
        head.forward(delta: &delta, p: p, cache: &cache, denom: f.denom.data, learnedScale: f.head_scale)
        #expect(ParityFixture.relativeError(delta.storage, f.delta.data) <= 1e-5, "\(name) forward")
        var dP = Tensor(zeros: p.shape)
        var dS: Float = 0
        head.backward(dP: &dP, dScale: &dS, dDelta: Tensor(shape: f.r.shape, storage: f.r.data), cache: cache)
        #expect(ParityFixture.relativeError(dP.storage, f.grad_p.data) <= 1e-4, "\(name) grad p")
        print(
            "parity \(name): forward \(ParityFixture.relativeError(delta.storage, f.delta.data)), grad \(ParityFixture.relativeError(dP.storage, f.grad_p.data))"
        )
        #expect(
            abs(dS - f.grad_head_scale) <= 1e-4 * max(1, abs(f.grad_head_scale)),
            "\(name) grad head.scale \(dS) vs \(f.grad_head_scale)")
    }
}
