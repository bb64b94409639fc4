// Exact order statistics of float data by radix selection on IEEE total-order keys: O(n), no sort.

public enum OrderStatistics {
    /// An unsigned key whose integer order is the IEEE total order of the float (-NaN < -inf < ... < -0 < +0 <
    /// ... < +inf < +NaN), so selection never meets an inconsistent comparison, whatever the data.
    @inline(__always)
    public static func key(_ x: Float) -> UInt32 {
        let b = x.bitPattern
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// The inverse of `key`.
    @inline(__always)
    public static func value(_ key: UInt32) -> Float {
        Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7fff_ffff : ~key)
    }

    /// The k-th smallest value (0-based, total order) of `values` for each k of `ranks`: one counting pass
    /// over the keys' upper 16 bits, one pass gathering the values of the buckets that hold a wanted rank, then
    /// two 8-bit counting passes over each such bucket. For several ranks of a large array (a monitor's
    /// percentiles), about two passes over the data in all.
    /// - Parameters: ranks: each in 0 ..< values.count; result: the same count as ranks.
    public static func select(_ values: UnsafeBufferPointer<Float>, ranks: [Int]) -> [Float] {
        let n = values.count
        precondition(ranks.allSatisfy { $0 >= 0 && $0 < n }, "OrderStatistics: ranks \(ranks) of \(n) values")
        precondition(n <= Int(Int32.max), "OrderStatistics: \(n) values")
        if ranks.isEmpty { return [] }
        // Bucket counts by the upper 16 bits.
        var counts = [Int32](repeating: 0, count: 1 << 16)
        for x in values { counts[Int(key(x) >> 16)] += 1 }
        // Each rank's bucket and its rank inside the bucket, the ranks visited in ascending order.
        let order = ranks.indices.sorted { ranks[$0] < ranks[$1] }
        var bucketOf = [Int](repeating: 0, count: ranks.count), within = bucketOf
        var bucket = 0, before = 0
        for i in order {
            while before + Int(counts[bucket]) <= ranks[i] { before += Int(counts[bucket]); bucket += 1 }
            bucketOf[i] = bucket
            within[i] = ranks[i] - before
        }
        // The wanted buckets' values, bucket after bucket, in one pass; a wanted bucket's count becomes
        // -(slot + 1) so the pass finds its slot with the same lookup.
        var slots: [(bucket: Int, start: Int, count: Int)] = []
        var total = 0
        for b in bucketOf where !slots.contains(where: { $0.bucket == b }) {
            slots.append((b, total, Int(counts[b])))
            total += Int(counts[b])
        }
        for (s, slot) in slots.enumerated() { counts[slot.bucket] = -Int32(s + 1) }
        var gathered = [UInt32](repeating: 0, count: total)
        var fill = slots.map(\.start)
        for x in values {
            let k = key(x), c = Int(counts[Int(k >> 16)])
            if c < 0 {
                gathered[fill[-c - 1]] = k
                fill[-c - 1] += 1
            }
        }
        return gathered.withUnsafeBufferPointer { g in
            ranks.indices.map { i in
                let slot = slots.first { $0.bucket == bucketOf[i] }!
                let keys = UnsafeBufferPointer(rebasing: g[slot.start..<(slot.start + slot.count)])
                return value(select(keys, prefix: UInt32(slot.bucket) << 16, bits: 16, rank: within[i]))
            }
        }
    }

    /// The k-th smallest value (0-based, total order): four 8-bit counting passes over `values`, nothing
    /// allocated. For one or two ranks of a small array (a per-sample quantile).
    public static func select(_ values: UnsafeBufferPointer<Float>, rank k: Int) -> Float {
        precondition(k >= 0 && k < values.count, "OrderStatistics: rank \(k) of \(values.count) values")
        return value(select(values.lazy.map(key), prefix: 0, bits: 0, rank: k))
    }

    /// The rank-th smallest of `keys` among those whose upper `bits` bits equal `prefix`'s: the remaining bytes
    /// chosen from the most significant down, each by counting the keys that share the bytes chosen so far.
    private static func select(_ keys: some Sequence<UInt32>, prefix: UInt32, bits: UInt32, rank: Int) -> UInt32 {
        var chosen = prefix, mask: UInt32 = bits == 0 ? 0 : ~0 << (32 - bits), rank = rank
        var counts = InlineArray<256, Int>(repeating: 0)
        for shift in stride(from: 24 - bits, through: 0, by: -8) {
            for b in 0..<256 { counts[b] = 0 }
            for k in keys where k & mask == chosen { counts[Int((k >> shift) & 255)] += 1 }
            var b = 0
            while rank >= counts[b] { rank -= counts[b]; b += 1 }
            chosen |= UInt32(b) << shift
            mask |= 255 << shift
        }
        return chosen
    }
}
