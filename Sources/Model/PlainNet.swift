// `arch: plain`: a stack of 3x3 convolutions with LeakyReLU(0.2) between them.
import Numerics

/// depth conv3x3 layers (padding 1): 3 -> width -> ... -> width -> 3, LeakyReLU(0.2) after every layer but
/// the last, no final activation. Parameters `layers.<i>.weight` (out, in, 3, 3) and `layers.<i>.bias` (out),
/// i = 0 ..< depth, exactly PyTorch's `nn.ModuleList` of `nn.Conv2d` named `layers`.
public final class PlainNet: PatchNetwork {
    public let depth: Int
    public let width: Int
    private let layers: [ConvLayer]
    /// activations[i] = LeakyReLU(layers[i].output), the input of layer i + 1.
    private var activations: [Tensor]
    /// Gradient buffers: w.r.t. each layer's input and pre-activation output.
    private var dInputs: [Tensor?]
    private var dPre: [Tensor]

    public init(depth: Int, width: Int) {
        precondition(depth >= 1 && width >= 1, "PlainNet: depth and width must be >= 1")
        self.depth = depth
        self.width = width
        let workspace = Workspace()
        let channels = [3] + [Int](repeating: width, count: depth - 1) + [3]
        layers = (0..<depth).map {
            ConvLayer("layers.\($0)", inChannels: channels[$0], outChannels: channels[$0 + 1], kernel: 3, stride: 1,
                      padding: 1, workspace: workspace)
        }
        activations = [Tensor](repeating: Tensor(zeros: [0]), count: depth)
        dInputs = [Tensor?](repeating: nil, count: depth)
        dPre = [Tensor](repeating: Tensor(zeros: [0]), count: depth)
    }

    public var parameterLayout: [(name: String, shape: [Int])] { layers.flatMap(\.layout) }
    public var outputLayer: String { "layers.\(depth - 1)" }

    public func forward(_ x: Tensor, store: ParameterStore) -> Tensor {
        var h = x
        for i in 0..<depth {
            let z = layers[i].forward(h, store: store)
            if i == depth - 1 { return z }
            ensure(&activations[i], z.shape)
            LeakyReLU.forward(output: &activations[i], input: layers[i].output, slope: leakySlope)
            h = activations[i]
        }
        return layers[depth - 1].output
    }

    public func backward(_ dOut: Tensor, store: ParameterStore) {
        var g = dOut  // gradient w.r.t. layer i's output (pre-activation)
        for i in stride(from: depth - 1, through: 0, by: -1) {
            if i == 0 {
                var none: Tensor? = nil  // the first layer's input is data
                layers[0].backward(g, dInput: &none, store: store)
                return
            }
            var dIn: Tensor? = dInputs[i] ?? Tensor(zeros: [0])
            zeroed(&dIn!, layers[i].input.shape)
            layers[i].backward(g, dInput: &dIn, store: store)
            dInputs[i] = dIn
            zeroed(&dPre[i - 1], layers[i - 1].output.shape)
            LeakyReLU.backward(dInput: &dPre[i - 1], dOutput: dIn!, input: layers[i - 1].output, slope: leakySlope)
            g = dPre[i - 1]
        }
    }
}
