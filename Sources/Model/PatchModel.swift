// The model a run trains and a checkpoint restores: LogNorm -> network -> residual head -> reconstruction.
import Losses
import Numerics

/// Owns the network, the head and the parameter store (network parameters, then `head.scale` if learnable).
package final class PatchModel: @unchecked Sendable {
    package let model: ModelConfig
    package let inputs: NetworkInputs
    /// Pixels around an output pixel that it depends on: the network's receptive radius plus what the input planes
    /// read beyond it (`clip_depth`'s reach). Tiled restore keeps this margin at interior tile edges.
    package var contextRadius: Int { network.receptiveRadius + inputs.contextRadius }
    package let residual: ResidualConfig
    package let logNorm: LogNorm
    /// How `infer` restores: one pass, or the mean residual over transformed copies (`model.self_ensemble`).
    package var selfEnsemble = SelfEnsemble.single
    package let network: any PatchNetwork
    package let head: ResidualHead
    package let store: ParameterStore
    /// Buffers reused from pass to pass: a pass's tensors share them until the next `forward` writes, so a
    /// caller that still holds the previous pass keeps its values (the write then copies), and a training
    /// loop that drops it allocates nothing here.
    private var norm = LogNormalized()
    /// The network's input when `inputs` has planes besides log_norm (else the network reads norm.normalized).
    private var networkInput = Tensor(zeros: [0])
    private var delta = Tensor(zeros: [0]), headCache = ResidualHead.Cache(), output = Tensor(zeros: [0])
    private var gtDelta = Tensor(zeros: [0]), dP = Tensor(zeros: [0])

    /// Everything one forward pass computed; backward and the monitor read it.
    package struct Pass: Sendable {
        package var norm: LogNormalized
        /// Network output, (N, 3, H, W).
        package var p: Tensor
        /// Residual after the clamp, (N, 3, H, W).
        package var delta: Tensor
        package var headCache: ResidualHead.Cache
        /// max(exp(logImage + delta) - eps, 0), (N, 3, H, W): the restored linear image.
        package var output: Tensor
        /// Elements whose exp(logImage + delta) - eps was below 0 (held at 0 in `output`).
        package var negativePixels: Int = 0
    }

    /// Allocates the store (with `stateSlots` optimizer slots) and initialises it: the network from `seed`
    /// (`initScheme`: PyTorch's default Conv2d init unless said), `head.scale` to `learnable_init`. With
    /// `zeroOutputLayer` (training's choice) the network's output layer starts at zero, so p = 0, delta = 0 and the
    /// untrained model is exactly the identity baseline (output = input up to exp/log rounding): training starts
    /// from what it must beat instead of from a random multiplicative residual of up to e^(cap * tanh(p)).
    /// `inputs` (default: log_norm alone) decides the network's input channels.
    package init(
        model: ModelConfig, inputs: NetworkInputs = .logNormOnly, residual: ResidualConfig, logNorm: LogNorm,
        stateSlots: Int, seed: UInt64, zeroOutputLayer: Bool = false, initScheme: InitScheme = .pytorch
    ) throws {
        self.model = model
        self.inputs = inputs
        self.residual = residual
        self.logNorm = logNorm
        network = model.makeNetwork(inputChannels: inputs.channels)
        head = ResidualHead(config: residual)
        store = try ParameterStore(layout: network.parameterLayout + head.parameterLayout, stateSlots: stateSlots)
        network.initialize(store, seed: seed, scheme: initScheme)
        if zeroOutputLayer {
            for suffix in [".weight", ".bias"] {
                if let e = store.entry(named: network.outputLayer + suffix) { store.values(e).update(repeating: 0) }
            }
        }
        for ((name, _), value) in zip(head.parameterLayout, head.initialValues) {
            store.values(store.entry(named: name)!)[0] = value
        }
    }

    /// The current `head.scale` (learnable mode), else nil.
    package var learnedScale: Float? {
        store.entry(named: ResidualHead.scaleName).map { store.values($0)[0] }
    }

    /// - Parameter input: linear HDR patches (N, 3, H, W), >= 0.
    /// - Parameter regions: the patches' region masks (N, 1, H, W) for a `hole_mask` input (nil: no hole).
    /// - Parameter statistics: LogNorm's lo and hi for every sample instead of each sample's own (LogNorm).
    package func forward(
        _ input: Tensor, regions: Tensor? = nil, statistics: (lo: Float, hi: Float)? = nil
    ) -> Pass {
        let x = normalizedInput(input, regions: regions, statistics: statistics)
        let p = network.forward(x, store: store)
        head.forward(delta: &delta, p: p, cache: &headCache, denom: norm.denom, learnedScale: learnedScale)
        let negative = Reconstruction.output(logImage: norm.logImage, delta: delta, eps: logNorm.eps, into: &output)
        return Pass(norm: norm, p: p, delta: delta, headCache: headCache, output: output, negativePixels: negative)
    }

    /// LogNorm of `input` into `norm`, and the network's input: `norm.normalized`, or every plane of `inputs`.
    private func normalizedInput(_ input: Tensor, regions: Tensor?, statistics: (lo: Float, hi: Float)?) -> Tensor {
        // The network may still hold last step's normalized input (for its backward): let go before rewriting it.
        network.releaseInputs()
        logNorm(input, into: &norm, statistics: statistics)
        if inputs.planes.count == 1 { return norm.normalized }
        inputs.assemble(input: input, norm: norm, regions: inputs.usesRegions ? regions : nil, into: &networkInput)
        return networkInput
    }

    /// Inference (restore, evaluate, validation): `forward` when `selfEnsemble` is 1; otherwise LogNorm once, the
    /// network and head on each of the first `selfEnsemble.count` transforms of the network input
    /// (`SelfEnsemble.Transform`), each clamped residual turned back and summed in transform order, delta = sum /
    /// count, and the reconstruction of that delta. LogNorm's statistics, the clip planes and the head's
    /// coefficient do not change under a flip or a transpose, so every pass sees the same patch. The pass's `p` and
    /// `headCache` are the untransformed pass's.
    package func infer(
        _ input: Tensor, regions: Tensor? = nil, statistics: (lo: Float, hi: Float)? = nil
    ) -> Pass {
        let count = selfEnsemble.count
        if count == 1 { return forward(input, regions: regions, statistics: statistics) }
        let x = normalizedInput(input, regions: regions, statistics: statistics)
        var sum = Tensor(zeros: input.shape)
        var first: (p: Tensor, cache: ResidualHead.Cache)?
        for k in 0..<count {
            let t = SelfEnsemble.Transform(k)
            let p = network.forward(k == 0 ? x : SelfEnsemble.apply(t, x), store: store)
            var d = Tensor(zeros: [0])
            var cache = ResidualHead.Cache()
            head.forward(delta: &d, p: p, cache: &cache, denom: norm.denom, learnedScale: learnedScale)
            SelfEnsemble.addInverse(t, d, into: &sum)
            if k == 0 { first = (p, cache) }
        }
        let n = Float(count)
        for i in sum.storage.indices { sum.storage[i] /= n }
        let negative = Reconstruction.output(logImage: norm.logImage, delta: sum, eps: logNorm.eps, into: &output)
        return Pass(
            norm: norm, p: first!.p, delta: sum, headCache: first!.cache, output: output, negativePixels: negative)
    }

    /// Loss inputs for `pass` against `target` (N, 3, H, W), with the batch's region masks when it has them; the
    /// reconstruction is the pass's, not redone.
    package func lossInputs(_ pass: Pass, target: Tensor, regions: Tensor? = nil) -> LossInputs {
        let eps = logNorm.eps
        Reconstruction.groundTruthDelta(target: target, logImage: pass.norm.logImage, eps: eps, into: &gtDelta)
        return LossInputs(
            delta: pass.delta, gtDelta: gtDelta, logImage: pass.norm.logImage, output: pass.output,
            target: target, eps: eps, regions: regions)
    }

    /// Accumulates (+=) every parameter gradient into `store.grads` from d loss / d delta.
    package func backward(_ pass: Pass, gradDelta: Tensor) {
        if dP.shape != pass.p.shape {
            dP = Tensor(zeros: pass.p.shape)
        } else {
            dP.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        var dScale: Float = 0
        head.backward(dP: &dP, dScale: &dScale, dDelta: gradDelta, cache: pass.headCache)
        if let e = store.entry(named: ResidualHead.scaleName) { store.grads(e)[0] += dScale }
        network.backward(dP, store: store)
    }
}
