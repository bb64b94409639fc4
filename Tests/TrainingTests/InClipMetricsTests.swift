// The in-clip metrics: PSNR-mu and PU21-PSNR over the pixels where the input clipped, dilated by
// ImageMetrics.clipDilation pixels, with the whole image's normalisers.
import Foundation
import Numerics
import Testing

@testable import Training

struct InClipMetricsTests {
    static func mask(_ input: [Float], channels: Int, height: Int, width: Int, level: Float = 1) -> [Bool] {
        input.withUnsafeBufferPointer {
            ImageMetrics.clipMask(input: $0, channels: channels, height: height, width: width, level: level)
        }
    }

    @Test func theMaskIsTheClippedPixelsDilatedByASquare() {
        let (h, w) = (10, 12)
        var x = [Float](repeating: 0.5, count: 3 * h * w)
        #expect(Self.mask(x, channels: 3, height: h, width: w).isEmpty, "nothing clips: empty")
        x[2 * h * w + 1 * w + 9] = 1  // blue of pixel (y 1, x 9), exactly at the level
        let m = Self.mask(x, channels: 3, height: h, width: w)
        let r = ImageMetrics.clipDilation
        for y in 0..<h {
            for xx in 0..<w {
                let inside = abs(y - 1) <= r && abs(xx - 9) <= r
                #expect(m[y * w + xx] == inside, "(\(y), \(xx))")
            }
        }
        #expect(m.filter { $0 }.count == (1 + r + 1) * (r + 1 + 2))  // rows 0-4, columns 6-11
    }

    @Test func aFullMaskIsTheWholeImageMetricAndPixelsOutsideDoNotCount() {
        var rng = SeededRNG(seed: 31)
        let n = 3 * 8 * 8
        let reference = (0..<n).map { _ in Float(Foundation.exp(rng.normal() * 2)) }
        var output = reference.map { $0 * Float(1 + 0.2 * rng.normal()) }
        let full = [Bool](repeating: true, count: 64)
        let all = output.withUnsafeBufferPointer { o in
            reference.withUnsafeBufferPointer { ImageMetrics.inMask(output: o, reference: $0, mask: full) }
        }
        #expect(all?.psnrMu == ImageMetrics.psnrMu(output: output, reference: reference))
        #expect(all?.pu21Psnr == ImageMetrics.pu21Psnr(output: output, reference: reference))
        // One pixel (index 10 of each plane): its three values only, with the whole reference's q and scale.
        var one = [Bool](repeating: false, count: 64)
        one[10] = true
        func inOne() -> (psnrMu: Double, pu21Psnr: Double)? {
            output.withUnsafeBufferPointer { o in
                reference.withUnsafeBufferPointer { ImageMetrics.inMask(output: o, reference: $0, mask: one) }
            }
        }
        let q = ImageMetrics.muNormaliser(reference)
        var sum = 0.0
        for c in 0..<3 {
            let e =
                ImageMetrics.muTonemap(output[c * 64 + 10], q: q) - ImageMetrics.muTonemap(reference[c * 64 + 10], q: q)
            sum += e * e
        }
        let before = inOne()
        #expect(before?.psnrMu == ImageMetrics.psnr(mse: sum / 3, peak: 1))
        for i in 0..<n where i % 64 != 10 { output[i] *= 3 }
        #expect(inOne()?.psnrMu == before?.psnrMu && inOne()?.pu21Psnr == before?.pu21Psnr)
        let none = output.withUnsafeBufferPointer { o in
            reference.withUnsafeBufferPointer { ImageMetrics.inMask(output: o, reference: $0, mask: []) }
        }
        #expect(none == nil)
    }
}
