// A scratch buffer that grows to the largest size asked of it and is then reused, so steady-state
// training allocates nothing per call: the one scratch mechanism of the project (im2col columns, the 3x3 kernels'
// per-thread buffers, selection and sorting buffers of the monitor and the histogram loss live in one).

/// Float scratch memory owned by whoever creates it: one op instance, or several layers that run one after
/// another and share it (e.g. every `Conv2D` of a network). Contents are undefined between calls: an op
/// fills what it reads. Never shrinks. Not thread-safe: one workspace per concurrently running network.
package final class Workspace: @unchecked Sendable {
    package private(set) var pointer: UnsafeMutablePointer<Float>
    /// Floats available at `pointer`.
    package private(set) var capacity: Int
    /// How many times the buffer has been (re)allocated, including the first; constant in steady state.
    package private(set) var allocations: Int = 0

    package init(capacity: Int = 0) {
        self.capacity = max(1, capacity)
        pointer = Self.allocate(self.capacity)
        allocations = 1
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Cache-line aligned, so that a kernel's full-vector loads and stores never straddle two lines.
    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    /// `count` bytes (64-byte aligned, as `reserve`), for buffers of other element types.
    package func reserveBytes(_ count: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(reserve((count + 3) / 4))
    }

    /// Per-thread workspaces for kernels that split a batch over threads, one per part of a parallel section
    /// (`Parallel.run(count, ...)`'s part index): created on first use, then kept.
    /// Call from one thread only (before splitting work).
    package func ensureSlots(_ count: Int) {
        while children.count < count { children.append(Workspace()) }
    }

    /// Slot `i` (< the count given to `ensureSlots`).
    package func slot(_ i: Int) -> Workspace { children[i] }

    private var children: [Workspace] = []

    /// Makes at least `count` floats available and returns the start. Reallocates only when `count` exceeds the
    /// current capacity; old contents are not kept (callers refill).
    package func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            UnsafeMutableRawPointer(pointer).deallocate()
            pointer = Self.allocate(count)
            capacity = count
            allocations += 1
        }
        return pointer
    }
}
