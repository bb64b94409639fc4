// The whole forward/backward pipeline against PyTorch (fixtures net_*, tools/parity/generate.py):
// LogNorm -> network -> residual head -> reconstruction -> 2.0 * Huber, then every gradient.
import Glibc
import Losses
import Model
import Numerics
import Testing
import TestSupport
import Training

struct PipelineParityTests {
    struct Fixture: Decodable {
        struct Residual: Decodable { var cap: Float?; var alpha: Float?; var k: Float?; var learnable_init: Float?; var scale: Float; var clamp: Float? }
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

    /// Network, head and a store holding the fixture's weights under the same names, in the same order.
    static func build(_ f: Fixture, conv: Conv3x3Algorithm = .automatic) throws -> (PatchNetwork, ResidualHead, ParameterStore) {
        let net: PatchNetwork
        if f.arch == "plain" {
            let plain = PlainNet(depth: f.model["depth"]!, width: f.model["width"]!)
            plain.convAlgorithm = conv
            net = plain
        } else {
            net = UNet(width: f.model["width"]!, levels: f.model["levels"]!)
        }
        let mode: ResidualMode
        switch f.mode {
        case "fixed_cap": mode = .fixedCap(cap: f.residual.cap!, alpha: f.residual.alpha!)
        case "adaptive": mode = .adaptive(k: f.residual.k!)
        default: mode = .learnable(initial: f.residual.learnable_init!)
        }
        let head = ResidualHead(config: ResidualConfig(mode: mode, scale: f.residual.scale, clamp: f.residual.clamp))
        let layout = net.parameterLayout + head.parameterLayout
        let store = try ParameterStore(layout: layout, stateSlots: 2)
        for (name, _) in layout {
            let e = store.entry(named: name)!
            let w = f.weights[name]!
            #expect(w.shape == e.shape, "\(name): fixture shape \(w.shape) vs ours \(e.shape)")
            _ = store.values(e).update(fromContentsOf: w.data)
        }
        return (net, head, store)
    }

    /// One forward and backward; fills `store.grads`. Returns the activations and the loss value.
    static func step(_ net: PatchNetwork, _ head: ResidualHead, _ store: ParameterStore, _ f: Fixture,
                     loss: CompositeLoss) -> (acts: [String: Tensor], loss: Double) {
        let x = Tensor(shape: f.input.shape, storage: f.input.data)
        let target = Tensor(shape: f.target.shape, storage: f.target.data)
        let norm = LogNorm(eps: f.eps, denomFloor: f.denom_floor)(x)
        let p = net.forward(norm.normalized, store: store)
        let scale = store.entry(named: ResidualHead.scaleName).map { store.values($0)[0] }
        var delta = Tensor(zeros: [0]), cache = ResidualHead.Cache()
        head.forward(delta: &delta, p: p, cache: &cache, denom: norm.denom, learnedScale: scale)
        let inputs = LossInputs(delta: delta, logImage: norm.logImage, target: target, eps: f.eps)
        let (report, gradDelta) = loss.evaluate(inputs)
        store.zeroGrads()
        var dP = Tensor(zeros: p.shape), dScale: Float = 0
        head.backward(dP: &dP, dScale: &dScale, dDelta: gradDelta, cache: cache)
        if let e = store.entry(named: ResidualHead.scaleName) { store.grads(e)[0] += dScale }
        net.backward(dP, store: store)
        return (["xn": norm.normalized, "p": p, "delta": delta, "out": inputs.output], report.total)
    }

    @Test func twelveFixturesArePresent() { #expect(Self.names.count == 12, "\(Self.names)") }

    @Test(arguments: cases)
    func forwardAndEveryGradientMatchPyTorch(_ name: String, conv: Conv3x3Algorithm) throws {
        let f = try ParityFixture.load(name, as: Fixture.self)
        let (net, head, store) = try Self.build(f, conv: conv)
        #expect(net.parameterLayout.map(\.name) + head.parameterLayout.map(\.name) == f.parameter_order)
        let loss = try CompositeLoss.parse("loss:\n  - {type: huber, weight: 2.0, delta: 1.0}")
        let (acts, value) = Self.step(net, head, store, f, loss: loss)

        // Layer-by-layer report: every compared tensor with its error, in pipeline order, so the first
        // divergence is visible at a glance when something fails.
        var report: [(String, Double, Double)] = []
        for key in ["xn", "p", "delta", "out"] {
            report.append(("activation " + key, ParityFixture.relativeError(acts[key]!.storage, f.activations[key]!.data), 1e-5))
        }
        report.append(("loss", abs(value - f.loss_value) / abs(f.loss_value), 1e-5))
        for name in f.parameter_order.reversed() {
            let e = store.entry(named: name)!
            report.append(("grad " + name, ParityFixture.relativeError(Array(store.grads(e)), f.grads[name]!.data), 1e-4))
        }
        let failures = report.filter { $0.1 > $0.2 }
        let text = report.map { "  \($0.0): \($0.1)" + ($0.1 > $0.2 ? "  <- over \($0.2)" : "") }
        let details = "\(name) diverges; first: \(failures.first?.0 ?? "")\n" + text.joined(separator: "\n")
        #expect(failures.isEmpty, Comment(rawValue: details))
        print("parity \(name) (\(conv.rawValue)): worst forward \(report.prefix(5).map(\.1).max()!), worst grad \(report.dropFirst(5).map(\.1).max()!)")
    }

    @Test(arguments: names)
    func twentyAdamWStepsFollowPyTorchsLossTrajectory(_ name: String) throws {
        let f = try ParityFixture.load(name, as: Fixture.self)
        let (net, head, store) = try Self.build(f)
        let loss = try CompositeLoss.parse("loss:\n  - {type: huber, weight: 2.0, delta: 1.0}")
        let adamw = AdamW(lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)
        var ours: [Double] = []
        for _ in 0..<20 {
            ours.append(Self.step(net, head, store, f, loss: loss).loss)
            adamw.step(store, lr: 1e-3)
        }
        let worst = zip(ours, f.trajectory).map { abs($0 - $1) / abs($1) }.max()!
        print("trajectory \(name): worst relative difference over 20 steps \(worst)")
        #expect(worst <= 1e-4, "\(name): ours \(ours) vs torch \(f.trajectory)")
    }
}
