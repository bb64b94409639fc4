// Random streams are pure functions of (seed, ids), and their samplers have the right moments.
import Testing

@testable import Numerics

struct SeededRNGTests {
    @Test func sameIdsSameStreamOtherIdsOtherStream() {
        var a = SeededRNG(seed: 7, 1, 2)
        var b = SeededRNG(seed: 7, 1, 2)
        var c = SeededRNG(seed: 7, 1, 3)
        var d = SeededRNG(seed: 7, 2, 2)
        let xa = (0..<8).map { _ in a.next() }
        #expect(xa == (0..<8).map { _ in b.next() })
        #expect(xa != (0..<8).map { _ in c.next() })
        #expect(xa != (0..<8).map { _ in d.next() })
    }

    @Test func uniformAndNormalMoments() {
        var r = SeededRNG(seed: 42)
        let n = 200_000
        var su = 0.0
        var sn = 0.0
        var sn2 = 0.0
        for _ in 0..<n {
            let u = r.uniform()
            #expect(u >= 0 && u < 1)
            su += u
            let z = r.normal()
            sn += z
            sn2 += z * z
        }
        #expect(abs(su / Double(n) - 0.5) < 0.005)
        #expect(abs(sn / Double(n)) < 0.01)
        #expect(abs(sn2 / Double(n) - 1) < 0.015)
    }

    @Test func belowIsInRangeAndCoversIt() {
        var r = SeededRNG(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<1000 {
            let v = r.below(7)
            #expect((0..<7).contains(v))
            seen.insert(v)
        }
        #expect(seen.count == 7)
    }
}
