// exp and log as forward/backward pairs: the reconstruction out = exp(ln_hat) - eps and the log-domain input.
import Glibc

/// y = exp(x). Overflows to +inf above x ~ 88.72 (float32): the overflow monitor counts that, this op does not
/// hide it. Backward uses the saved output: dy/dx = y.
public enum Exp {
    /// - Parameter output: same shape as input, overwritten; keep it for backward.
    public static func forward(output: inout Tensor, input: Tensor) {
        withPointwise(&output, input, "Exp.forward") { y, x, n in
            for i in 0..<n { y[i] = expf(x[i]) }
        }
    }

    /// dInput += dOutput * output.
    /// - Parameter output: the forward's output (saved).
    public static func backward(dInput: inout Tensor, dOutput: Tensor, output: Tensor) {
        withPointwise(&dInput, dOutput, output, "Exp.backward") { dx, dy, y, n in
            for i in 0..<n { dx[i] += dy[i] * y[i] }
        }
    }
}

/// y = log(x) (natural). x must be > 0: 0 gives -inf, negatives NaN; callers add their eps first.
public enum Log {
    /// - Parameter output: same shape as input, overwritten.
    public static func forward(output: inout Tensor, input: Tensor) {
        withPointwise(&output, input, "Log.forward") { y, x, n in
            for i in 0..<n { y[i] = logf(x[i]) }
        }
    }

    /// dInput += dOutput / input.
    /// - Parameter input: the forward's input (saved).
    public static func backward(dInput: inout Tensor, dOutput: Tensor, input: Tensor) {
        withPointwise(&dInput, dOutput, input, "Log.backward") { dx, dy, x, n in
            for i in 0..<n { dx[i] += dy[i] / x[i] }
        }
    }
}
