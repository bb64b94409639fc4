// One convolution with its PyTorch-named parameters and saved input: the building block of both networks.
import Numerics

/// conv(name.weight, name.bias) over an input it keeps for backward.
final class ConvLayer {
    let name: String
    let conv: Conv2D
    /// The parameters' names in the store, built once (a step looks them up without building strings).
    private let weightName: String, biasName: String
    /// The forward's input, (N, Cin, H, W) (a reference to the caller's tensor: not copied unless written).
    private(set) var input = emptyTensor
    /// The forward's output, (N, Cout, Ho, Wo).
    var output = emptyTensor

    init(
        _ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, workspace: Workspace
    ) {
        self.name = name
        weightName = name + ".weight"
        biasName = name + ".bias"
        conv = Conv2D(
            inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
            padding: padding, workspace: workspace)
    }

    var layout: [(name: String, shape: [Int])] {
        [(name + ".weight", conv.weightShape), (name + ".bias", conv.biasShape)]
    }

    /// - Parameter x: (N, Cin, H, W). - Returns: the output buffer (valid until the next forward).
    @discardableResult
    func forward(_ x: Tensor, store: ParameterStore) -> Tensor {
        input = x
        let size = conv.outputSize(input: x.shape)
        ensure(&output, x.shape[0], conv.outChannels, size.height, size.width)
        let w = ParameterPointers(store, weightName)
        let b = ParameterPointers(store, biasName)
        conv.forward(output: &output, input: x, weight: w.value, bias: b.value)
        return output
    }

    /// Drops the reference to the last forward's input, so that its owner writes it in place next time (a
    /// buffer with two references is copied on write).
    func releaseInput() { input = emptyTensor }

    /// Accumulates weight and bias gradients into the store, and d input into `dInput` when given.
    func backward(_ dOutput: Tensor, dInput: inout Tensor?, store: ParameterStore) {
        let w = ParameterPointers(store, weightName)
        let b = ParameterPointers(store, biasName)
        if dInput != nil {
            conv.backward(
                dInput: &dInput!, dWeight: w.grad, dBias: b.grad, dOutput: dOutput, input: input, weight: w.value)
        } else {
            conv.backward(dWeight: w.grad, dBias: b.grad, dOutput: dOutput, input: input)
        }
    }
}
