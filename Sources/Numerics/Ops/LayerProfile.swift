// Per-layer wall-clock sums of the U-Net stack (`hdrpatch bench --what step --arch unet --layers`): where a step's
// time goes, layer by layer, without perf. Each part (thread) adds to its own row, so parts never share a counter.
#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds per (part, layer, phase), summed over the calls made while the profile is attached.
package final class LayerProfile: @unchecked Sendable {
    /// What a layer was doing: its forward, its backward chain (d input and, for Winograd layers, the weight
    /// gradient), the weight gradient a direct layer takes after the chains, or its weights' transforms (the forward
    /// and adjoint packs and the gradient's transform back).
    package enum Phase: Int, CaseIterable, Sendable {
        case forward, backward, weightGradient, transforms
    }
    /// Rows kept: parts past the last (more threads than this) add to the last row.
    package static let maxParts = 64
    package let layers: Int
    private let ns: UnsafeMutablePointer<UInt64>

    package init(layers: Int) {
        self.layers = layers
        ns = .allocate(capacity: Self.maxParts * layers * Phase.allCases.count)
        ns.initialize(repeating: 0, count: Self.maxParts * layers * Phase.allCases.count)
    }
    deinit { ns.deallocate() }

    @inline(__always)
    private static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// Runs body and adds its wall time to (part, layer, phase).
    @inline(__always)
    package func time(_ part: Int, _ layer: Int, _ phase: Phase, _ body: () -> Void) {
        let start = Self.now()
        body()
        let slot = (min(part, Self.maxParts - 1) * layers + layer) * Phase.allCases.count + phase.rawValue
        ns[slot] &+= Self.now() &- start
    }

    /// Milliseconds of (layer, phase), summed over the parts (thread-milliseconds).
    package func milliseconds(layer: Int, phase: Phase) -> Double {
        var sum: UInt64 = 0
        for p in 0..<Self.maxParts { sum &+= ns[(p * layers + layer) * Phase.allCases.count + phase.rawValue] }
        return Double(sum) / 1e6
    }
}
