// Spatial steps against naive references: Gaussian blur (a 2-D kernel loop) and the shift warp (exact moves).
import EXRIO
import Foundation
import Numerics
import Testing

@testable import Data

struct SynthFilterTests {
    /// Direct 2-D convolution with the outer product of the 1-D weights, clamp-to-edge: the slow reference.
    func naiveBlur(_ img: HDRImage, sigma: Double) -> HDRImage {
        let w = BlurStep.weights(sigma: sigma)
        let r = w.count / 2
        var out = HDRImage(width: img.width, height: img.height)
        for c in 0..<3 {
            for y in 0..<img.height {
                for x in 0..<img.width {
                    var s = 0.0
                    for j in -r...r {
                        for i in -r...r {
                            let yy = min(max(y + j, 0), img.height - 1)
                            let xx = min(max(x + i, 0), img.width - 1)
                            s += w[j + r] * w[i + r] * Double(img[c, yy, xx])
                        }
                    }
                    out[c, y, x] = Float(s)
                }
            }
        }
        return out
    }

    @Test func weightsAreANormalisedGaussianOfRadiusCeil3Sigma() {
        for sigma in [0.3, 0.7, 1.0, 2.5] {
            let w = BlurStep.weights(sigma: sigma)
            let r = Int((3 * sigma).rounded(.up))
            #expect(w.count == 2 * r + 1)
            #expect(abs(w.reduce(0, +) - 1) < 1e-12)
            for d in 0...r { #expect(abs(w[r + d] / w[r] - exp(-Double(d * d) / (2 * sigma * sigma))) < 1e-12) }
        }
    }

    @Test func blurOfADeltaIsTheKernelAndKeepsTheSum() {
        let sigma = 1.3
        let r = 4
        var img = HDRImage(width: 21, height: 19)
        img[1, 9, 10] = 1000
        let out = BlurStep.blur(img, sigma: sigma)
        let w = BlurStep.weights(sigma: sigma)
        for y in 0..<19 {
            for x in 0..<21 {
                let inside = abs(y - 9) <= r && abs(x - 10) <= r
                let expected = inside ? 1000 * w[y - 9 + r] * w[x - 10 + r] : 0
                #expect(abs(Double(out[1, y, x]) - expected) <= 1e-4 * max(expected, 1e-3))
                #expect(out[0, y, x] == 0 && out[2, y, x] == 0)
            }
        }
        #expect(abs(out.pixels.reduce(0.0) { $0 + Double($1) } - 1000) < 1e-3)
    }

    @Test func separableBlurMatchesTheNaive2DKernelWithClampedEdges() {
        let img = testImage(width: 23, height: 11, seed: 4)
        let fast = BlurStep.blur(img, sigma: 0.9)
        let slow = naiveBlur(img, sigma: 0.9)
        #expect(TestImageDiff.maxRelative(fast, slow) < 1e-5)
        // Clamp-to-edge keeps constants constant, also at the border.
        let flat = BlurStep.blur(HDRImage(width: 9, height: 5, fill: 3), sigma: 2)
        #expect(flat.pixels.allSatisfy { abs($0 - 3) < 1e-5 })
    }

    @Test func zeroWarpIsTheIdentity() {
        let img = testImage(width: 17, height: 12, seed: 5)
        #expect(AffineWarp().apply(img) == img)
        var rng = SeededRNG(seed: 1)
        var input = img
        var target = img
        ShiftStep(maxShift: 0).apply(input: &input, target: &target, rng: &rng)
        #expect(input == img && target == img)
    }

    @Test func integerShiftMovesPixelsExactly() {
        let img = testImage(width: 16, height: 10, seed: 6)
        let out = AffineWarp(dx: 3, dy: -2).apply(img)
        for c in 0..<3 {
            for y in 0..<10 {
                for x in 0..<16 {
                    // Content moves 3 right and 2 up; uncovered border pixels repeat the edge.
                    let sx = min(max(x - 3, 0), 15)
                    let sy = min(max(y + 2, 0), 9)
                    #expect(out[c, y, x] == img[c, sy, sx])
                }
            }
        }
    }

    @Test func halfPixelShiftAveragesNeighboursAndRotationIsAboutTheCentre() {
        let img = testImage(width: 8, height: 6, seed: 7)
        let out = AffineWarp(dx: 0.5).apply(img)
        for x in 1..<8 { #expect(abs(out[0, 2, x] - (img[0, 2, x - 1] + img[0, 2, x]) / 2) < 1e-5) }
        // +90 degrees about the centre c = 3, clockwise on screen (right -> down): the output at (x, y) shows the
        // source at x' = c + (y - c), y' = c - (x - c). Subscripts are [channel, row, column].
        let sq = testImage(width: 7, height: 7, seed: 8)
        let turned = AffineWarp(rotationDegrees: 90).apply(sq)
        for y in 0..<7 {
            for x in 0..<7 { #expect(abs(turned[1, y, x] - sq[1, 3 - (x - 3), 3 + (y - 3)]) < 1e-5) }
        }
        // Scale 2 about the centre: out(x, y) = in(c + (x - c) / 2, ...), bilinear at half positions.
        let zoomed = AffineWarp(scale: 2).apply(sq)
        #expect(abs(zoomed[2, 3, 5] - (sq[2, 3, 4])) < 1e-5)
        #expect(abs(zoomed[2, 3, 4] - (sq[2, 3, 3] + sq[2, 3, 4]) / 2) < 1e-5)
    }

    @Test func shiftDrawsWithinItsLimitsFromTheStream() {
        let step = ShiftStep(maxShift: 0.75, maxRotationDegrees: 0.5, maxScale: 0.01)
        var seen = Set<Double>()
        for i in 0..<200 {
            var rng = SeededRNG(seed: 9, UInt64(i))
            let w = step.draw(&rng)
            #expect(abs(w.dx) <= 0.75 && abs(w.dy) <= 0.75 && abs(w.rotationDegrees) <= 0.5 && abs(w.scale - 1) <= 0.01)
            seen.insert(w.dx)
            var again = SeededRNG(seed: 9, UInt64(i))
            #expect(step.draw(&again) == w)
        }
        #expect(seen.count == 200)
    }

    @Test func zoomMagnifiesTargetAndInputAlikeAndDrawsLogUniformly() throws {
        // A fixed factor of 4 on a 16 x 16 ramp: the central 4 x 4 fills the pair, sampled bilinearly at
        // c + (x - c) / 4 (c = 7.5); input and target get the same warp.
        let ramp = HDRImage(width: 16, height: 16, pixels: (0..<(3 * 256)).map { Float($0 % 16) + Float($0 / 256) })
        var input = ramp
        var target = ramp
        var rng = SeededRNG(seed: 3)
        ZoomStep(factor: ParameterRange(4)).apply(input: &input, target: &target, rng: &rng)
        #expect(input == target)
        for x in 0..<16 {
            let expected = 7.5 + (Double(x) - 7.5) / 4
            for c in 0..<3 { #expect(abs(Double(target[c, 5, x]) - (expected + Double(c))) < 1e-5) }
        }
        // Factor 1 (fixed) is the identity and draws nothing.
        var same = ramp
        var sameTarget = ramp
        ZoomStep(factor: ParameterRange(1)).apply(input: &same, target: &sameTarget, rng: &rng)
        #expect(same == ramp && sameTarget == ramp)
        // A range [1, 4] is drawn log-uniformly: the median factor is 2 (the geometric mean), not 2.5.
        let recipe = try DegradationRecipe.parse("name: z\nsteps:\n  - type: zoom\n    factor: [1, 4]\n")
        let step = try #require(recipe.steps.first as? ZoomStep)
        #expect(step.parameters["factor"] == .array([.number(1), .number(4)]))
        var below2 = 0
        for i in 0..<2000 {
            var r = SeededRNG(seed: 11, UInt64(i))
            let s = step.factor.draw(&r)
            #expect(s >= 1 && s <= 4)
            if s < 2 { below2 += 1 }
        }
        #expect(abs(below2 - 1000) < 100)
        // Factors below 1 (which would repeat the edge) are refused.
        #expect(throws: (any Error).self) {
            try DegradationRecipe.parse("name: z\nsteps:\n  - type: zoom\n    factor: [0.5, 2]\n")
        }
    }
}

enum TestImageDiff {
    /// Largest |a - b| / max(|b|, 1e-6).
    static func maxRelative(_ a: HDRImage, _ b: HDRImage) -> Double {
        zip(a.pixels, b.pixels).map { Double(abs($0 - $1)) / max(Double(abs($1)), 1e-6) }.max() ?? 0
    }
}
