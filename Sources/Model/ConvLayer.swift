// One convolution with its PyTorch-named parameters and saved input: the building block of both networks.
import Numerics

/// conv(name.weight, name.bias) over an input it keeps for backward.
final class ConvLayer {
    let name: String
    let conv: Conv2D
    /// The forward's input, (N, Cin, H, W) (a reference to the caller's tensor: not copied unless written).
    private(set) var input = Tensor(zeros: [0])
    /// The forward's output, (N, Cout, Ho, Wo).
    var output = Tensor(zeros: [0])

    init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, workspace: Workspace) {
        self.name = name
        conv = Conv2D(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
                      padding: padding, workspace: workspace)
    }

    var layout: [(name: String, shape: [Int])] { [(name + ".weight", conv.weightShape), (name + ".bias", conv.biasShape)] }

    /// - Parameter x: (N, Cin, H, W). - Returns: the output buffer (valid until the next forward).
    @discardableResult
    func forward(_ x: Tensor, store: ParameterStore) -> Tensor {
        input = x
        ensure(&output, conv.outputShape(input: x.shape))
        let w = ParameterPointers(store, name + ".weight"), b = ParameterPointers(store, name + ".bias")
        conv.forward(output: &output, input: x, weight: w.value, bias: b.value)
        return output
    }

    /// Accumulates weight and bias gradients into the store, and d input into `dInput` when given.
    func backward(_ dOutput: Tensor, dInput: inout Tensor?, store: ParameterStore) {
        let w = ParameterPointers(store, name + ".weight"), b = ParameterPointers(store, name + ".bias")
        if dInput != nil {
            conv.backward(dInput: &dInput!, dWeight: w.grad, dBias: b.grad, dOutput: dOutput, input: input, weight: w.value)
        } else {
            conv.backward(dWeight: w.grad, dBias: b.grad, dOutput: dOutput, input: input)
        }
    }
}
