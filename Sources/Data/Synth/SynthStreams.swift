// Where every random number of synthesis comes from: counter-based streams keyed by what they are for.
import Numerics

/// Any pair (or scene) can be regenerated alone from (seed, its index), whatever the processing order.
/// The last stream id names the purpose so no two purposes ever share a stream: without it, pair i's
/// crop stream (seed, i) would equal its step-0 stream (seed, i, 0).
package enum SynthStreams {
    /// Pair `pair`'s choice of source, then crop x, then crop y: SeededRNG(seed, pair, 0, 0).
    package static func crop(seed: UInt64, pair: Int) -> SeededRNG {
        SeededRNG(seed: seed, UInt64(pair), 0, 0)
    }

    /// Recipe step `step` of pair `pair`: SeededRNG(seed, pair, step, 1).
    package static func step(seed: UInt64, pair: Int, step: Int) -> SeededRNG {
        SeededRNG(seed: seed, UInt64(pair), UInt64(step), 1)
    }

    /// Procedural scene `index`: SeededRNG(seed, index, 0, 2).
    package static func scene(seed: UInt64, index: Int) -> SeededRNG {
        SeededRNG(seed: seed, UInt64(index), 0, 2)
    }
}
