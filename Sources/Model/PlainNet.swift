// `arch: plain`: a stack of 3x3 convolutions with LeakyReLU(0.2) between them.
import Numerics

/// depth conv3x3 layers (padding 1): 3 (or the input's channels) -> width -> ... -> width -> 3, LeakyReLU(0.2) after every layer but
/// the last, no final activation. Parameters `layers.<i>.weight` (out, in, 3, 3) and `layers.<i>.bias` (out),
/// i = 0 ..< depth, exactly PyTorch's `nn.ModuleList` of `nn.Conv2d` named `layers`.
/// Runs on `Conv3x3Stack` (padded activations, whole images per thread).
package final class PlainNet: PatchNetwork {
    package let depth: Int
    package let width: Int
    private let stack: Conv3x3Stack
    private var output = Tensor(zeros: [0])
    /// The store last used and pointers into it (looked up once per store). The store is held, not named by its
    /// address: a new store allocated where a freed one was would otherwise reuse the freed store's pointers.
    private var bound: ParameterStore?
    private var weights: [UnsafePointer<Float>] = [], biases: [UnsafePointer<Float>] = []
    private var dWeights: [UnsafeMutablePointer<Float>] = [], dBiases: [UnsafeMutablePointer<Float>] = []

    /// - Parameter inputChannels: 3 (LogNorm's output), more with NetworkInputs' extra planes.
    package init(depth: Int, width: Int, inputChannels: Int = 3) {
        precondition(depth >= 1 && width >= 1, "PlainNet: depth and width must be >= 1")
        self.depth = depth
        self.width = width
        stack = Conv3x3Stack(
            channels: [inputChannels] + [Int](repeating: width, count: depth - 1) + [3], slope: leakySlope)
    }

    /// Instruction set of the convolution kernels (default: the best this CPU runs).
    package var simdLevel: SIMDLevel {
        get { stack.simdLevel }
        set { stack.simdLevel = newValue }
    }

    /// Direct or Winograd convolutions (default: Winograd for the width -> width layers).
    package var convAlgorithm: Conv3x3Algorithm {
        get { stack.algorithm }
        set { stack.algorithm = newValue }
    }

    /// Threads of the convolution kernels; nil (the default) follows `Parallel.threads`.
    package var threads: Int? {
        get { stack.threads }
        set { stack.threads = newValue }
    }

    /// Large images through the layers in strips of rows (default) or layer after layer: the same results bit for
    /// bit (Conv3x3Stack.rowOrder).
    package var rowOrder: Bool {
        get { stack.rowOrder }
        set { stack.rowOrder = newValue }
    }

    package var parameterLayout: [(name: String, shape: [Int])] {
        (0..<depth).flatMap { i -> [(name: String, shape: [Int])] in
            [
                ("layers.\(i).weight", [stack.channels[i + 1], stack.channels[i], 3, 3]),
                ("layers.\(i).bias", [stack.channels[i + 1]])
            ]
        }
    }

    package var outputLayer: String { "layers.\(depth - 1)" }
    /// One pixel per 3x3 layer.
    package var receptiveRadius: Int { depth }

    private func bind(_ store: ParameterStore) {
        guard bound !== store else { return }
        let w = (0..<depth).map { ParameterPointers(store, "layers.\($0).weight") }
        let b = (0..<depth).map { ParameterPointers(store, "layers.\($0).bias") }
        weights = w.map { UnsafePointer($0.value) }
        biases = b.map { UnsafePointer($0.value) }
        dWeights = w.map(\.grad)
        dBiases = b.map(\.grad)
        bound = store
    }

    package func forward(_ x: Tensor, store: ParameterStore) -> Tensor {
        bind(store)
        stack.forward(input: x, output: &output, weights: weights, biases: biases)
        return output
    }

    package func backward(_ dOut: Tensor, store: ParameterStore) {
        bind(store)
        stack.backward(dOutput: dOut, weights: weights, dWeights: dWeights, dBiases: dBiases)
    }
}
