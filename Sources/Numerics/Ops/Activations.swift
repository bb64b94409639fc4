// Activation functions as forward/backward pairs, any shape: LeakyReLU, ReLU, tanh (PyTorch semantics,
// including the gradient at exactly 0).
import Glibc

/// y = x if x > 0 else slope * x. Gradient at x == 0 is `slope` (as torch.nn.LeakyReLU).
package enum LeakyReLU {
    /// - Parameter output: same shape as input, overwritten.
    /// - Parameter input: any shape.
    package static func forward(output: inout Tensor, input: Tensor, slope: Float) {
        withPointwise(&output, input, "LeakyReLU.forward") { y, x, n in
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
        }
    }

    /// dInput += dOutput * (input > 0 ? 1 : slope).
    /// - Parameter dInput: shape of input, added to.
    /// - Parameter dOutput: shape of input.
    /// - Parameter input: the forward's input (saved).
    package static func backward(dInput: inout Tensor, dOutput: Tensor, input: Tensor, slope: Float) {
        withPointwise(&dInput, dOutput, input, "LeakyReLU.backward") { dx, dy, x, n in
            for i in 0..<n { dx[i] += x[i] > 0 ? dy[i] : slope * dy[i] }
        }
    }
}
