// Small pieces every loss kernel shares: the shape contract check, torch's sign, and a total order on floats.
import Numerics

extension LossInputs {
    /// Traps unless every tensor of the inputs and `gradDelta` has delta's (N, C, H, W) shape with N >= 1 and
    /// C*H*W >= 1: a mismatch is a programming error upstream, and a mean over zero elements has no value.
    func checkShapes(_ gradDelta: Tensor, term: String) {
        let s = delta.shape
        precondition(s.count == 4, "\(term): expected (N, C, H, W) tensors, got shape \(s)")
        precondition(s[0] >= 1 && delta.sampleCount >= 1, "\(term): empty batch \(s)")
        for (name, t) in [("gtDelta", gtDelta), ("logImage", logImage), ("output", output), ("target", target),
                          ("gradDelta", gradDelta)] {
            precondition(t.shape == s, "\(term): \(name) has shape \(t.shape), delta has \(s)")
        }
    }
}

/// One sample's share of a loss term: writes the sample's gradient and returns its sum of penalties.
protocol SampleSumJob {
    func sample(_ s: Int) -> Double
}

/// sum over s in 0..<count of job.sample(s), the samples split over the compute threads (each writes only its
/// own sample's gradient) and their sums added in sample order: the same value whatever the thread count.
func sumOverSamples<Job: SampleSumJob>(_ count: Int, _ job: Job) -> Double {
    withUnsafeTemporaryAllocation(of: Double.self, capacity: count) { sums in
        Parallel.chunks(count, minimum: 1, SampleSums(job: job, sums: sums))
        var total = 0.0
        for v in sums { total += v }
        return total
    }
}

private struct SampleSums<Job: SampleSumJob>: ParallelChunkJob {
    let job: Job
    let sums: UnsafeMutableBufferPointer<Double>
    func run(_ samples: Range<Int>) {
        for s in samples { sums.initializeElement(at: s, to: job.sample(s)) }
    }
}

/// torch.sign: -1, 0 or 1, so |e| has gradient 0 at e == 0; NaN stays NaN so a broken step is visible.
@inline(__always)
func torchSign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x)) }

@inline(__always)
func torchSign(_ x: Double) -> Double { x > 0 ? 1 : (x < 0 ? -1 : (x == 0 ? 0 : x)) }

/// Sorts `values[range]` by value; ties broken by position, so the permutation is deterministic.
/// - Returns: the positions (relative to `range.lowerBound`) in ascending order of value, (M).
func argsort(_ values: UnsafeBufferPointer<Float>, _ range: Range<Int>) -> [Int] {
    // One packed integer per element (key << 32 | index) sorts faster than a closure comparing floats.
    var packed = [UInt64](repeating: 0, count: range.count)
    for (j, i) in range.enumerated() { packed[j] = UInt64(OrderStatistics.key(values[i])) << 32 | UInt64(j) }
    packed.sort()
    return packed.map { Int($0 & 0xFFFF_FFFF) }
}

/// The values of `values[range]` in ascending total order, (M).
func sortedValues(_ values: UnsafeBufferPointer<Float>, _ range: Range<Int>) -> [Float] {
    var v = Array(values[range])
    v.sort { OrderStatistics.key($0) < OrderStatistics.key($1) }
    return v
}
