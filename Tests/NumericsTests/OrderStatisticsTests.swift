// OrderStatistics: exact k-th smallest values in IEEE total order by radix selection.
import Testing
import Numerics

struct OrderStatisticsTests {
    /// Every order statistic equals the sorted array's element, bit for bit, on data with duplicates, both
    /// zeros, infinities, subnormals and NaN of either sign.
    @Test func orderStatisticsMatchTheSortedValues() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, -Float.nan, Float(bitPattern: 0x3FF), -Float(bitPattern: 0x3FF), 3.5, 3.5, -7]
        for size in [1, 2, 7, 300, 5000] {
            var v: [Float] = (0..<size).map { i in
                i % 13 == 0 ? specials[Int(next()) % specials.count] : Float(Int(next() % 20001) - 10000) / 64
            }
            if size > 2 { v[size / 2] = v[0] }  // a duplicate in any case
            let sorted = v.sorted { OrderStatistics.key($0) < OrderStatistics.key($1) }
            v.withUnsafeBufferPointer { b in
                for k in 0..<size {
                    #expect(OrderStatistics.select(b, rank: k).bitPattern == sorted[k].bitPattern, "size \(size) rank \(k)")
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
        let v: [Float] = [-.infinity, -1, -Float.leastNonzeroMagnitude, -0.0, 0, Float.leastNonzeroMagnitude, 1, .infinity]
        for (a, b) in zip(v, v.dropFirst()) { #expect(OrderStatistics.key(a) < OrderStatistics.key(b)) }
        for x in v + [.nan, -Float.nan] { #expect(OrderStatistics.value(OrderStatistics.key(x)).bitPattern == x.bitPattern) }
    }
}
