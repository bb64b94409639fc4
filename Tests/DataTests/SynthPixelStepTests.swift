// Per-value degradation steps against closed forms: exposure, clip, crf_quantize (sRGB and gamma).
import EXRIO
import Foundation
import Numerics
import Testing

@testable import Data

/// A reproducible image with values spread over many stops: (3, h, w), v = 2^(-12 + 16 u).
func testImage(width: Int, height: Int, seed: UInt64) -> HDRImage {
    var rng = SeededRNG(seed: seed, 99)
    return HDRImage(
        width: width, height: height,
        pixels: (0..<(3 * width * height)).map { _ in Float(exp2(-12 + 16 * rng.uniform())) })
}

func luminance(_ img: HDRImage) -> [Double] {
    let n = img.planeCount
    return (0..<n).map {
        0.2126 * Double(img.pixels[$0]) + 0.7152 * Double(img.pixels[n + $0]) + 0.0722 * Double(img.pixels[2 * n + $0])
    }
}

struct SynthPixelStepTests {
    @Test(arguments: [(50.0, 0.18), (90.0, 1.0), (0.0, 0.01), (100.0, 4.0), (37.5, 0.5)])
    func exposurePercentileLandsOnValue(percentile: Double, value: Double) {
        let clean = testImage(width: 33, height: 17, seed: 1)
        var input = clean
        var target = clean
        var rng = SeededRNG(seed: 0)
        ExposureStep(percentile: percentile, value: value).apply(input: &input, target: &target, rng: &rng)
        // Reference percentile: sort, rank p/100 * (n - 1), interpolate linearly.
        let lum = luminance(target).sorted()
        let rank = percentile / 100 * Double(lum.count - 1)
        let lo = Int(rank)
        let hi = min(lo + 1, lum.count - 1)
        let p = lum[lo] + (lum[hi] - lum[lo]) * (rank - Double(lo))
        #expect(abs(p - value) <= 1e-6 * value)
        #expect(input == target)  // the scene stage treats both alike
        let scale = Double(target.pixels[5]) / Double(clean.pixels[5])
        for i in stride(from: 0, to: clean.pixels.count, by: 7) {
            #expect(abs(Double(target.pixels[i]) - Double(clean.pixels[i]) * scale) <= 1e-6 * Double(target.pixels[i]))
        }
    }

