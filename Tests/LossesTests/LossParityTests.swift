// Every loss term against PyTorch (fixtures from tools/parity/generate.py): value and d value / d delta.
import Config
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
            delta: tensor(f.delta), logImage: tensor(f.log_image), target: tensor(f.target), eps: f.eps)
        let (report, grad) = loss.evaluate(inputs)
        let valueError = abs(report.total - f.value) / max(abs(f.value), 1e-12)
        let gradError = ParityFixture.relativeError(grad.storage, f.grad_delta.data)
        print("parity \(name): value \(valueError), grad \(gradError)")
        #expect(valueError <= 1e-5, "\(name): \(report.total) vs \(f.value)")
        #expect(gradError <= 1e-4, "\(name) gradient")
    }
}
