// Elementwise add, multiply and scalar scale of same-shaped tensors (no broadcasting: a shape mismatch traps).

/// y = a + b.
public enum Add {
    /// - Parameter output: shape of a and b, overwritten.
    public static func forward(output: inout Tensor, a: Tensor, b: Tensor) {
        withPointwise(&output, a, b, "Add.forward") { y, a, b, n in
            for i in 0..<n { y[i] = a[i] + b[i] }
        }
    }

    /// dA += dOutput and dB += dOutput.
    public static func backward(dA: inout Tensor, dB: inout Tensor, dOutput: Tensor) {
        backward(dInput: &dA, dOutput: dOutput)
        backward(dInput: &dB, dOutput: dOutput)
    }

    /// One operand's gradient, dInput += dOutput: use it when the other operand is data (no gradient).
    public static func backward(dInput: inout Tensor, dOutput: Tensor) {
        withPointwise(&dInput, dOutput, "Add.backward") { dx, dy, n in
            for i in 0..<n { dx[i] += dy[i] }
        }
    }
}

/// y = a * b.
public enum Mul {
    /// - Parameter output: shape of a and b, overwritten.
    public static func forward(output: inout Tensor, a: Tensor, b: Tensor) {
        withPointwise(&output, a, b, "Mul.forward") { y, a, b, n in
            for i in 0..<n { y[i] = a[i] * b[i] }
        }
    }

    /// dA += dOutput * b and dB += dOutput * a.
    /// - Parameter a: the forward's first operand (saved).
    /// - Parameter b: the forward's second operand (saved).
    public static func backward(dA: inout Tensor, dB: inout Tensor, dOutput: Tensor, a: Tensor, b: Tensor) {
        backward(dInput: &dA, dOutput: dOutput, other: b)
        backward(dInput: &dB, dOutput: dOutput, other: a)
    }

    /// One operand's gradient, dInput += dOutput * other, where `other` is the forward's other operand.
    public static func backward(dInput: inout Tensor, dOutput: Tensor, other: Tensor) {
        withPointwise(&dInput, dOutput, other, "Mul.backward") { dx, dy, o, n in
            for i in 0..<n { dx[i] += dy[i] * o[i] }
        }
    }
}

/// y = factor * x, factor a constant (not a parameter: a trainable scale is a `Mul` with its gradient summed).
public enum Scale {
    /// - Parameter output: shape of input, overwritten.
    public static func forward(output: inout Tensor, input: Tensor, factor: Float) {
        withPointwise(&output, input, "Scale.forward") { y, x, n in
            for i in 0..<n { y[i] = factor * x[i] }
        }
    }

    /// dInput += factor * dOutput.
    public static func backward(dInput: inout Tensor, dOutput: Tensor, factor: Float) {
        withPointwise(&dInput, dOutput, "Scale.backward") { dx, dy, n in
            for i in 0..<n { dx[i] += factor * dy[i] }
        }
    }
}
