// Activation functions as forward/backward pairs, any shape: LeakyReLU, ReLU, tanh (PyTorch semantics,
// including the gradient at exactly 0).
import Glibc

/// y = x if x > 0 else slope * x. Gradient at x == 0 is `slope` (as torch.nn.LeakyReLU).
public enum LeakyReLU {
    /// - Parameter output: same shape as input, overwritten.
    /// - Parameter input: any shape.
    public static func forward(output: inout Tensor, input: Tensor, slope: Float) {
        withPointwise(&output, input, "LeakyReLU.forward") { y, x, n in
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
        }
    }

    /// dInput += dOutput * (input > 0 ? 1 : slope).
    /// - Parameter dInput: shape of input, added to.
    /// - Parameter dOutput: shape of input.
    /// - Parameter input: the forward's input (saved).
    public static func backward(dInput: inout Tensor, dOutput: Tensor, input: Tensor, slope: Float) {
        withPointwise(&dInput, dOutput, input, "LeakyReLU.backward") { dx, dy, x, n in
            for i in 0..<n { dx[i] += x[i] > 0 ? dy[i] : slope * dy[i] }
        }
    }
}

/// y = max(x, 0). Gradient at x == 0 is 0 (as torch.relu).
public enum ReLU {
    /// - Parameter output: same shape as input, overwritten.
    public static func forward(output: inout Tensor, input: Tensor) {
        withPointwise(&output, input, "ReLU.forward") { y, x, n in
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : 0 }
        }
    }

    /// dInput += dOutput where input > 0.
    /// - Parameter input: the forward's input (saved).
    public static func backward(dInput: inout Tensor, dOutput: Tensor, input: Tensor) {
        withPointwise(&dInput, dOutput, input, "ReLU.backward") { dx, dy, x, n in
            for i in 0..<n where x[i] > 0 { dx[i] += dy[i] }
        }
    }
}

/// y = tanh(x). Backward uses the saved output: dy/dx = 1 - y^2. Near saturation (|y| -> 1) that difference
/// keeps its absolute accuracy (about 1e-7) but loses relative accuracy, which is harmless for training.
public enum Tanh {
    /// - Parameter output: same shape as input, overwritten; keep it for backward.
    public static func forward(output: inout Tensor, input: Tensor) {
        withPointwise(&output, input, "Tanh.forward") { y, x, n in
            for i in 0..<n { y[i] = tanhf(x[i]) }
        }
    }

    /// dInput += dOutput * (1 - output^2).
    /// - Parameter output: the forward's output (saved).
    public static func backward(dInput: inout Tensor, dOutput: Tensor, output: Tensor) {
        withPointwise(&dInput, dOutput, output, "Tanh.backward") { dx, dy, y, n in
            for i in 0..<n { dx[i] += dy[i] * (1 - y[i] * y[i]) }
        }
    }
}
