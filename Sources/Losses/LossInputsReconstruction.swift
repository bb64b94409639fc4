// Builds a term's inputs from what the model produced (delta, logImage) and the clean target.
import Glibc
import Numerics

extension LossInputs {
    /// gtDelta = log(target + eps) - logImage and output = exp(logImage + delta) - eps, element by element.
    ///
    /// Float32 arithmetic in PyTorch's order, like `LogNorm`: `target + eps` and `logImage + delta` are float32
    /// sums, log and exp are computed in Double and rounded once (correctly rounded; torch's are within an ulp),
    /// and the final subtraction is float32. exp overflow gives output = +inf, left for the monitor to count.
    /// - Parameters:
    ///   - delta: residual after the head's safety clamp, (N, C, H, W).
    ///   - logImage: log(input + eps), (N, C, H, W), as `LogNorm` produced it.
    ///   - target: clean linear target, (N, C, H, W), expected >= 0.
    ///   - eps: the same eps `LogNorm` used.
    public init(delta: Tensor, logImage: Tensor, target: Tensor, eps: Float) {
        precondition(logImage.shape == delta.shape && target.shape == delta.shape,
                     "LossInputs: shapes differ: delta \(delta.shape), logImage \(logImage.shape), target \(target.shape)")
        var gtDelta = Tensor(zeros: delta.shape)
        var output = Tensor(zeros: delta.shape)
        delta.storage.withUnsafeBufferPointer { d in
            logImage.storage.withUnsafeBufferPointer { l in
                target.storage.withUnsafeBufferPointer { t in
                    gtDelta.storage.withUnsafeMutableBufferPointer { g in
                        output.storage.withUnsafeMutableBufferPointer { o in
                            for i in 0..<d.count {
                                g[i] = Float(log(Double(t[i] + eps))) - l[i]
                                o[i] = Float(exp(Double(l[i] + d[i]))) - eps
                            }
                        }
                    }
                }
            }
        }
        self.init(delta: delta, gtDelta: gtDelta, logImage: logImage, output: output, target: target, eps: eps)
    }
}
