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

    @Test func theFullyClippedMaskNeedsEveryChannel() {
        let (h, w) = (2, 3)
        var x = [Float](repeating: 0.2, count: 3 * h * w)
        let full = {
            x.withUnsafeBufferPointer {
                ImageMetrics.fullyClippedMask(input: $0, channels: 3, height: h, width: w, level: 1)
            }
        }
        #expect(full().isEmpty)
        for c in 0..<3 { x[c * h * w + 4] = 1 }  // pixel 4: every channel at the level
        x[0 * h * w + 1] = 5  // pixel 1: red only
        x[1 * h * w + 2] = 2
        x[2 * h * w + 2] = 2  // pixel 2: green and blue
        #expect(full() == [false, false, false, false, true, false])
        x[1 * h * w + 4] = .nan  // NaN is not clipped
        #expect(full().isEmpty)
    }

    /// The shape correlation of `output` against `reference` over `mask` (eps 1e-2, the default's).
    static func corr(_ output: [Float], _ reference: [Float], _ mask: [Bool]) -> Double? {
        output.withUnsafeBufferPointer { o in
            reference.withUnsafeBufferPointer {
                ImageMetrics.logLuminanceCorrelation(output: o, reference: $0, mask: mask, eps: 1e-2)
            }
        }
    }

    @Test func theShapeCorrelationSeesLevelsNotTheFillsHeight() throws {
        // An 8 x 8 highlight: the reference rises towards the centre; grey (equal channels), so Y = the value.
        let plane = 64
        let dome = (0..<plane).map { p -> Float in
            let (y, x) = (Double(p / 8) - 3.5, Double(p % 8) - 3.5)
            return Float(2 + 60 * Foundation.exp(-(x * x + y * y) / 6))
        }
        let reference = dome + dome + dome
        let all = [Bool](repeating: true, count: plane)
        // A flat fill, at any level: 0.
        #expect(Self.corr([Float](repeating: 6, count: 3 * plane), reference, all) == 0)
        #expect(Self.corr([Float](repeating: 600, count: 3 * plane), reference, all) == 0)
        // The shape at another level (log(Y + eps) shifted, nearly: eps is small against Y): close to 1.
        let scaled = reference.map { $0 * 0.25 }
        let r = try #require(Self.corr(scaled, reference, all))
        #expect(r > 0.999 && r <= 1)
        // Inverted: close to -1.
        let inverted = reference.map { 1000 / $0 }
        #expect(try #require(Self.corr(inverted, reference, all)) < -0.999)
        // Pearson by hand on a noisy output, in Double.
        var rng = SeededRNG(seed: 5)
        let noisyPlane = dome.map { $0 * Float(Foundation.exp(0.5 * rng.normal())) }
        let noisy = noisyPlane + noisyPlane + noisyPlane
        let a = (0..<plane).map { Foundation.log(Double(noisy[$0]) + Double(Float(1e-2))) }
        let b = (0..<plane).map { Foundation.log(Double(reference[$0]) + Double(Float(1e-2))) }
        let (ma, mb) = (a.reduce(0, +) / 64, b.reduce(0, +) / 64)
        let sab = zip(a, b).map { ($0 - ma) * ($1 - mb) }.reduce(0, +)
        let saa = a.map { ($0 - ma) * ($0 - ma) }.reduce(0, +)
        let sbb = b.map { ($0 - mb) * ($0 - mb) }.reduce(0, +)
        let want = sab / (saa * sbb).squareRoot()
        let got = try #require(Self.corr(noisy, reference, all))
        #expect(abs(got - want) < 1e-9)
        #expect(want > 0.5 && want < 0.99)
        // Only the mask's pixels count: a mask of 16 keeps a score, 15 has none.
        var some = [Bool](repeating: false, count: plane)
        for p in 0..<16 { some[p * 4] = true }
        #expect(Self.corr(noisy, reference, some) != nil)
        some[0] = false
        #expect(Self.corr(noisy, reference, some) == nil)
        #expect(Self.corr(noisy, reference, []) == nil)
        // A NaN or infinite output is never hidden (not 0, not left out): the score is NaN.
        var broken = noisy
        broken[5] = .nan
        #expect(Self.corr(broken, reference, all)?.isNaN == true)
        broken[5] = .infinity
        #expect(Self.corr(broken, reference, all)?.isNaN == true)
    }
}
