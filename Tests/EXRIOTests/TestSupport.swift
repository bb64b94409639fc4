// Shared test helpers: scratch directories and deterministic HDR test images made by code.
import Foundation

@testable import EXRIO

/// Deterministic 64-bit generator (SplitMix64) for reproducible test data.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

enum TestImages {
    /// A smooth HDR scene: a horizontal exposure ramp over ~20 stops, soft colour variation and a bright
    /// disk, all positive and below the half range (max ~2^14). Smooth like real images, so the lossy
    /// codecs (B44, DWA) are measured on the kind of content they were designed for.
    static func smooth(width: Int, height: Int) -> HDRImage {
        var img = HDRImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) / Double(max(width - 1, 1))
                let v = Double(y) / Double(max(height - 1, 1))
                let base = Foundation.exp2(-6 + 18 * u)
                let dx = u - 0.7
                let dy = v - 0.3
                let sun = (dx * dx + dy * dy) < 0.01 ? 8.0 : 1.0
                for c in 0..<3 {
                    let tint = 0.8 + 0.2 * sin(Double(c) * 1.7 + 3 * v + 2 * u)
                    img[c, y, x] = Float(base * tint * sun / 4)
                }
            }
        }
        return img
    }

    /// Values as they come back from half storage.
    static func halfRounded(_ img: HDRImage) -> HDRImage {
        HDRImage(width: img.width, height: img.height, pixels: img.pixels.map { Float(Float16($0)) })
    }

    /// Largest |a - b| / max(|b|, floor) over all values.
    static func maxRelativeError(_ a: HDRImage, _ b: HDRImage, floor: Float = 1e-3) -> Double {
        precondition(a.pixels.count == b.pixels.count)
        var worst = 0.0
        for i in a.pixels.indices {
            let e = Double(abs(a.pixels[i] - b.pixels[i])) / Double(max(abs(b.pixels[i]), floor))
            worst = max(worst, e.isNaN ? .infinity : e)
        }
        return worst
    }
}
