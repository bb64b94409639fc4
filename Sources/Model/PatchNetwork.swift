// The contract of patch networks, and what they share: PyTorch-default initialisation, reusable buffers.
import Numerics

/// Maps the normalized log image xn (N, 3, H, W) to p (N, 3, H, W), no final activation (the residual head
/// applies tanh). Parameters live in a `ParameterStore` under PyTorch names and layouts.
///
/// forward saves what backward needs (inputs and pre-activations of every layer); backward accumulates (+=)
/// into `store.grads`; call them in pairs. Buffers are allocated on the first call for a shape and reused.
package protocol PatchNetwork: AnyObject {
    /// (name, shape) of every parameter, in registration order.
    var parameterLayout: [(name: String, shape: [Int])] { get }
    /// The layer producing p (its `.weight` and `.bias`), e.g. `layers.4` or `out`.
    var outputLayer: String { get }
    /// How far (in pixels, an upper bound) an input pixel reaches: an output pixel depends only on inputs within
    /// this distance along each axis. Tiled inference keeps this margin at interior tile edges.
    var receptiveRadius: Int { get }
    /// - Parameter x: (N, 3, H, W). - Returns: p, (N, 3, H, W).
    func forward(_ x: Tensor, store: ParameterStore) -> Tensor
    /// - Parameter dOut: d loss / d p, (N, 3, H, W).
    func backward(_ dOut: Tensor, store: ParameterStore)
    /// Drops what the network keeps of the last forward's input (layers that save their input for backward):
    /// its owner can then write that buffer in place for the next forward instead of copying it.
    func releaseInputs()
}

extension PatchNetwork {
    /// Networks that copy their input (the plain network's padded layers) keep nothing of it.
    package func releaseInputs() {}

    /// The seeded initialisation of every conv weight and bias. `.pytorch` (the default): PyTorch's nn.Conv2d
    /// init, weight and bias uniform in [-b, b] with b = 1 / sqrt(fan_in), fan_in = in_channels * kh * kw
    /// (kaiming_uniform with a = sqrt(5)). `.kaiming`: He's init for the networks' LeakyReLU, what
    /// torch.nn.init.kaiming_uniform_(w, a=leakySlope, nonlinearity="leaky_relu") draws: weight uniform in [-b, b]
    /// with b = sqrt(6 / ((1 + slope^2) fan_in)), bias 0. PyTorch's default gives each layer's output 1/5.8 of the
    /// variance He's keeps, so a deep stack without normalisation starts with a vanishing signal. Parameter i
    /// draws from SeededRNG(seed, i), so adding a parameter never changes the others. Parameters whose name is not
    /// a conv weight or bias (e.g. head.scale) are left as they are.
    package func initialize(_ store: ParameterStore, seed: UInt64, scheme: InitScheme = .pytorch) {
        let layout = parameterLayout
        var fanIn: [String: Int] = [:]
        for (name, shape) in layout where name.hasSuffix(".weight") && shape.count == 4 {
            fanIn[String(name.dropLast(".weight".count))] = shape[1] * shape[2] * shape[3]
        }
        for (i, (name, _)) in layout.enumerated() {
            guard let entry = store.entry(named: name) else { continue }
            let isWeight = name.hasSuffix(".weight")
            let layer = isWeight ? String(name.dropLast(7)) : (name.hasSuffix(".bias") ? String(name.dropLast(5)) : nil)
            guard let layer, let fan = fanIn[layer] else { continue }
            let values = store.values(entry)
            let bound: Double
            switch scheme {
            case .pytorch: bound = 1 / Double(fan).squareRoot()
            case .kaiming:
                guard isWeight else {
                    values.update(repeating: 0)
                    continue
                }
                let slope = Double(leakySlope)
                bound = (6 / ((1 + slope * slope) * Double(fan))).squareRoot()
            }
            var rng = SeededRNG(seed: seed, UInt64(i))
            for j in values.indices { values[j] = Float((rng.uniform() * 2 - 1) * bound) }
        }
    }
}

/// How `PatchNetwork.initialize` draws the conv weights (`train.init`).
package enum InitScheme: String, Sendable, CaseIterable {
    /// PyTorch's nn.Conv2d default (what the parity fixtures use).
    case pytorch
    /// He's init for LeakyReLU(leakySlope), biases zero.
    case kaiming
}

/// Keeps `t` if it already has `shape` (so its storage is reused), otherwise replaces it with zeros.
@inline(__always)
func ensure(_ t: inout Tensor, _ shape: [Int]) {
    if t.shape != shape { t = Tensor(zeros: shape) }
}

/// `ensure` for an (n, c, h, w) shape given by its sizes: no shape array is built unless the tensor is replaced.
@inline(__always)
func ensure(_ t: inout Tensor, _ n: Int, _ c: Int, _ h: Int, _ w: Int) {
    let s = t.shape
    if s.count != 4 || s[0] != n || s[1] != c || s[2] != h || s[3] != w { t = Tensor(zeros: [n, c, h, w]) }
}

/// A shared empty tensor: what a layer holds when it lets go of a buffer (assigning it allocates nothing).
let emptyTensor = Tensor(zeros: [0])

/// `ensure`, then fill with zeros: gradient buffers that backward passes accumulate into.
@inline(__always)
func zeroed(_ t: inout Tensor, _ shape: [Int]) {
    if t.shape != shape {
        t = Tensor(zeros: shape)
    } else {
        t.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// A parameter's value and gradient pointers, looked up by name.
struct ParameterPointers {
    let value: UnsafeMutablePointer<Float>
    let grad: UnsafeMutablePointer<Float>

    init(_ store: ParameterStore, _ name: String) {
        guard let e = store.entry(named: name) else { preconditionFailure("parameter '\(name)' is not in the store") }
        value = store.values(e).baseAddress!
        grad = store.grads(e).baseAddress!
    }
}

/// The leaky slope between layers (PyTorch LeakyReLU(0.2)).
package let leakySlope: Float = 0.2