    /// `value: [low, high]`: each pair's value is one log-uniform draw from the pair's stream, and the percentile
    /// lands on it; a fixed value draws nothing (the stream goes on as before ranges existed).
    @Test func exposureValueRangeIsDrawnLogUniformlyPerPair() throws {
        let recipe = try DegradationRecipe.parse(
            "name: r\nsteps:\n  - type: exposure\n    percentile: 50\n    value: [0.09, 0.36]\n")
        let step = try #require(recipe.steps[0] as? ExposureStep)
        #expect(step.value == ParameterRange(low: 0.09, high: 0.36, logarithmic: true))
        #expect(step.parameters["value"] == .array([.number(0.09), .number(0.36)]))
        let clean = testImage(width: 21, height: 13, seed: 4)
        var landed: [Double] = []
        for seed in UInt64(0)..<8 {
            var input = clean
            var target = clean
            var rng = SeededRNG(seed: seed)
            var reference = SeededRNG(seed: seed)
            step.apply(input: &input, target: &target, rng: &rng)
            let expected = 0.09 * exp(reference.uniform() * log(0.36 / 0.09))
            let p = ExposureStep.luminancePercentile(target, 50)
            #expect(abs(p - expected) <= 1e-6 * expected)
            #expect(rng.next() == reference.next())  // one draw, no more
            landed.append(p)
        }
        #expect(landed.allSatisfy { $0 >= 0.09 * (1 - 1e-6) && $0 <= 0.36 * (1 + 1e-6) })
        #expect(Set(landed.map { Float($0) }).count == landed.count)
        // Fixed: no draw, and the manifest keeps its number.
        let fixed = ExposureStep(percentile: 50, value: 0.18)
        #expect(fixed.parameters["value"] == .number(0.18))
        var rng = SeededRNG(seed: 3)
        var untouched = SeededRNG(seed: 3)
        var input = clean
        var target = clean
        fixed.apply(input: &input, target: &target, rng: &rng)
        #expect(rng.next() == untouched.next())
        // A range the wrong way round, or below 0, names the key.
        for bad in ["[0.36, 0.09]", "[0, 0.36]"] {
            let error = #expect(throws: (any Error).self) {
                try DegradationRecipe.parse("name: r\nsteps:\n  - type: exposure\n    value: \(bad)\n")
            }
            #expect(
                error.map { "\($0)".hasPrefix("config error: steps.0.value: ") } == true, "\(String(describing: error))"
            )
        }
    }

    @Test func exposureUsesTheTargetsScaleForTheInput() {
        var target = testImage(width: 16, height: 16, seed: 2)
        var input = HDRImage(width: 16, height: 16, fill: 0.5)
        let expected = ExposureStep().scale(for: target)
        var rng = SeededRNG(seed: 0)
        ExposureStep().apply(input: &input, target: &target, rng: &rng)
        #expect(input.pixels.allSatisfy { abs(Double($0) - 0.5 * expected) <= 1e-6 * 0.5 * expected })
    }

    @Test func exposureLeavesBlackPatchesUnscaled() {
        var target = HDRImage(width: 8, height: 8)
        var input = HDRImage(width: 8, height: 8)
        var rng = SeededRNG(seed: 0)
        ExposureStep().apply(input: &input, target: &target, rng: &rng)
        #expect(target.pixels.allSatisfy { $0 == 0 } && input.pixels.allSatisfy { $0 == 0 })
        // Mostly black: the median is 0, so no scale reaches 0.18 and the patch stays as it is.
        var sparse = HDRImage(width: 8, height: 8)
        sparse[1, 0, 0] = 5
        var copy = sparse
        ExposureStep().apply(input: &copy, target: &sparse, rng: &rng)
        #expect(sparse[1, 0, 0] == 5 && copy[1, 0, 0] == 5)
    }

    @Test func clipCapsEveryChannelOfTheInputOnly() {
        let clean = testImage(width: 16, height: 8, seed: 3)
        var input = clean
        var target = clean
        var rng = SeededRNG(seed: 0)
        ClipStep(white: 0.25).apply(input: &input, target: &target, rng: &rng)
        #expect(target == clean)
        for i in clean.pixels.indices { #expect(input.pixels[i] == min(clean.pixels[i], 0.25)) }
        #expect(clean.pixels.contains { $0 > 0.25 } && clean.pixels.contains { $0 < 0.25 })
    }

    @Test func srgbFormulasAtKnownPoints() {
        let s = CameraResponse.srgb
        // Reference values of IEC 61966-2-1 computed independently.
        #expect(abs(s.decode(0.5) - 0.214041140482232) < 1e-12)
        #expect(abs(s.encode(0.18) - 0.461356129500442) < 1e-12)
        #expect(abs(s.encode(0.002) - 0.02584) < 1e-12)  // linear toe: 12.92 x
        #expect(abs(s.decode(0.04) - 0.04 / 12.92) < 1e-15)
        // The branches meet at the standard's break points (0.0031308 linear, 0.04045 encoded).
        #expect(
            s.encode(0.0031) == 12.92 * 0.0031 && abs(s.encode(0.0032) - (1.055 * pow(0.0032, 1 / 2.4) - 0.055)) < 1e-15
        )
        #expect(s.decode(0.0404) == 0.0404 / 12.92 && abs(s.decode(0.0405) - pow(0.0955 / 1.055, 2.4)) < 1e-15)
        #expect(s.encode(0) == 0 && abs(s.encode(1) - 1) < 1e-12 && abs(s.decode(1) - 1) < 1e-12)
        for x in stride(from: 0.0, through: 1.0, by: 0.0625) { #expect(abs(s.decode(s.encode(x)) - x) < 1e-12) }
        let g = CameraResponse.gamma(2.2)
        #expect(abs(g.encode(0.18) - pow(0.18, 1 / 2.2)) < 1e-15 && abs(g.decode(0.5) - pow(0.5, 2.2)) < 1e-15)
    }

    @Test(arguments: [
        (CameraResponse.srgb, 8), (CameraResponse.srgb, 10), (CameraResponse.gamma(2.2), 8),
        (CameraResponse.gamma(1.0), 4)
    ])
    func quantizeRoundTripsToTheNearestCodeLevel(curve: CameraResponse, bits: Int) {
        let step = CRFQuantizeStep(curve: curve, bits: bits)
        let levels = Double((1 << bits) - 1)
        var rng = SeededRNG(seed: 7)
        for _ in 0..<2000 {
            let x = Float(exp2(-14 * rng.uniform()))
            let q = Double(step.quantize(x))
            // The result is a code level's linear value, and that level is within half a step of CRF(x).
            let code = curve.encode(q) * levels
            #expect(abs(code - code.rounded()) < 1e-3)
            #expect(abs(code.rounded() / levels - curve.encode(Double(x))) <= 0.5 / levels + 1e-9)
        }
        #expect(step.quantize(5) == 1 && step.quantize(-1) == 0 && step.quantize(1) == 1)
    }

    /// The table lookup gives the formula's value bit for bit: on a dense sweep, on every float within 8 ulps of
    /// each code boundary, and outside [0, 1].
    @Test(arguments: [
        (CameraResponse.srgb, 8), (CameraResponse.srgb, 12), (CameraResponse.gamma(2.2), 8),
        (CameraResponse.gamma(1.0), 4)
    ])
    func quantizeByTableIsTheFormulaBitForBit(curve: CameraResponse, bits: Int) {
        let step = CRFQuantizeStep(curve: curve, bits: bits)
        var values: [Float] = [-1, 0, -0.0, 1, 5, .infinity, -.infinity, .leastNonzeroMagnitude, 1e-30]
        values += (0...200_000).map { Float($0) / 200_000 }
        var rng = SeededRNG(seed: 8)
        values += (0..<50_000).map { _ in Float(exp2(-24 * rng.uniform())) }
        let levels = Double((1 << bits) - 1)
        for k in 1..<(1 << bits) {
            var x = Float(curve.decode((Double(k) - 0.5) / levels))
            for _ in 0..<8 { x = x.nextDown }
            for _ in 0..<17 {
                values.append(x)
                x = x.nextUp
            }
        }
        var differ = 0
        for x in values where step.quantize(x).bitPattern != step.quantizeByFormula(x).bitPattern { differ += 1 }
        #expect(differ == 0, "\(differ) of \(values.count) values")
        #expect(step.quantize(.nan).isNaN == step.quantizeByFormula(.nan).isNaN)
    }

    /// The lookup by thresholds against the formula on every 1021st float of [0, 1] (about a million, every
    /// binade), 8-bit sRGB: what the default recipe quantizes with.
    @Test func quantizeIsTheFormulaOnASweepOfEveryBinade() {
        let step = CRFQuantizeStep(curve: .srgb, bits: 8)
        var differ = 0
        for p in stride(from: UInt32(0), through: (1.0 as Float).bitPattern, by: 1021) {
            let x = Float(bitPattern: p)
            if step.quantize(x).bitPattern != step.quantizeByFormula(x).bitPattern { differ += 1 }
        }
        #expect(differ == 0)
    }

    /// The lookup starts each value's count at its bucket's code (buckets of 2^16 bit patterns); the floats on both
    /// sides of every bucket edge in [0, 1] get the formula's value, at 8 bits (at most one threshold per bucket)
    /// and at 16 (many).
    @Test(arguments: [8, 16])
    func quantizeIsTheFormulaAtEveryBucketEdge(bits: Int) {
        let step = CRFQuantizeStep(curve: .srgb, bits: bits)
        var differ = 0
        var checked = 0
        for edge in stride(from: UInt32(0), through: (1.0 as Float).bitPattern, by: 1 << 16) {
            for p in (max(edge, 2) - 2)...(edge + 2) where p <= (1.0 as Float).bitPattern {
                let x = Float(bitPattern: p)
                checked += 1
                if step.quantize(x).bitPattern != step.quantizeByFormula(x).bitPattern { differ += 1 }
            }
        }
        #expect(checked > 80_000)
        #expect(differ == 0, "\(differ) of \(checked) values")
    }

    @Test func eightBitSrgbErrorBoundAndTargetUntouched() {
        let clean = HDRImage(width: 64, height: 4, pixels: (0..<768).map { Float($0) / 767 })
        var input = clean
        var target = clean
        var rng = SeededRNG(seed: 0)
        CRFQuantizeStep().apply(input: &input, target: &target, rng: &rng)
        #expect(target == clean)
        // Half a code step through the EOTF's steepest slope (2.4 / 1.055 at 1): < 0.0045 absolute.
        for i in clean.pixels.indices {
            #expect(abs(input.pixels[i] - clean.pixels[i]) <= 0.5 / 255 * 2.4 / 1.055 + 1e-6)
        }
        #expect(Set(input.pixels).count <= 256)
    }
}
