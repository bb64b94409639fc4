// How many threads the compute kernels split a batch over, and the one place that splits work.
import CKernels
import Glibc
import Synchronization

/// Compute threads for the convolution kernels (and OpenBLAS, which callers configure separately).
/// Default: `HDRPATCH_THREADS`, else `OPENBLAS_NUM_THREADS`, else the number of active processors, shared among
/// the ranks of an MPI job on this node (Open MPI's `OMPI_COMM_WORLD_LOCAL_SIZE`): 2 ranks on 2 cores get 1 each.
package enum Parallel {
    private static let configured = Atomic<Int>(Parallel.defaultThreads())

    package static var threads: Int {
        get { configured.load(ordering: .relaxed) }
        set { configured.store(max(1, newValue), ordering: .relaxed) }
    }

    /// The thread count the environment sets (`HDRPATCH_THREADS`, else `OPENBLAS_NUM_THREADS`), nil when neither
    /// holds a count >= 1.
    package static var environmentThreads: Int? {
        for name in ["HDRPATCH_THREADS", "OPENBLAS_NUM_THREADS"] {
            if let raw = getenv(name), let n = Int(String(cString: raw)), n >= 1 { return n }
        }
        return nil
    }

    static func defaultThreads() -> Int {
        if let n = environmentThreads { return n }
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        if let raw = getenv("OMPI_COMM_WORLD_LOCAL_SIZE"), let ranks = Int(String(cString: raw)), ranks >= 1 {
            return max(1, cores / ranks)
        }
        return cores
    }

    /// Runs job.run(part: 0) ..< job.run(part: count - 1), concurrently when count > 1; returns when all are done.
    /// Part 0 runs on the calling thread, part p on the same pool thread every time (hp_pool_run), so a part's
    /// buffers stay on one core from one call to the next. Nothing is allocated: the job is a value on the
    /// caller's stack, reached from the pool threads through a pointer and its type (a closure handed to the pool
    /// would cost one heap object per call).
    @inlinable
    package static func run<Job: ParallelJob>(_ count: Int, _ job: Job) {
        if count <= 1 {
            job.run(part: 0)
        } else {
            withUnsafePointer(to: job) { pooled(count, UnsafeRawPointer($0), Job.self) }
        }
    }

    @usableFromInline @inline(never)
    static func pooled(_ count: Int, _ job: UnsafeRawPointer, _ type: any ParallelJob.Type) {
        var frame = JobFrame(job: job, type: type)
        withUnsafeMutablePointer(to: &frame) { ctx in
            hp_pool_run(
                Int32(clamping: count),
                { ctx, part in
                    let frame = ctx!.assumingMemoryBound(to: JobFrame.self).pointee
                    frame.type.run(frame.job, part: Int(part))
                }, ctx)
        }
    }

    private struct JobFrame {
        let job: UnsafeRawPointer
        let type: any ParallelJob.Type
    }

    /// Splits 0 ..< total into at most `Parallel.threads` contiguous chunks of at least `minimum` items and runs
    /// job.run(range) for each, concurrently. For elementwise loops whose items are independent; nothing allocated.
    @inlinable
    package static func chunks<Job: ParallelChunkJob>(_ total: Int, minimum: Int = 4096, _ job: Job) {
        let parts = max(1, min(threads, total / max(1, minimum)))
        run(parts, Chunked(job: job, parts: parts, total: total))
    }

    @usableFromInline
    struct Chunked<Job: ParallelChunkJob>: ParallelJob {
        @usableFromInline let job: Job
        @usableFromInline let parts: Int, total: Int
        @inlinable init(job: Job, parts: Int, total: Int) {
            self.job = job
            self.parts = parts
            self.total = total
        }
        @inlinable func run(part: Int) { job.run(Parallel.share(part, of: parts, total: total)) }
    }

    /// The share of 0 ..< total that part `part` of `parts` takes: contiguous, sizes differ by at most one.
    @inline(__always)
    package static func share(_ part: Int, of parts: Int, total: Int) -> Range<Int> {
        let base = total / parts
        let extra = total % parts
        let lo = part * base + min(part, extra)
        return lo..<(lo + base + (part < extra ? 1 : 0))
    }
}

/// One parallel section as a value: `Parallel.run(count, job)` calls run(part:) once for each part, concurrently.
/// The parts must touch disjoint memory.
package protocol ParallelJob {
    func run(part: Int)
}

extension ParallelJob {
    /// Runs part `part` of the job of this type at `job` (the pool's entry point).
    static func run(_ job: UnsafeRawPointer, part: Int) {
        job.assumingMemoryBound(to: Self.self).pointee.run(part: part)
    }
}

/// An elementwise section as a value: `Parallel.chunks(total, job)` calls run(_:) on contiguous chunks of 0 ..< total.
package protocol ParallelChunkJob {
    func run(_ range: Range<Int>)
}
