// ImageMetrics.scores, the Evaluator's one pass over a sample, against the separate metric functions it fuses.
import Foundation
import Numerics
import Testing

@testable import Training

struct ImageScoresTests {
    /// A (3, h, w) reference over many stops, an output off by about 20%, a few negative and clipped-looking values,
    /// and a mask of about a third of the pixels.
    static func sample(height h: Int, width w: Int, seed: UInt64) -> (output: [Float], reference: [Float], mask: [Bool])
    {
        var rng = SeededRNG(seed: seed)
        let reference = (0..<(3 * h * w)).map { _ in Float(Foundation.exp(rng.normal() * 2.5)) }
        var output = reference.map { $0 * Float(1 + 0.2 * rng.normal()) }
        for i in stride(from: 7, to: output.count, by: 101) { output[i] = -0.004 }
        let mask = (0..<(h * w)).map { _ in rng.uniform() < 0.33 }
        return (output, reference, mask)
    }

    static func separate(_ o: [Float], _ r: [Float], _ mask: [Bool], eps: Float) -> ImageMetrics.Scores {
        o.withUnsafeBufferPointer { ob in
            r.withUnsafeBufferPointer { rb in
                let clip = ImageMetrics.inMask(output: ob, reference: rb, mask: mask)
                return ImageMetrics.Scores(
                    psnrMu: ImageMetrics.psnrMu(output: o, reference: r),
                    pu21Psnr: ImageMetrics.pu21Psnr(output: o, reference: r),
                    logL1: ImageMetrics.logL1(output: o, reference: r, eps: eps), inMaskPsnrMu: clip?.psnrMu,
                    inMaskPu21Psnr: clip?.pu21Psnr)
            }
        }
    }

    static func fused(_ o: [Float], _ r: [Float], _ mask: [Bool], eps: Float, threads: Int) -> ImageMetrics.Scores {
        o.withUnsafeBufferPointer { ob in
            r.withUnsafeBufferPointer {
                ImageMetrics.scores(output: ob, reference: $0, mask: mask, eps: eps, threads: threads)
            }
        }
    }

    /// At most one block: bit for bit the separate functions, at every thread count.
    @Test func aSmallSampleIsTheSeparateFunctionsBitForBit() {
        let (o, r, mask) = Self.sample(height: 40, width: 50, seed: 5)
        #expect(o.count <= ImageMetrics.scoreBlock)
        let want = Self.separate(o, r, mask, eps: 1e-2)
        #expect(want.inMaskPsnrMu != nil && want.psnrMu < 60 && want.pu21Psnr < 60)
        for threads in [1, 2, 3] { #expect(Self.fused(o, r, mask, eps: 1e-2, threads: threads) == want) }
    }

    /// Several blocks: the separate functions within the summation order's rounding, and the same bits whatever
    /// the thread count.
    @Test func aLargeSampleIsTheSeparateFunctionsAndTheSameAtEveryThreadCount() throws {
        let (o, r, mask) = Self.sample(height: 150, width: 333, seed: 6)
        #expect(o.count > 2 * ImageMetrics.scoreBlock)
        let want = Self.separate(o, r, mask, eps: 1e-2)
        let one = Self.fused(o, r, mask, eps: 1e-2, threads: 1)
        for (a, b) in [
            (one.psnrMu, want.psnrMu), (one.pu21Psnr, want.pu21Psnr), (one.logL1, want.logL1),
            (try #require(one.inMaskPsnrMu), try #require(want.inMaskPsnrMu)),
            (try #require(one.inMaskPu21Psnr), try #require(want.inMaskPu21Psnr))
        ] {
            #expect(abs(a - b) <= 1e-12 * abs(b), "\(a) vs \(b)")
        }
        for threads in [2, 3, 8] { #expect(Self.fused(o, r, mask, eps: 1e-2, threads: threads) == one) }
    }

    /// No mask, or a mask without a pixel: no in-mask score; a NaN output value: NaN PSNRs, never a number.
    @Test func noMaskedPixelGivesNoInMaskScoreAndNaNStaysNaN() {
        var (o, r, _) = Self.sample(height: 20, width: 30, seed: 7)
        for mask in [[], [Bool](repeating: false, count: 600)] {
            let s = Self.fused(o, r, mask, eps: 1e-2, threads: 2)
            #expect(s.inMaskPsnrMu == nil && s.inMaskPu21Psnr == nil && s.psnrMu.isFinite)
        }
        o[1234] = .nan
        let all = [Bool](repeating: true, count: 600)
        let s = Self.fused(o, r, all, eps: 1e-2, threads: 2)
        #expect(s.psnrMu.isNaN && s.pu21Psnr.isNaN && s.logL1.isNaN)
        #expect(s.inMaskPsnrMu?.isNaN == true && s.inMaskPu21Psnr?.isNaN == true)
    }
}
