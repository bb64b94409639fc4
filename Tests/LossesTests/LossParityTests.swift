// Every loss term against PyTorch (fixtures from tools/parity/generate.py): value and d value / d delta.
import Config
import Model
import Numerics
import TestSupport
import Testing

@testable import Losses

struct LossParityTests {
    struct Fixture: Decodable {
        var type: String
        var params: [String: Double]
        var eps: Float
        var log_image, delta, target, grad_delta: FixtureTensor
        /// hole_l1's region masks (N, 1, H, W).
        var regions: FixtureTensor?
        var value: Double
    }

    static let names = ParityFixture.names(prefix: "loss_")

    @Test func everyLossTypeHasAFixture() throws {
        let types = Set(try Self.names.map { try ParityFixture.load($0, as: Fixture.self).type })
        #expect(types == Set(LossTerms.registry.types))
    }

    @Test(arguments: names)
    func matchesPyTorch(_ name: String) throws {
        let f = try ParityFixture.load(name, as: Fixture.self)
        let yaml =
            "loss:\n  - type: \(f.type)\n    weight: 1\n" + f.params.map { "    \($0.key): \($0.value)\n" }.joined()
        let loss = try CompositeLoss.parse(yaml)
        let tensor = { (t: FixtureTensor) in Tensor(shape: t.shape, storage: t.data) }
        let inputs = LossInputs(
            delta: tensor(f.delta), logImage: tensor(f.log_image), target: tensor(f.target), eps: f.eps,
            regions: f.regions.map(tensor))
        let (report, grad) = loss.evaluate(inputs)
        let valueError = abs(report.total - f.value) / max(abs(f.value), 1e-12)
        let gradError = ParityFixture.relativeError(grad.storage, f.grad_delta.data)
        print("parity \(name): value \(valueError), grad \(gradError)")
        #expect(valueError <= 1e-5, "\(name): \(report.total) vs \(f.value)")
        #expect(gradError <= 1e-4, "\(name) gradient")
    }

    struct BoundFixture: Decodable {
        var type: String
        var params: [String: Double]
        var eps: Float
        var log_image, delta, target, out, grad_delta: FixtureTensor
        var negative: Int
        var value: Double
    }

    /// The output's lower bound, max(exp(ln_hat) - eps, 0), against torch.clamp(min=0) where a quarter of the
    /// elements fall below 0: the output, the count, and the linear-domain terms' value and gradient through it.
    @Test(arguments: ParityFixture.names(prefix: "bound_"))
    func theOutputsLowerBoundMatchesPyTorch(_ name: String) throws {
        let f = try ParityFixture.load(name, as: BoundFixture.self)
        let tensor = { (t: FixtureTensor) in Tensor(shape: t.shape, storage: t.data) }
        var out = Tensor(zeros: [0])
        let below = Reconstruction.output(
            logImage: tensor(f.log_image), delta: tensor(f.delta), eps: f.eps, into: &out)
        #expect(below == f.negative && f.negative > f.out.data.count / 10, "\(name): \(below) below 0")
        #expect(!out.storage.contains { $0 < 0 })
        #expect(zip(out.storage, f.out.data).allSatisfy { ($0 == 0) == ($1 == 0) }, "\(name): where the bound holds")
        #expect(ParityFixture.relativeError(out.storage, f.out.data) <= 1e-6, "\(name): output")
        let yaml =
            "loss:\n  - type: \(f.type)\n    weight: 1\n" + f.params.map { "    \($0.key): \($0.value)\n" }.joined()
        let (report, grad) = try CompositeLoss.parse(yaml).evaluate(
            LossInputs(delta: tensor(f.delta), logImage: tensor(f.log_image), target: tensor(f.target), eps: f.eps))
        #expect(abs(report.total - f.value) <= 1e-5 * abs(f.value), "\(name): \(report.total) vs \(f.value)")
        #expect(ParityFixture.relativeError(grad.storage, f.grad_delta.data) <= 1e-4, "\(name) gradient")
        // Where the bound holds, no gradient reaches delta.
        for i in out.storage.indices where out.storage[i] == 0 { #expect(grad.storage[i] == 0, "\(name) element \(i)") }
    }
}
