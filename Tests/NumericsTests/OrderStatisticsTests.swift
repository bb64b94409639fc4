// OrderStatistics: exact k-th smallest values in IEEE total order by radix selection.
import Numerics
import Testing

struct OrderStatisticsTests {
    /// Every order statistic equals the sorted array's element, bit for bit, on data with duplicates, both
    /// zeros, infinities, subnormals and NaN of either sign.
    @Test func orderStatisticsMatchTheSortedValues() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let specials: [Float] = [
            0, -0.0, .infinity, -.infinity, .nan, -Float.nan, Float(bitPattern: 0x3FF), -Float(bitPattern: 0x3FF), 3.5,
            3.5, -7
        ]
        for size in [1, 2, 7, 300, 5000] {
            var v: [Float] = (0..<size).map { i in
                i % 13 == 0 ? specials[Int(next()) % specials.count] : Float(Int(next() % 20001) - 10000) / 64
            }
            if size > 2 { v[size / 2] = v[0] }  // a duplicate in any case
            let sorted = v.sorted { OrderStatistics.key($0) < OrderStatistics.key($1) }
            v.withUnsafeBufferPointer { b in
                for k in 0..<size {
                    #expect(
                        OrderStatistics.select(b, rank: k).bitPattern == sorted[k].bitPattern, "size \(size) rank \(k)")
                }
                // Every rank at once, in an order of their own, and a few ranks repeated.
                let ranks = (0..<size).reversed() + [0, size / 2, size - 1]
                let all = OrderStatistics.select(b, ranks: ranks)
                #expect(zip(ranks, all).allSatisfy { sorted[$0].bitPattern == $1.bitPattern }, "size \(size)")
            }
        }
    }

    /// Values all in one upper-16-bit bucket (the gathered pass holds everything) and all equal.
    @Test func oneBucketAndAllEqual() {
        let close: [Float] = (0..<3000).map { Float(bitPattern: 0x3F80_0000 + UInt32(($0 * 37) % 3000)) }  // 1.0 ... 1.00036, 3000 ulps
        let sorted = close.sorted()
        close.withUnsafeBufferPointer { b in
            #expect(OrderStatistics.select(b, ranks: [0, 1499, 2999]) == [sorted[0], sorted[1499], sorted[2999]])
        }
        let zeros = [Float](repeating: 0, count: 5000)
        zeros.withUnsafeBufferPointer { b in #expect(OrderStatistics.select(b, ranks: [0, 4999]) == [0, 0]) }
        #expect([Float]().withUnsafeBufferPointer { OrderStatistics.select($0, ranks: []) } == [])
    }

    /// The key is a bijection that orders like the total order.
    @Test func keysRoundTripAndOrder() {
        let v: [Float] = [
            -.infinity, -1, -Float.leastNonzeroMagnitude, -0.0, 0, Float.leastNonzeroMagnitude, 1, .infinity
        ]
        for (a, b) in zip(v, v.dropFirst()) { #expect(OrderStatistics.key(a) < OrderStatistics.key(b)) }
        for x in v + [.nan, -Float.nan] {
            #expect(OrderStatistics.value(OrderStatistics.key(x)).bitPattern == x.bitPattern)
        }
    }

    /// The radix sorts against Swift's sort: `sorted` bit for bit in total order; `argsort` the permutation a
    /// sort by (key, position) gives, so equal values (duplicates, repeated NaN payloads) keep their positions'
    /// order. Data with every special value, data whose keys share their upper bytes (passes skipped), the
    /// sizes 0 to 3 and an odd number of performed passes (the result copied back).
    @Test func radixSortsMatchASortByKeyThenPosition() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let specials: [Float] = [
            0, -0.0, .infinity, -.infinity, .nan, -Float.nan, Float(bitPattern: 0x7FC0_0001),
            Float(bitPattern: 0x3FF), -Float(bitPattern: 0x3FF), 3.5, -7
        ]
        var cases: [[Float]] = [[], [2], [1, -1], [0, -0.0, 0]]
        for size in [5, 300, 12288] {
            cases.append(
                (0..<size).map { i in
                    i % 11 == 0 ? specials[Int(next()) % specials.count] : Float(Int(next() % 2001) - 1000) / 16
                })
        }
        // Keys differing only in their lowest byte (three passes skipped, one done: an odd count), and only in
        // the two lowest bytes.
        cases.append((0..<1000).map { _ in Float(bitPattern: 0x4000_0000 | UInt32(next() % 256)) })
        cases.append((0..<1000).map { _ in Float(bitPattern: 0x4000_0000 | UInt32(next() % 65536)) })
        for v in cases {
            let n = v.count
            let byKey = v.indices.sorted {
                (OrderStatistics.key(v[$0]), $0) < (OrderStatistics.key(v[$1]), $1)
            }
            var order = [Int32](repeating: -1, count: n)
            var sorted = [Float](repeating: 1, count: n)
            var scratch = [UInt64](repeating: 0, count: OrderStatistics.keyedSortScratch(n))
            v.withUnsafeBufferPointer { b in
                scratch.withUnsafeMutableBufferPointer { s in
                    order.withUnsafeMutableBufferPointer { OrderStatistics.argsort(b, into: $0, scratch: s) }
                    sorted.withUnsafeMutableBufferPointer { OrderStatistics.sorted(b, into: $0, scratch: s) }
                }
            }
            #expect(order.map(Int.init) == byKey, "argsort, \(n) values")
            #expect(sorted.map(\.bitPattern) == byKey.map { v[$0].bitPattern }, "sorted, \(n) values")
        }
    }
}
