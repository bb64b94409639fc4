// The training step against PyTorch (fixtures net_*, tools/parity/generate.py): LogNorm -> network -> residual
// head -> reconstruction -> 2.0 * Huber, every gradient (head.scale's through PatchModel's wiring), and 20 AdamW
// steps, all through TrainingStep, the function `train` loops over.
import Glibc
import Losses
import Model
import Numerics
import TestSupport
import Testing
import Training

struct PipelineParityTests {
    struct Fixture: Decodable {
        struct Residual: Decodable {
            var cap: Float?
            var alpha: Float?
            var k: Float?
            var learnable_init: Float?
            var scale: Float
            var clamp: Float?
        }
        var arch: String
        var model: [String: Int]
        var mode: String
        var residual: Residual
        var eps: Float
        var denom_floor: Float
        var parameter_order: [String]
        var input, target: FixtureTensor
        var weights: [String: FixtureTensor]
        var activations: [String: FixtureTensor]
        var loss_value: Double
        var grads: [String: FixtureTensor]
        var trajectory: [Double]
    }

    static let names = ParityFixture.names(prefix: "net_")

    /// Every fixture; the plain network's with each convolution algorithm (the U-Net has one).
    static let cases: [(String, Conv3x3Algorithm)] = names.flatMap { name in
        name.hasPrefix("net_plain") ? [(name, .direct), (name, .winograd)] : [(name, .automatic)]
    }

    /// The fixture's model as a run builds it (`PatchModel`: LogNorm, network, head, one store), holding the
    /// fixture's weights under the same names, in the same order.
    static func build(_ f: Fixture, conv: Conv3x3Algorithm = .automatic) throws -> PatchModel {
        let arch: ModelConfig =
            f.arch == "plain"
            ? .plain(depth: f.model["depth"]!, width: f.model["width"]!)
            : .unet(width: f.model["width"]!, levels: f.model["levels"]!)
        let mode: ResidualMode
        switch f.mode {
        case "fixed_cap": mode = .fixedCap(cap: f.residual.cap!, alpha: f.residual.alpha!)
        case "adaptive": mode = .adaptive(k: f.residual.k!)
        default: mode = .learnable(initial: f.residual.learnable_init!)
        }
        let model = try PatchModel(
            model: arch, residual: ResidualConfig(mode: mode, scale: f.residual.scale, clamp: f.residual.clamp),
            logNorm: LogNorm(eps: f.eps, denomFloor: f.denom_floor), stateSlots: 2, seed: 0)
        (model.network as? PlainNet)?.convAlgorithm = conv
        for e in model.store.entries {
            let w = try #require(f.weights[e.name], "\(e.name) is not in the fixture")
            #expect(w.shape == e.shape, "\(e.name): fixture shape \(w.shape) vs ours \(e.shape)")
            _ = model.store.values(e).update(fromContentsOf: w.data)
        }
        return model
    }

    /// The training step a run takes (`TrainingStep`: forward, loss, backward, the monitor's gradient norm,
    /// AdamW with the fixture's settings, the monitor record), with the fixture's loss: 2.0 * Huber.
    static func trainingStep(_ model: PatchModel) throws -> TrainingStep {
        TrainingStep(
            model: model, loss: try CompositeLoss.parse("loss:\n  - {type: huber, weight: 2.0, delta: 1.0}"),
            optimizer: AdamW(lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01), totalSteps: 20)
    }

    /// One step on the fixture's batch; `store.grads` then holds the gradients at the weights before the update.
    static func step(_ step: TrainingStep, _ f: Fixture, index: Int) -> (acts: [String: Tensor], loss: Double) {
        let x = Tensor(shape: f.input.shape, storage: f.input.data)
        let target = Tensor(shape: f.target.shape, storage: f.target.data)
        let outcome = step.run(input: x, target: target, step: index)
        #expect(outcome.skip == nil && outcome.lr == 1e-3)
        let pass = outcome.pass
        return (
            ["xn": pass.norm.normalized, "p": pass.p, "delta": pass.delta, "out": pass.output], outcome.report.total
        )
    }

    @Test func twelveFixturesArePresent() { #expect(Self.names.count == 12, "\(Self.names)") }

    @Test(arguments: cases)
    func forwardAndEveryGradientMatchPyTorch(_ name: String, conv: Conv3x3Algorithm) throws {
        let f = try ParityFixture.load(name, as: Fixture.self)
        let model = try Self.build(f, conv: conv)
        let store = model.store
        #expect(store.entries.map(\.name) == f.parameter_order)
        let (acts, value) = Self.step(try Self.trainingStep(model), f, index: 0)

        // Layer-by-layer report: every compared tensor with its error, in pipeline order, so the first
        // divergence is visible at a glance when something fails.
        var report: [(String, Double, Double)] = []
        for key in ["xn", "p", "delta", "out"] {
            report.append(
                ("activation " + key, ParityFixture.relativeError(acts[key]!.storage, f.activations[key]!.data), 1e-5))
        }
        report.append(("loss", abs(value - f.loss_value) / abs(f.loss_value), 1e-5))
        for name in f.parameter_order.reversed() {
            let e = store.entry(named: name)!
            report.append(
                ("grad " + name, ParityFixture.relativeError(Array(store.grads(e)), f.grads[name]!.data), 1e-4))
        }
        let failures = report.filter { $0.1 > $0.2 }
        let text = report.map { "  \($0.0): \($0.1)" + ($0.1 > $0.2 ? "  <- over \($0.2)" : "") }
        let details = "\(name) diverges; first: \(failures.first?.0 ?? "")\n" + text.joined(separator: "\n")
        #expect(failures.isEmpty, Comment(rawValue: details))
        print(
            "parity \(name) (\(conv.rawValue)): worst forward \(report.prefix(5).map(\.1).max()!), worst grad \(report.dropFirst(5).map(\.1).max()!)"
        )
    }

    @Test(arguments: names)
    func twentyAdamWStepsFollowPyTorchsLossTrajectory(_ name: String) throws {
        let f = try ParityFixture.load(name, as: Fixture.self)
        let step = try Self.trainingStep(try Self.build(f))
        let ours = (0..<20).map { Self.step(step, f, index: $0).loss }
        let worst = zip(ours, f.trajectory).map { abs($0 - $1) / abs($1) }.max()!
        print("trajectory \(name): worst relative difference over 20 steps \(worst)")
        #expect(worst <= 1e-4, "\(name): ours \(ours) vs torch \(f.trajectory)")
    }
}
