// Parallel: how work is split over threads.
import Dispatch
import Synchronization
import Testing
import Numerics

struct ParallelTests {
    @Test(arguments: [(0, 1), (1, 3), (7, 2), (16, 3), (100, 7)])
    func sharesAreContiguousDisjointAndCoverEverything(_ c: (total: Int, parts: Int)) {
        var next = 0
        for part in 0..<c.parts {
            let r = Parallel.share(part, of: c.parts, total: c.total)
            #expect(r.lowerBound == next)
            #expect(r.count == c.total / c.parts || r.count == c.total / c.parts + 1)
            next = r.upperBound
        }
        #expect(next == c.total)
    }

    @Test func chunksVisitEveryIndexOnce() {
        let total = 50_000
        let seen = UnsafeMutableBufferPointer<Int32>.allocate(capacity: total)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        let calls = Atomic<Int>(0)
        Parallel.chunks(total, minimum: 1000) { r in
            calls.add(1, ordering: .relaxed)
            for i in r { seen[i] += 1 }
        }
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(calls.load(ordering: .relaxed) == min(Parallel.threads, total / 1000))
    }

    /// Sections nested in a part, or started from several threads at once, still run every part exactly once.
    @Test func nestedAndConcurrentSectionsRunEveryPartOnce() {
        final class Marks: @unchecked Sendable {  // each slot written by one part only
            let slots = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4 * 2 * 3)
            init() { slots.initialize(repeating: 0) }
            deinit { slots.deallocate() }
        }
        let marks = Marks()
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            for _ in 0..<50 {
                Parallel.run(2) { i in
                    Parallel.run(3) { j in marks.slots[(k * 2 + i) * 3 + j] += 1 }
                }
            }
        }
        #expect(marks.slots.allSatisfy { $0 == 50 })
    }
}
