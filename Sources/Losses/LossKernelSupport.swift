// Small pieces every loss kernel shares: the shape contract check, per-sample sums over the threads, torch's sign.
import Numerics

extension LossInputs {
    /// Traps unless every tensor of the inputs and `gradDelta` has delta's (N, C, H, W) shape with N >= 1 and
    /// C*H*W >= 1: a mismatch is a programming error upstream, and a mean over zero elements has no value.
    func checkShapes(_ gradDelta: Tensor, term: String) {
        let s = delta.shape
        precondition(s.count == 4, "\(term): expected (N, C, H, W) tensors, got shape \(s)")
        precondition(s[0] >= 1 && delta.sampleCount >= 1, "\(term): empty batch \(s)")
        for (name, t) in [
            ("gtDelta", gtDelta), ("logImage", logImage), ("output", output), ("target", target),
            ("gradDelta", gradDelta)
        ] {
            precondition(t.shape == s, "\(term): \(name) has shape \(t.shape), delta has \(s)")
        }
    }
}

/// One sample's share of a loss term: writes the sample's gradient and returns its sum of penalties.
protocol SampleSumJob {
    /// Sample `s`'s value; `part` is the parallel part running it (the index of a scratch slot it may use).
    func sample(_ s: Int, part: Int) -> Double
}

/// sum over s in 0..<count of job.sample(s), the samples split over the compute threads (each writes only its
/// own sample's gradient) and their sums added in sample order: the same value whatever the thread count.
/// - Parameter slots: a workspace whose slots the job uses by `part`; its slots are made ready here.
func sumOverSamples<Job: SampleSumJob>(_ count: Int, _ job: Job, slots: Workspace? = nil) -> Double {
    let parts = max(1, min(Parallel.threads, count))
    slots?.ensureSlots(parts)
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: count) { sums in
        Parallel.run(parts, SampleSums(job: job, sums: sums, parts: parts))
        var total = 0.0
        for v in sums { total += v }
        return total
    }
}

private struct SampleSums<Job: SampleSumJob>: ParallelJob {
    let job: Job
    let sums: UnsafeMutableBufferPointer<Double>
    let parts: Int
    func run(part: Int) {
        for s in Parallel.share(part, of: parts, total: sums.count) {
            sums.initializeElement(at: s, to: job.sample(s, part: part))
        }
    }
}

/// What a term on the linear output reads and writes, per element: output and target (N * M each), the gradient
/// to accumulate into, and the mean's factor weight / (N * M).
struct OutputTermBuffers {
    let output: UnsafeBufferPointer<Float>, target: UnsafeBufferPointer<Float>
    let gradDelta: UnsafeMutableBufferPointer<Float>
    let sampleCount: Int, scale: Double, eps: Double
}

/// The frame of the per-sample terms on the linear output (mu_law_l1, mu_law_mse, pu21_l1): the value is the mean over all
/// N * M elements of the per-sample sums `job` computes; the gradient, accumulated by the job, carries weight / (N * M).
func meanOverOutputSamples<Job: SampleSumJob>(
    _ inputs: LossInputs, weight: Double, gradDelta: inout Tensor, term: String,
    _ job: (OutputTermBuffers) -> Job
) -> Double {
    inputs.checkShapes(gradDelta, term: term)
    let n = inputs.delta.shape[0]
    let m = inputs.delta.sampleCount
    let scale = weight / Double(n * m)
    return inputs.output.storage.withUnsafeBufferPointer { out in
        inputs.target.storage.withUnsafeBufferPointer { tgt in
            gradDelta.storage.withUnsafeMutableBufferPointer { g in
                sumOverSamples(
                    n,
                    job(
                        OutputTermBuffers(
                            output: out, target: tgt, gradDelta: g, sampleCount: m, scale: scale,
                            eps: Double(inputs.eps))))
            }
        }
    } / Double(n * m)
}

/// torch.sign: -1, 0 or 1, so |e| has gradient 0 at e == 0; NaN stays NaN so a broken step is visible.
@inline(__always)
func torchSign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x)) }

@inline(__always)
func torchSign(_ x: Double) -> Double { x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x)) }
