// Per-thread scratch memory for work inside parallel parts that runs every step (CKernels' hp_thread_scratch).
import CKernels

public enum ThreadScratch {
    /// At least `count` bytes, 64-byte aligned, owned by the calling thread: reused from one call to the next and
    /// grown when a call asks for more. Valid until this thread's next call (so one user at a time per thread);
    /// contents undefined. Traps only when the memory cannot be had at all.
    public static func bytes(_ count: Int, for what: @autoclosure () -> String) -> UnsafeMutableRawPointer {
        guard let p = hp_thread_scratch(max(1, count)) else {
            fatalError("\(what()): out of memory for \(count) bytes of scratch")
        }
        return p
    }
}
