// `arch: unet`: a small U-Net (stride-2 encoder, nearest-upsampling decoder, concatenated skips).
import Numerics

/// With width w and levels L (H and W divisible by 2^L):
///   enc.0 = Block(3 -> w, stride 1); enc.l = Block(w*2^(l-1) -> w*2^l, stride 2), l = 1 ... L
///   for l = L-1 ... 0: x = nearest-upsample x2 of x; x = cat([x, enc.l output], channels);
///                      x = dec.l = Block(w*2^(l+1) + w*2^l -> w*2^l, stride 1)
///   out = conv1x1(w -> 3), no activation.
/// Block(cin -> cout, s) = conv3x3(stride s, padding 1) -> LeakyReLU(0.2) -> conv3x3(padding 1) -> LeakyReLU(0.2).
/// Parameter names (PyTorch modules `enc`, `dec` as ModuleLists of blocks with `conv1`, `conv2`; `out`):
/// enc.<l>.conv{1,2}.{weight,bias}, dec.<l>.conv{1,2}.{weight,bias}, out.{weight,bias}; registration order
/// enc.0 ... enc.L, dec.0 ... dec.L-1, out (the order of `named_parameters()` in the reference module,
/// tools/parity/generate.py).
///
/// Runs on `UNetStack` (padded activations, whole images per thread; with fewer images than threads, as when
/// restoring one large tile, each layer's rows split over the threads, with the same outputs bit for bit).
/// `path = .layers` forces the layer-by-layer path (the reference the stack is tested against).
package final class UNet: PatchNetwork {
    /// How the network runs: the fused stack where it applies, or layer by layer.
    package enum Path: Sendable { case stack, layers }
    package let width: Int
    package let levels: Int
    package var path: Path = .stack
    private let stack: UNetStack
    private var stackOutput = Tensor(zeros: [0])
    /// Whether the last forward ran on the stack (backward takes the same path).
    private(set) var ranOnStack = false
    /// The store last used and pointers into it, in the stack's layer order (looked up once per store).
    private var bound: ParameterStore?
    private var weights: [UnsafePointer<Float>] = [], biases: [UnsafePointer<Float>] = []
    private var dWeights: [UnsafeMutablePointer<Float>] = [], dBiases: [UnsafeMutablePointer<Float>] = []
    private let enc: [ConvBlock]
    private let dec: [ConvBlock]
    private let out: ConvLayer
    private var upsampled: [Tensor]
    private var concatenated: [Tensor]
    /// Gradient accumulators: d enc.l output, d (upsampled l), d (concat l), d dec.l output.
    private var dEncOut: [Tensor]
    private var dUp: [Tensor]
    private var dDecOut: [Tensor]

    /// - Parameter inputChannels: 3 (LogNorm's output), more with NetworkInputs' extra planes.
    package init(width: Int, levels: Int, inputChannels: Int = 3) {
        precondition(width >= 1 && levels >= 1, "UNet: width and levels must be >= 1")
        self.width = width
        self.levels = levels
        let workspace = Workspace()
        let w = (0...levels).map { width << $0 }
        enc = (0...levels).map { l in
            ConvBlock(
                "enc.\(l)", inChannels: l == 0 ? inputChannels : w[l - 1], outChannels: w[l], stride: l == 0 ? 1 : 2,
                workspace: workspace)
        }
        dec = (0..<levels).map { l in
            ConvBlock("dec.\(l)", inChannels: w[l + 1] + w[l], outChannels: w[l], stride: 1, workspace: workspace)
        }
        out = ConvLayer("out", inChannels: w[0], outChannels: 3, kernel: 1, stride: 1, padding: 0, workspace: workspace)
        let empty = Tensor(zeros: [0])
        upsampled = [Tensor](repeating: empty, count: levels)
        concatenated = upsampled
        dEncOut = [Tensor](repeating: empty, count: levels + 1)
        dUp = upsampled
        dDecOut = upsampled
        stack = UNetStack(inputChannels: inputChannels, width: width, levels: levels, slope: leakySlope)
    }

    /// Instruction set of the kernels, both paths (default: the best this CPU runs).
    package var simdLevel: SIMDLevel {
        get { stack.simdLevel }
        set {
            stack.simdLevel = newValue
            for layer in allLayers { layer.conv.simdLevel = newValue }
        }
    }

    /// Threads of the kernels, both paths; nil (the default) follows `Parallel.threads`.
    package var threads: Int? {
        get { stack.threads }
        set {
            stack.threads = newValue
            for layer in allLayers { layer.conv.threads = newValue }
        }
    }

    /// Direct or Winograd for the stack's 3x3 stride-1 layers.
    package var convAlgorithm: Conv3x3Algorithm {
        get { stack.algorithm }
        set { stack.algorithm = newValue }
    }

    /// Levels wider than this never run on the stack's mosaics (tests and tuning; default: chosen by lanes).
    package var mosaicMaxSide: Int {
        get { stack.mosaicMaxSide }
        set { stack.mosaicMaxSide = newValue }
    }

    /// Per-layer wall-clock sums of the stack while attached (`hdrpatch bench --layers`).
    package var profile: LayerProfile? {
        get { stack.profile }
        set { stack.profile = newValue }
    }
    /// The stack's layers, one line each, in the order `profile` counts them.
    package var layerDescriptions: [String] { stack.layerDescriptions }

    /// The stack's first level that runs on mosaics at the last forward's shape (levels + 1: none).
    package var mosaicLevel: Int { stack.mosaicLevel }

    private var allLayers: [ConvLayer] {
        enc.flatMap { [$0.conv1, $0.conv2] } + dec.flatMap { [$0.conv1, $0.conv2] } + [out]
    }

    private func bind(_ store: ParameterStore) {
        guard bound !== store else { return }
        let names = allLayers.map(\.name)
        let w = names.map { ParameterPointers(store, $0 + ".weight") }
        let b = names.map { ParameterPointers(store, $0 + ".bias") }
        weights = w.map { UnsafePointer($0.value) }
        biases = b.map { UnsafePointer($0.value) }
        dWeights = w.map(\.grad)
        dBiases = b.map(\.grad)
        bound = store
    }

    package var parameterLayout: [(name: String, shape: [Int])] {
        enc.flatMap(\.layout) + dec.flatMap(\.layout) + out.layout
    }

    package var outputLayer: String { "out" }
    /// An upper bound, in input pixels: enc.0's two convs (2); enc.l's stride-2 conv (2^(l-1)) and conv (2^l);
    /// dec.l's nearest upsampling (2^l) and two convs (2 x 2^l); the 1x1 output (0). Summed: 6 x 2^L - 4.
    package var receptiveRadius: Int { 6 * (1 << levels) - 4 }

    package func forward(_ x: Tensor, store: ParameterStore) -> Tensor {
        let n = x.shape[0]
        let h = x.shape[2]
        let wd = x.shape[3]
        let f = 1 << levels
        precondition(h % f == 0 && wd % f == 0, "UNet: \(h) x \(wd) is not divisible by 2^\(levels)")
        ranOnStack = path == .stack
        if ranOnStack {
            releaseInputs()
            bind(store)
            stack.forward(input: x, output: &stackOutput, weights: weights, biases: biases)
            return stackOutput
        }
        // The layers' saved inputs from the last step would make every buffer write below a copy.
        releaseInputs()
        var t = x
        for block in enc { t = block.forward(t, store: store) }
        for l in stride(from: levels - 1, through: 0, by: -1) {
            let skip = enc[l].output
            ensure(&upsampled[l], n, t.shape[1], 2 * t.shape[2], 2 * t.shape[3])
            UpsampleNearest2x.forward(output: &upsampled[l], input: t)
            ensure(&concatenated[l], n, upsampled[l].shape[1] + skip.shape[1], skip.shape[2], skip.shape[3])
            ChannelConcat.forward(output: &concatenated[l], a: upsampled[l], b: skip)
            t = dec[l].forward(concatenated[l], store: store)
        }
        return out.forward(t, store: store)
    }

    /// Every layer lets go of its saved input (enc.0's is the caller's tensor).
    package func releaseInputs() {
        for block in enc { block.releaseInputs() }
        for block in dec { block.releaseInputs() }
        out.releaseInput()
    }

    package func backward(_ dOut: Tensor, store: ParameterStore) {
        if ranOnStack {
            bind(store)
            stack.backward(dOutput: dOut, weights: weights, dWeights: dWeights, dBiases: dBiases)
            return
        }
        for l in 0...levels { zeroed(&dEncOut[l], enc[l].output.shape) }
        zeroed(&dDecOut[0], dec[0].output.shape)
        var d0: Tensor? = dDecOut[0]
        dDecOut[0] = emptyTensor  // hand the buffer over without a copy
        out.backward(dOut, dInput: &d0, store: store)
        dDecOut[0] = d0!
        for l in 0..<levels {
            // dec.l's output gradient is complete: out (l = 0) or the upsampling of level l - 1 feeds it.
            let dCat = dec[l].backward(dDecOut[l], store: store, inputGradient: true)!
            zeroed(&dUp[l], upsampled[l].shape)
            ChannelConcat.backward(dA: &dUp[l], dB: &dEncOut[l], dOutput: dCat)
            // The upsampled tensor came from dec.(l+1), or from the bottom encoder block at the last level.
            if l + 1 < levels {
                zeroed(&dDecOut[l + 1], dec[l + 1].output.shape)
                UpsampleNearest2x.backward(dInput: &dDecOut[l + 1], dOutput: dUp[l])
            } else {
                UpsampleNearest2x.backward(dInput: &dEncOut[levels], dOutput: dUp[l])
            }
        }
        for l in stride(from: levels, through: 0, by: -1) {
            if let dIn = enc[l].backward(dEncOut[l], store: store, inputGradient: l > 0) {
                // enc.l's input is enc.(l-1)'s output: add to what its skip connection already gave it.
                dEncOut[l - 1].storage.withUnsafeMutableBufferPointer { acc in
                    dIn.storage.withUnsafeBufferPointer { g in for i in acc.indices { acc[i] += g[i] } }
                }
            }
        }
    }
}

