// Stable LSD radix sorting on IEEE total-order keys (OrderStatistics.key): the sorts a loss runs every step,
// in caller-provided memory, nothing allocated.

extension OrderStatistics {
    /// Sorts `items` ascending by the 32-bit key in their upper half, stably (items with equal keys keep their
    /// order, so a position in the lower half breaks ties). Four 8-bit counting passes after one histogram
    /// pass; a pass whose byte is the same for every item is skipped.
    /// - Parameter scratch: at least `sortScratch(items.count)` elements (a second copy of the items and the byte
    ///   counts), overwritten.
    package static func sortByKey(
        _ items: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableBufferPointer<UInt64>
    ) {
        let n = items.count
        precondition(
            scratch.count >= sortScratch(n), "OrderStatistics.sortByKey: scratch of \(scratch.count) for \(n) items")
        if n < 2 { return }
        guard let a = items.baseAddress, let b = scratch.baseAddress else { return }
        // Byte counts of the four passes, after the scratch's n items.
        let counts = b + n
        counts.update(repeating: 0, count: 4 * 256)
        for item in items {
            let k = Int(truncatingIfNeeded: item >> 32)
            counts[k & 0xff] += 1
            counts[256 + (k >> 8 & 0xff)] += 1
            counts[512 + (k >> 16 & 0xff)] += 1
            counts[768 + (k >> 24 & 0xff)] += 1
        }
        var src = a
        var dst = b
        for pass in 0..<4 {
            let count = counts + 256 * pass
            let shift = UInt64(32 + 8 * pass)
            // Every item has the same byte here: the pass would move nothing.
            if count[Int(truncatingIfNeeded: src[0] >> shift & 0xff)] == UInt64(n) { continue }
            // Counts become each byte's first slot.
            var start: UInt64 = 0
            for d in 0..<256 {
                let c = count[d]
                count[d] = start
                start += c
            }
            for i in 0..<n {
                let item = src[i]
                let d = Int(truncatingIfNeeded: item >> shift & 0xff)
                dst[Int(truncatingIfNeeded: count[d])] = item
                count[d] += 1
            }
            swap(&src, &dst)
        }
        if src != a { a.update(from: src, count: n) }
    }

    /// Scratch elements `sortByKey` needs for n items: n, and 4 x 256 byte counts.
    package static func sortScratch(_ n: Int) -> Int { n + 4 * 256 }

    /// Scratch elements `argsort` and `sorted` need for n values: the keyed items and `sortScratch(n)`.
    package static func keyedSortScratch(_ n: Int) -> Int { n + sortScratch(n) }

    /// Positions of `values` in ascending total order, ties by position (a stable argsort), into `order`.
    /// - Parameters: order: values.count elements; scratch: `keyedSortScratch(values.count)` elements, overwritten.
    package static func argsort(
        _ values: UnsafeBufferPointer<Float>, into order: UnsafeMutableBufferPointer<Int32>,
        scratch: UnsafeMutableBufferPointer<UInt64>
    ) {
        let n = values.count
        precondition(
            order.count >= n && scratch.count >= keyedSortScratch(n) && n <= Int(Int32.max),
            "OrderStatistics.argsort: buffers for \(n) values")
        let items = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        for i in 0..<n { items[i] = UInt64(key(values[i])) << 32 | UInt64(i) }
        sortByKey(items, scratch: UnsafeMutableBufferPointer(rebasing: scratch[n...]))
        for i in 0..<n { order[i] = Int32(truncatingIfNeeded: items[i]) }
    }

    /// `values` in ascending total order (-0 before +0, NaNs at the ends by sign), into `sorted`.
    /// - Parameters: sorted: values.count elements; scratch: `keyedSortScratch(values.count)` elements, overwritten.
    package static func sorted(
        _ values: UnsafeBufferPointer<Float>, into sorted: UnsafeMutableBufferPointer<Float>,
        scratch: UnsafeMutableBufferPointer<UInt64>
    ) {
        let n = values.count
        precondition(
            sorted.count >= n && scratch.count >= keyedSortScratch(n), "OrderStatistics.sorted: buffers for \(n) values"
        )
        let items = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        for i in 0..<n { items[i] = UInt64(key(values[i])) << 32 }
        sortByKey(items, scratch: UnsafeMutableBufferPointer(rebasing: scratch[n...]))
        for i in 0..<n { sorted[i] = value(UInt32(truncatingIfNeeded: items[i] >> 32)) }
    }
}
