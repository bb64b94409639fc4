// Counter-based random streams: the numbers a sample sees depend only on (seed, stream ids), never on
// which thread drew them or in what order, which makes prefetching loaders deterministic.
import Glibc

/// SplitMix64 seeded from a seed and up to three stream ids (e.g. epoch and sample index).
package struct SeededRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64, _ a: UInt64 = 0, _ b: UInt64 = 0, _ c: UInt64 = 0) {
        // Each id goes through the finaliser before mixing, so nearby ids give unrelated streams.
        var s = Self.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        s = Self.mix(s ^ Self.mix(a &+ 0xD1B5_4A32_D192_ED03))
        s = Self.mix(s ^ Self.mix(b &+ 0x8CB9_2BA7_2F3D_8DD7))
        s = Self.mix(s ^ Self.mix(c &+ 0xABC9_8388_FB8F_AC03))
        state = s
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in [0, 1) with 53 random bits.
    package mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (n > 0), without modulo bias.
    package mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next(upperBound: UInt64(n)))
    }

    /// Standard normal by Box-Muller (one value per call; the pair's second value is discarded for
    /// simplicity, so the stream stays a pure function of the call count).
    package mutating func normal() -> Double {
        let u1 = 1 - uniform()  // (0, 1]: log is finite
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