/// conv1 (stride s) -> LeakyReLU -> conv2 -> LeakyReLU, parameters <name>.conv1.*, <name>.conv2.*.
final class ConvBlock {
    let conv1: ConvLayer
    let conv2: ConvLayer
    private var a1 = Tensor(zeros: [0])
    /// The block's output (after the second LeakyReLU).
    private(set) var output = Tensor(zeros: [0])
    private var dZ2 = Tensor(zeros: [0]), dA1: Tensor? = Tensor(zeros: [0]), dZ1 = Tensor(zeros: [0])
    private var dIn: Tensor? = Tensor(zeros: [0])

    init(_ name: String, inChannels: Int, outChannels: Int, stride: Int, workspace: Workspace) {
        conv1 = ConvLayer(
            name + ".conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride,
            padding: 1, workspace: workspace)
        conv2 = ConvLayer(
            name + ".conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3, stride: 1,
            padding: 1, workspace: workspace)
    }

    var layout: [(name: String, shape: [Int])] { conv1.layout + conv2.layout }

    func releaseInputs() {
        conv1.releaseInput()
        conv2.releaseInput()
    }

    func forward(_ x: Tensor, store: ParameterStore) -> Tensor {
        let z1 = conv1.forward(x, store: store)
        ensure(&a1, z1.shape)
        LeakyReLU.forward(output: &a1, input: conv1.output, slope: leakySlope)
        let z2 = conv2.forward(a1, store: store)
        ensure(&output, z2.shape)
        LeakyReLU.forward(output: &output, input: conv2.output, slope: leakySlope)
        return output
    }

    /// Accumulates parameter gradients; returns d input (a buffer owned by the block) when asked.
    func backward(_ dOut: Tensor, store: ParameterStore, inputGradient: Bool) -> Tensor? {
        zeroed(&dZ2, conv2.output.shape)
        LeakyReLU.backward(dInput: &dZ2, dOutput: dOut, input: conv2.output, slope: leakySlope)
        zeroed(&dA1!, conv2.input.shape)
        conv2.backward(dZ2, dInput: &dA1, store: store)
        zeroed(&dZ1, conv1.output.shape)
        LeakyReLU.backward(dInput: &dZ1, dOutput: dA1!, input: conv1.output, slope: leakySlope)
        if inputGradient {
            zeroed(&dIn!, conv1.input.shape)
            conv1.backward(dZ1, dInput: &dIn, store: store)
            return dIn
        }
        var none: Tensor? = nil
        conv1.backward(dZ1, dInput: &none, store: store)
        return nil
    }
}
