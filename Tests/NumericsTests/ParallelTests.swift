// Parallel: how work is split over threads.
import CKernels
import Dispatch
import Glibc
import Numerics
import Synchronization
import Testing

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

    /// Adds 1 to slot `base + part`: each slot is written by one part only.
    struct Mark: ParallelJob {
        let slots: UnsafeMutableBufferPointer<Int32>, base: Int
        func run(part: Int) { slots[base + part] += 1 }
    }

    /// Sections nested in a part, or started from several threads at once, still run every part exactly once.
    @Test func nestedAndConcurrentSectionsRunEveryPartOnce() {
        struct Outer: ParallelJob {
            let slots: UnsafeMutableBufferPointer<Int32>, k: Int
            func run(part i: Int) { Parallel.run(3, Mark(slots: slots, base: (k * 2 + i) * 3)) }
        }
        final class Marks: @unchecked Sendable {
            let slots = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4 * 2 * 3)
            init() { slots.initialize(repeating: 0) }
            deinit { slots.deallocate() }
        }
        let marks = Marks()
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            for _ in 0..<50 { Parallel.run(2, Outer(slots: marks.slots, k: k)) }
        }
        #expect(marks.slots.allSatisfy { $0 == 50 })
    }

    /// More parts than pool threads: the rest run on the caller; every part once, in any case.
    @Test func morePartsThanWorkersRunEveryPartOnce() {
        let parts = 300
        let seen = UnsafeMutableBufferPointer<Int32>.allocate(capacity: parts)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        Parallel.run(parts, Mark(slots: seen, base: 0))
        #expect(seen.allSatisfy { $0 == 1 })
    }

    /// Many short jobs back to back (workers spinning), then jobs after the workers went to sleep (spin window
    /// 0, a pause between jobs): every job's parts all run, and run() returns only after they did.
    @Test func jobsCompleteWhetherWorkersSpinOrSleep() {
        let counts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        for _ in 0..<5_000 {
            Parallel.run(4, Mark(slots: counts, base: 0))
        }
        #expect(counts.allSatisfy { $0 == 5_000 })
        hp_pool_set_spin(0)
        defer { hp_pool_set_spin(2_000_000) }
        for job in 1...200 {
            if job % 10 == 0 { usleep(200) }
            Parallel.run(4, Mark(slots: counts, base: 0))
            #expect(counts.allSatisfy { $0 == 5_000 + Int32(job) })
        }
    }

    /// A job as a value: every part runs once and sees the job's fields as they were passed (an array, a class
    /// reference, a pointer), for one part (run on the caller), a few, and more parts than pool threads.
    @Test(arguments: [1, 2, 5, 300])
    func jobValuesRunEveryPartOnceWithTheirFields(_ parts: Int) {
        final class Tag {
            let value: Int32
            init(_ value: Int32) { self.value = value }
        }
        struct Job: ParallelJob {
            let seen: UnsafeMutableBufferPointer<Int32>
            let weights: [Int32]
            let tag: Tag
            func run(part: Int) { seen[part] += weights[part % weights.count] + tag.value }
        }
        let seen = UnsafeMutableBufferPointer<Int32>.allocate(capacity: parts)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        Parallel.run(parts, Job(seen: seen, weights: [10, 20, 30], tag: Tag(1)))
        #expect((0..<parts).allSatisfy { seen[$0] == [11, 21, 31][$0 % 3] })
    }

    @Test func chunkJobValuesVisitEveryIndexOnce() {
        struct Job: ParallelChunkJob {
            let seen: UnsafeMutableBufferPointer<Int32>, calls: UnsafeMutablePointer<Atomic<Int>>
            func run(_ range: Range<Int>) {
                calls.pointee.add(1, ordering: .relaxed)
                for i in range { seen[i] += 1 }
            }
        }
        let total = 50_000
        let seen = UnsafeMutableBufferPointer<Int32>.allocate(capacity: total)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0)
        let calls = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
        calls.initialize(to: Atomic(0))
        defer {
            calls.deinitialize(count: 1)
            calls.deallocate()
        }
        Parallel.chunks(total, minimum: 1000, Job(seen: seen, calls: calls))
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(calls.pointee.load(ordering: .relaxed) == min(Parallel.threads, total / 1000))
    }

    /// A workspace's slots, one per part of a parallel section: aligned, kept while requests fit, grown when one
    /// does not, and each part's own: parts fill their slots concurrently and find them unchanged afterwards.
    @Test func workspaceSlotsArePerPartReusedAndGrown() {
        let w = Workspace()
        let first = w.reserveBytes(1000)
        #expect(Int(bitPattern: first) % 64 == 0)
        #expect(w.reserveBytes(10) == first, "a smaller request reuses the buffer")
        let grown = w.reserveBytes(1 << 20)
        #expect(Int(bitPattern: grown) % 64 == 0 && w.capacity >= (1 << 18))
        grown.storeBytes(of: 7, toByteOffset: (1 << 20) - 8, as: Int.self)  // the whole size is writable
        #expect(w.reserveBytes(1 << 20) == grown && w.allocations == 3, "the initial buffer, then two growths")

        struct Fill: ParallelJob {
            let slots: Workspace
            let pointers: UnsafeMutableBufferPointer<UInt>, intact: UnsafeMutableBufferPointer<Bool>
            func run(part: Int) {
                let p = slots.slot(part).reserveBytes(4096).bindMemory(to: Int.self, capacity: 512)
                for i in 0..<512 { p[i] = part * 1000 + i }
                pointers[part] = UInt(bitPattern: p)
                // Long enough for the other parts to be filling theirs meanwhile.
                var ok = true
                for _ in 0..<200 { for i in 0..<512 where p[i] != part * 1000 + i { ok = false } }
                intact[part] = ok
            }
        }
        let parts = max(2, Parallel.threads)
        w.ensureSlots(parts)
        let pointers = UnsafeMutableBufferPointer<UInt>.allocate(capacity: parts)
        let intact = UnsafeMutableBufferPointer<Bool>.allocate(capacity: parts)
        defer {
            pointers.deallocate()
            intact.deallocate()
        }
        pointers.initialize(repeating: 0)
        intact.initialize(repeating: false)
        Parallel.run(parts, Fill(slots: w, pointers: pointers, intact: intact))
        #expect(intact.allSatisfy { $0 })
        #expect(Set(pointers).count == parts, "every part has its own buffer")
        let again = Array(pointers)
        Parallel.run(parts, Fill(slots: w, pointers: pointers, intact: intact))
        #expect(Array(pointers) == again, "and keeps it from one section to the next")
        #expect((0..<parts).allSatisfy { w.slot($0).allocations == 2 }, "the initial buffer, then one growth")
    }
}
