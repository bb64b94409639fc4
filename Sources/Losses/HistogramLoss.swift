// Distribution matching of residuals: L1 between the sorted values of predicted and ground-truth delta.
import Numerics

/// Per sample s with M = C*H*W values: sort pred delta and gt delta ascending,
/// term_s = (1/M) sum_k |sorted_p[k] - sorted_g[k]|; value = mean over the batch of term_s.
/// It ignores where a value sits, only which values occur (docs/conventions.md, Phase 3).
///
/// Gradient flows back through the sort permutation of pred: the element that landed at rank k gets
/// sign(sorted_p[k] - sorted_g[k]) / (M * N); gt carries no gradient. Ties are ordered by position and
/// -0 sorts before +0 (IEEE total order), so the permutation, and hence the gradient, is deterministic.
package struct HistogramLoss: ParameterlessLossTerm {
    package static let type = "histogram"
    package var domain: LossDomain { .delta }

    /// The sorts' buffers, one slot per parallel part, kept from one call to the next (copies of the term share
    /// it: one evaluation at a time, as a network's workspace).
    private let workspace = Workspace()

    package init() {}

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        inputs.checkShapes(gradDelta, term: Self.type)
        let n = inputs.delta.shape[0]
        let m = inputs.delta.sampleCount
        let scale = Float(weight / Double(m * n))
        return inputs.delta.storage.withUnsafeBufferPointer { p in
            inputs.gtDelta.storage.withUnsafeBufferPointer { t in
                gradDelta.storage.withUnsafeMutableBufferPointer { g in
                    sumOverSamples(
                        n,
                        SampleJob(
                            delta: p, gtDelta: t, gradDelta: g, sampleCount: m, scale: scale, slots: workspace),
                        slots: workspace)
                }
            }
        } / Double(n)
    }

    /// One sample: its mean |sorted delta - sorted gtDelta|, the gradient written through delta's sort order.
    private struct SampleJob: SampleSumJob {
        let delta: UnsafeBufferPointer<Float>, gtDelta: UnsafeBufferPointer<Float>
        let gradDelta: UnsafeMutableBufferPointer<Float>
        let sampleCount: Int, scale: Float
        let slots: Workspace

        func sample(_ s: Int, part: Int) -> Double {
            let m = sampleCount
            let base = s * m
            let p = UnsafeBufferPointer(rebasing: delta[base..<(base + m)])
            let t = UnsafeBufferPointer(rebasing: gtDelta[base..<(base + m)])
            // The sorts' memory: this part's slot, kept from one call to the next.
            let scratchCount = OrderStatistics.keyedSortScratch(m)
            let raw = slots.slot(part).reserveBytes(scratchCount * 8 + m * 8)
            let scratch = UnsafeMutableBufferPointer(
                start: raw.bindMemory(to: UInt64.self, capacity: scratchCount),
                count: scratchCount)
            let gtSorted = UnsafeMutableBufferPointer(
                start: (raw + scratchCount * 8).bindMemory(to: Float.self, capacity: m), count: m)
            let order = UnsafeMutableBufferPointer(
                start: (raw + scratchCount * 8 + m * 4).bindMemory(to: Int32.self, capacity: m), count: m)
            OrderStatistics.sorted(t, into: gtSorted, scratch: scratch)
            OrderStatistics.argsort(p, into: order, scratch: scratch)
            var sum = 0.0
            for k in 0..<m {
                let i = base + Int(order[k])
                let e = delta[i] - gtSorted[k]
                sum += Double(abs(e))
                gradDelta[i] += scale * torchSign(e)
            }
            return sum / Double(m)
        }
    }
}
