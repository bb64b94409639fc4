// Exact order statistics of float data by radix selection on IEEE total-order keys: O(n), no sort.

package enum OrderStatistics {
    /// An unsigned key whose integer order is the IEEE total order of the float (-NaN < -inf < ... < -0 < +0 <
    /// ... < +inf < +NaN), so selection never meets an inconsistent comparison, whatever the data.
    @inline(__always)
    package static func key(_ x: Float) -> UInt32 {
        let b = x.bitPattern
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// The inverse of `key`.
    @inline(__always)
    package static func value(_ key: UInt32) -> Float {
        Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7fff_ffff : ~key)
    }

    /// The k-th smallest value (0-based, total order) of `values` for each k of `ranks`: one counting pass
    /// over the keys' upper 16 bits, one pass gathering the values of the buckets that hold a wanted rank, then
    /// two 8-bit counting passes over each such bucket. For several ranks of a large array (a monitor's
    /// percentiles), about two passes over the data in all.
    /// - Parameters: ranks: each in 0 ..< values.count; result: the same count as ranks.
    package static func select(_ values: UnsafeBufferPointer<Float>, ranks: [Int]) -> [Float] {
        ranks.withUnsafeBufferPointer { r in
            [Float](unsafeUninitializedCapacity: r.count) { result, count in
                select(values, ranks: r, into: result, scratch: Workspace())
                count = r.count
            }
        }
    }

    /// The same into `result` (ranks.count elements), with nothing allocated once `scratch` has grown: the bucket
    /// counts and the gathered keys live there (its contents are overwritten).
    package static func select(
        _ values: UnsafeBufferPointer<Float>, ranks: UnsafeBufferPointer<Int>,
        into result: UnsafeMutableBufferPointer<Float>, scratch: Workspace
    ) {
        let n = values.count
        let r = ranks.count
        precondition(ranks.allSatisfy { $0 >= 0 && $0 < n }, "OrderStatistics: ranks \(Array(ranks)) of \(n) values")
        precondition(n <= Int(Int32.max) && result.count >= r, "OrderStatistics: \(n) values, \(r) ranks")
        if r == 0 { return }
        // Scratch: 2^16 bucket counts; per rank its bucket, its rank within it, its slot and its place in rank
        // order; per slot its start and fill position; then the gathered keys (at most n).
        let buckets = 1 << 16
        let raw = scratch.reserveBytes(buckets * 4 + 6 * r * 8 + n * 4)
        let counts = raw.bindMemory(to: Int32.self, capacity: buckets)
        let ints = (raw + buckets * 4).bindMemory(to: Int.self, capacity: 6 * r)
        let bucketOf = ints
        let within = ints + r
        let slotOf = ints + 2 * r
        let start = ints + 3 * r
        let fill = ints + 4 * r
        let order = ints + 5 * r
        let gathered = (raw + buckets * 4 + 6 * r * 8).bindMemory(to: UInt32.self, capacity: n)
        // Bucket counts by the upper 16 bits.
        counts.update(repeating: 0, count: buckets)
        for x in values { counts[Int(key(x) >> 16)] += 1 }
        // Each rank's bucket and its rank inside the bucket, in one walk over the buckets: the ranks visited in
        // ascending order (an insertion sort of their indices; there are a handful).
        for i in 0..<r {
            var j = i
            while j > 0 && ranks[order[j - 1]] > ranks[i] {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = i
        }
        var bucket = 0
        var before = 0
        for j in 0..<r {
            let i = order[j]
            while before + Int(counts[bucket]) <= ranks[i] {
                before += Int(counts[bucket])
                bucket += 1
            }
            bucketOf[i] = bucket
            within[i] = ranks[i] - before
        }
        // The wanted buckets' slots in the gathered array (a bucket wanted by several ranks gets one).
        var slots = 0
        var total = 0
        for i in 0..<r {
            if let earlier = (0..<i).first(where: { bucketOf[$0] == bucketOf[i] }) {
                slotOf[i] = slotOf[earlier]
                continue
            }
            slotOf[i] = slots
            start[slots] = total
            fill[slots] = total
            total += Int(counts[bucketOf[i]])
            slots += 1
        }
        // A wanted bucket's count becomes -(slot + 1), so the gathering pass finds its slot with the same lookup.
        for i in 0..<r { counts[bucketOf[i]] = -Int32(slotOf[i] + 1) }
        for x in values {
            let k = key(x)
            let c = Int(counts[Int(k >> 16)])
            if c < 0 {
                gathered[fill[-c - 1]] = k
                fill[-c - 1] += 1
            }
        }
        for i in 0..<r {
            let slot = slotOf[i]
            let begin = start[slot]
            let keys = UnsafeBufferPointer(start: gathered + begin, count: fill[slot] - begin)
            result[i] = value(select(keys, prefix: UInt32(bucketOf[i]) << 16, bits: 16, rank: within[i]))
        }
    }

    /// The k-th smallest value (0-based, total order): four 8-bit counting passes over `values`, nothing
    /// allocated. For one or two ranks of a small array (a per-sample quantile).
    package static func select(_ values: UnsafeBufferPointer<Float>, rank k: Int) -> Float {
        precondition(k >= 0 && k < values.count, "OrderStatistics: rank \(k) of \(values.count) values")
        return value(select(values.lazy.map(key), prefix: 0, bits: 0, rank: k))
    }

    /// The rank-th smallest of `keys` among those whose upper `bits` bits equal `prefix`'s: the remaining bytes
    /// chosen from the most significant down, each by counting the keys that share the bytes chosen so far.
    private static func select(_ keys: some Sequence<UInt32>, prefix: UInt32, bits: UInt32, rank: Int) -> UInt32 {
        var chosen = prefix
        var mask: UInt32 = bits == 0 ? 0 : ~0 << (32 - bits)
        var rank = rank
        var counts = InlineArray<256, Int>(repeating: 0)
        for shift in stride(from: 24 - bits, through: 0, by: -8) {
            for b in 0..<256 { counts[b] = 0 }
            for k in keys where k & mask == chosen { counts[Int((k >> shift) & 255)] += 1 }
            var b = 0
            while rank >= counts[b] {
                rank -= counts[b]
                b += 1
            }
            chosen |= UInt32(b) << shift
            mask |= 255 << shift
        }
        return chosen
    }
}
