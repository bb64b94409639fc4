// All trainable parameters, their gradients and the optimizer's state in one contiguous buffer with named
// views: zero-grad is one fill, an optimizer step one loop, a checkpoint one write.

/// Layout: `[values | grads | state 0 | state 1 | ...]`, each region `count` floats, parameters packed in
/// registration order inside each region. Parameter shapes follow PyTorch (e.g. conv weight (out, in, kh, kw)).
/// A reference type: networks, optimizer and checkpoint code share one store. Not thread-safe for writes.
package final class ParameterStore: @unchecked Sendable {
    package struct Entry: Sendable, Equatable {
        package let name: String
        package let shape: [Int]
        /// Offset of the first value inside each region.
        package let offset: Int
        package let count: Int
    }

    package let entries: [Entry]
    /// Parameters (floats) in each region.
    package let count: Int
    /// Optimizer state regions after values and grads (AdamW: 2, SGD with momentum: 1, plain SGD: 0).
    package let stateSlots: Int
    private let base: UnsafeMutablePointer<Float>
    private let index: [String: Int]

    /// Allocates the store zero-filled. Duplicate or empty names and negative dimensions are refused.
    package init(layout: [(name: String, shape: [Int])], stateSlots: Int = 0) throws {
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var offset = 0
        for (name, shape) in layout {
            guard !name.isEmpty else { throw ParameterStoreError("parameter with an empty name") }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw ParameterStoreError("\(name): negative dimension in \(shape)")
            }
            guard index[name] == nil else { throw ParameterStoreError("duplicate parameter name '\(name)'") }
            let n = shape.reduce(1, *)
            index[name] = entries.count
            entries.append(Entry(name: name, shape: shape, offset: offset, count: n))
            offset += n
        }
        guard stateSlots >= 0 else { throw ParameterStoreError("negative optimizer state slots") }
        self.entries = entries
        self.index = index
        self.count = offset
        self.stateSlots = stateSlots
        let total = max(1, (2 + stateSlots) * offset)
        base = .allocate(capacity: total)
        base.initialize(repeating: 0, count: total)
    }

    deinit { base.deallocate() }

    private func region(_ r: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base + r * count, count: count)
    }

    /// Every parameter value, `count` floats.
    package var values: UnsafeMutableBufferPointer<Float> { region(0) }
    /// Every gradient, same layout as `values`. Backward passes accumulate into it (+=).
    package var grads: UnsafeMutableBufferPointer<Float> { region(1) }
    /// Optimizer state slot `k` (0 ..< stateSlots), same layout as `values`.
    package func state(_ k: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(k >= 0 && k < stateSlots, "state slot \(k) of \(stateSlots)")
        return region(2 + k)
    }

    package func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    package func values(_ e: Entry) -> UnsafeMutableBufferPointer<Float> { slice(region(0), e) }
    package func grads(_ e: Entry) -> UnsafeMutableBufferPointer<Float> { slice(region(1), e) }

    private func slice(_ r: UnsafeMutableBufferPointer<Float>, _ e: Entry) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: r[e.offset..<(e.offset + e.count)])
    }

    /// Sets every gradient to 0 (one fill).
    package func zeroGrads() { grads.update(repeating: 0) }
}

package struct ParameterStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
