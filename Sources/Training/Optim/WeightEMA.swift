// The exponential moving average of the weights (`train.ema`): one buffer in the store's layout, one pass per update.
import Numerics

/// `ema = decay * ema + (1 - decay) * w` over every parameter after each applied optimizer update
/// (docs/conventions.md, "EMA of the weights"). `values` has the store's layout: `store.count` floats, each
/// parameter at its entry's offset, so a checkpoint writes it under the same names with `ema.` in front.
package final class WeightEMA: @unchecked Sendable {
    /// `train.ema`, in (0, 1).
    package let decay: Double
    /// `decay` and `1 - decay` (the subtraction in Double), each rounded to float32 once.
    let keep: Float
    let take: Float
    /// The averaged weights, `count` floats.
    package let values: UnsafeMutableBufferPointer<Float>

    /// A zero-filled average for a store of `count` parameters; `reset(to:)` starts it at the weights.
    package init(decay: Double, count: Int) {
        precondition(decay > 0 && decay < 1, "EMA decay \(decay) outside (0, 1)")
        self.decay = decay
        keep = Float(decay)
        take = Float(1 - decay)
        let base = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        base.initialize(repeating: 0, count: max(1, count))
        values = UnsafeMutableBufferPointer(start: base, count: count)
    }

    deinit { values.baseAddress!.deallocate() }

    /// ema = w: the start of a run (step 0, or the `train.init_from` weights).
    package func reset(to store: ParameterStore) {
        precondition(store.count == values.count, "EMA of \(values.count) values, store of \(store.count)")
        _ = values.update(fromContentsOf: store.values)
    }

    /// One update from the store's current values: `ema[i] = keep * ema[i] + take * w[i]`, float32, two products
    /// and a sum, each rounded (no fused multiply-add). One pass over the flat buffer; allocates nothing.
    package func update(from store: ParameterStore) {
        precondition(store.count == values.count, "EMA of \(values.count) values, store of \(store.count)")
        let e = values.baseAddress!
        let w = UnsafePointer(store.values.baseAddress!)
        let (keep, take) = (self.keep, self.take)
        for i in 0..<values.count { e[i] = keep * e[i] + take * w[i] }
    }

    /// Runs `body` with the averaged weights in the store (validation), then puts the trained weights back; both
    /// exchanges are moves, so the store ends bit for bit as it was.
    package func withAveragedWeights<R>(in store: ParameterStore, _ body: () throws -> R) rethrows -> R {
        exchange(with: store)
        defer { exchange(with: store) }
        return try body()
    }

    private func exchange(with store: ParameterStore) {
        precondition(store.count == values.count, "EMA of \(values.count) values, store of \(store.count)")
        let e = values.baseAddress!
        let w = store.values.baseAddress!
        for i in 0..<values.count {
            let t = e[i]
            e[i] = w[i]
            w[i] = t
        }
    }
}
