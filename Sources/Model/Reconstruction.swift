// Builds a term's inputs from what the model produced (delta, logImage) and the clean target.
import Glibc
import Losses
import Numerics

/// The model's two element-wise formulas, in one place for training, evaluation and the loss terms.
/// Float32 arithmetic in PyTorch's order, like `LogNorm`: the sums are float32, log and exp are computed in Double
/// and rounded once (correctly rounded; torch's are within an ulp), the final subtraction is float32.
package enum Reconstruction {
    /// output = max(exp(logImage + delta) - eps, 0): radiance is never negative (docs/conventions.md). Where
    /// exp(logImage + delta) < eps the bound holds the output at 0 and its gradient is 0 (torch.clamp(min=0)'s:
    /// the linear-domain loss terms already give no gradient below 0). exp overflow gives +inf, left for the monitor
    /// to count.
    /// - Parameters: logImage, delta: (N, C, H, W), the same shape.
    package static func output(logImage: Tensor, delta: Tensor, eps: Float) -> Tensor {
        var output = Tensor(zeros: delta.shape)
        self.output(logImage: logImage, delta: delta, eps: eps, into: &output)
        return output
    }

    /// The same into `output` (reallocated only if its shape differs). Returns how many elements were below 0
    /// before the bound (the monitor's `negative_pixels`).
    @discardableResult
    package static func output(logImage: Tensor, delta: Tensor, eps: Float, into output: inout Tensor) -> Int {
        precondition(
            logImage.shape == delta.shape, "Reconstruction: logImage \(logImage.shape) vs delta \(delta.shape)")
        if output.shape != delta.shape { output = Tensor(zeros: delta.shape) }
        let total = delta.count
        let parts = max(1, min(Parallel.threads, total / 4096))
        return delta.storage.withUnsafeBufferPointer { d in
            logImage.storage.withUnsafeBufferPointer { l in
                output.storage.withUnsafeMutableBufferPointer { o in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: parts) { below in
                        Parallel.run(
                            parts,
                            OutputJob(logImage: l, delta: d, output: o, eps: eps, parts: parts, below: below))
                        return below.reduce(0, +)
                    }
                }
            }
        }
    }

    /// gtDelta = log(target + eps) - logImage: the residual that reproduces the target exactly.
    /// - Parameters: target (expected >= 0), logImage: (N, C, H, W), the same shape.
    package static func groundTruthDelta(target: Tensor, logImage: Tensor, eps: Float) -> Tensor {
        var gtDelta = Tensor(zeros: target.shape)
        groundTruthDelta(target: target, logImage: logImage, eps: eps, into: &gtDelta)
        return gtDelta
    }

    /// The same into `gtDelta` (reallocated only if its shape differs).
    package static func groundTruthDelta(target: Tensor, logImage: Tensor, eps: Float, into gtDelta: inout Tensor) {
        precondition(
            logImage.shape == target.shape, "Reconstruction: logImage \(logImage.shape) vs target \(target.shape)")
        if gtDelta.shape != target.shape { gtDelta = Tensor(zeros: target.shape) }
        target.storage.withUnsafeBufferPointer { t in
            logImage.storage.withUnsafeBufferPointer { l in
                gtDelta.storage.withUnsafeMutableBufferPointer { g in
                    Parallel.chunks(t.count, GroundTruthJob(target: t, logImage: l, gtDelta: g, eps: eps))
                }
            }
        }
    }

    // The two loops as values (a step runs them every time: no closure, nothing allocated).
    private struct OutputJob: ParallelJob {
        let logImage: UnsafeBufferPointer<Float>, delta: UnsafeBufferPointer<Float>
        let output: UnsafeMutableBufferPointer<Float>, eps: Float
        let parts: Int, below: UnsafeMutableBufferPointer<Int>
        func run(part: Int) {
            let range = Parallel.share(part, of: parts, total: delta.count)
            below[part] = VectorMath.expFloor(
                UnsafeBufferPointer(rebasing: logImage[range]), plus: UnsafeBufferPointer(rebasing: delta[range]),
                minus: eps, into: UnsafeMutableBufferPointer(rebasing: output[range]))
        }
    }

    private struct GroundTruthJob: ParallelChunkJob {
        let target: UnsafeBufferPointer<Float>, logImage: UnsafeBufferPointer<Float>
        let gtDelta: UnsafeMutableBufferPointer<Float>, eps: Float
        func run(_ range: Range<Int>) {
            VectorMath.log(
                UnsafeBufferPointer(rebasing: target[range]), adding: eps,
                minus: UnsafeBufferPointer(rebasing: logImage[range]),
                into: UnsafeMutableBufferPointer(rebasing: gtDelta[range]))
        }
    }
}

extension LossInputs {
    /// gtDelta and output from `Reconstruction`, element by element.
    /// - Parameters:
    ///   - delta: residual after the head's safety clamp, (N, C, H, W).
    ///   - logImage: log(input + eps), (N, C, H, W), as `LogNorm` produced it.
    ///   - target: clean linear target, (N, C, H, W), expected >= 0.
    ///   - eps: the same eps `LogNorm` used.
    ///   - regions: the samples' region masks (N, 1, H, W), when the set has them.
    package init(delta: Tensor, logImage: Tensor, target: Tensor, eps: Float, regions: Tensor? = nil) {
        precondition(
            logImage.shape == delta.shape && target.shape == delta.shape,
            "LossInputs: shapes differ: delta \(delta.shape), logImage \(logImage.shape), target \(target.shape)")
        self.init(
            delta: delta, gtDelta: Reconstruction.groundTruthDelta(target: target, logImage: logImage, eps: eps),
            logImage: logImage, output: Reconstruction.output(logImage: logImage, delta: delta, eps: eps),
            target: target, eps: eps, regions: regions)
    }
}
