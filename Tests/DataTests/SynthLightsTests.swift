// The `lights` scene step: what it adds, against the closed form; how it draws; what its config refuses.
import Config
import EXRIO
import Foundation
import Numerics
import Testing

@testable import Data

struct SynthLightsTests {
    func uniform(_ value: Float, width: Int = 24, height: Int = 16) -> HDRImage {
        HDRImage(width: width, height: height, fill: value)
    }

    @Test func addsTheProfileTimesTheMedianToTargetAndInputAlike() throws {
        let step = LightsStep(
            probability: 1, count: 2...2, radius: ParameterRange(3), peak: ParameterRange(200),
            falloff: ParameterRange(3), aspect: ParameterRange(low: 1, high: 3, logarithmic: true))
        let clean = uniform(0.5)
        var input = clean
        var target = clean
        var rng = SeededRNG(seed: 5, 1, 0, 1)
        step.apply(input: &input, target: &target, rng: &rng)
        #expect(input == target)
        var again = SeededRNG(seed: 5, 1, 0, 1)
        let lights = step.draw(width: 24, height: 16, rng: &again)
        #expect(lights.count == 2)
        // The closed form, written out here: m * peak * (1 + (u / r)^2 + (v a / r)^2)^(-f / 2) * tint, summed over
        // the lights, with (u, v) the pixel centre's offset rotated by the light's angle; m = 0.5, the median.
        for y in 0..<16 {
            for x in 0..<24 {
                var add = [0.0, 0.0, 0.0]
                for l in lights {
                    let (dx, dy) = (Double(x) + 0.5 - l.x, Double(y) + 0.5 - l.y)
                    let u = dx * cos(l.angle) + dy * sin(l.angle)
                    let v = -dx * sin(l.angle) + dy * cos(l.angle)
                    let d2 = (u * u + v * v * l.aspect * l.aspect) / 9
                    let level = 0.5 * 200 * pow(1 + d2, -1.5)
                    add[0] += level * l.tint.r
                    add[1] += level * l.tint.g
                    add[2] += level * l.tint.b
                }
                for c in 0..<3 {
                    let expected = 0.5 + add[c]
                    #expect(abs(Double(target[c, y, x]) - expected) <= 1e-5 * expected)
                }
            }
        }
        // Every light lies inside the pair, with its drawn parameters within their ranges.
        for l in lights {
            #expect(l.x >= 0 && l.x < 24 && l.y >= 0 && l.y < 16)
            #expect(l.aspect >= 1 && l.aspect <= 3 && l.angle >= 0 && l.angle < Double.pi)
            #expect((l.radius, l.peak, l.falloff) == (3, 200, 3))
        }
    }

    @Test func theProfileFallsFromTheCoreAndIsNarrowerAcrossItsAxis() {
        let light = LightsStep.Light(
            x: 0, y: 0, radius: 2, peak: 100, falloff: 2, aspect: 2, angle: Double.pi / 2,
            tint: LightsStep.tint(0.25))
        #expect(abs(light.profile(0, 0) - 100) < 1e-12)
        // Rotated a quarter turn, the long axis is y: 4 px along y is d = 2, 4 px along x is d = 4.
        #expect(abs(light.profile(0, 4) - 100 / 5.0) < 1e-9)
        #expect(abs(light.profile(4, 0) - 100 / 17.0) < 1e-9)
        var last = Double.infinity
        for r in stride(from: 0.0, through: 40, by: 0.5) {
            let p = light.profile(r, r)
            #expect(p < last)
            last = p
        }
    }

    @Test func tintsHaveLuminanceOneFromBluishToWarm() {
        for t in stride(from: 0.0, through: 1.0, by: 0.05) {
            let c = LightsStep.tint(t)
            #expect(abs(0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b - 1) < 1e-12)
            #expect(c.r > 0 && c.g > 0 && c.b > 0)
        }
        let white = LightsStep.tint(0.25)
        #expect(abs(white.r - 1) < 1e-12 && abs(white.g - 1) < 1e-12 && abs(white.b - 1) < 1e-12)
        #expect(LightsStep.tint(0).b > LightsStep.tint(0).r)
        #expect(LightsStep.tint(1).r > LightsStep.tint(1).g && LightsStep.tint(1).g > LightsStep.tint(1).b)
    }

    @Test func theProbabilityAndTheCountAreDrawnPerPair() {
        let step = LightsStep(
            probability: 0.3, count: 1...3, radius: ParameterRange(low: 1, high: 8, logarithmic: true),
            peak: ParameterRange(low: 16, high: 2048, logarithmic: true),
            falloff: ParameterRange(low: 2, high: 4, logarithmic: false))
        var lit = 0
        var counts = [0, 0, 0, 0]
        var belowGeometricMean = 0
        for i in 0..<3000 {
            var rng = SeededRNG(seed: 8, UInt64(i), 0, 1)
            let lights = step.draw(width: 64, height: 64, rng: &rng)
            if !lights.isEmpty { lit += 1 }
            counts[lights.count] += 1
            for l in lights {
                #expect(l.radius >= 1 && l.radius <= 8 && l.peak >= 16 && l.peak <= 2048)
                #expect(l.falloff >= 2 && l.falloff <= 4 && l.aspect == 1)
                if l.peak < 181.02 { belowGeometricMean += 1 }
            }
        }
        #expect(abs(lit - 900) < 90)
        for n in 1...3 { #expect(abs(counts[n] - 300) < 60) }
        // The peak is log-uniform: half the lights below the range's geometric mean (sqrt(16 * 2048) = 181).
        let lights = counts[1] + 2 * counts[2] + 3 * counts[3]
        #expect(abs(Double(belowGeometricMean) / Double(lights) - 0.5) < 0.05)
        // Probability 0 leaves a pair as it was.
        let none = LightsStep(
            probability: 0, count: 1...1, radius: ParameterRange(2), peak: ParameterRange(10),
            falloff: ParameterRange(2))
        let clean = uniform(0.25)
        var (input, target) = (clean, clean)
        var rng = SeededRNG(seed: 1)
        none.apply(input: &input, target: &target, rng: &rng)
        #expect(input == clean && target == clean)
    }

    @Test func theReferenceLevelIsTheMedianElseTheMeanElseOne() {
        var image = uniform(0, width: 4, height: 4)
        #expect(LightsStep.referenceLevel(image) == 1)
        image[1, 2, 3] = 1.6  // one green pixel of 16: median 0, mean luminance 0.7152 * 1.6 / 16
        #expect(abs(LightsStep.referenceLevel(image) - 0.7152 * 0.1) < 1e-7)  // 1.6 is a Float
        let grey = uniform(0.3, width: 4, height: 4)
        #expect(abs(LightsStep.referenceLevel(grey) - 0.3) < 1e-6)
    }

    @Test func recipesReadTheStepAndRefuseWhatItCannotUse() throws {
        let recipe = try DegradationRecipe.parse(
            """
            name: l
            steps:
              - type: lights
                probability: 0.5
                count: [1, 2]
                radius: [1, 8]
                peak: [16, 2048]
                falloff: [2, 4]
                aspect: [1, 3]
            """)
        let step = try #require(recipe.steps.first as? LightsStep)
        #expect(step.count == 1...2 && step.probability == 0.5)
        #expect(step.radius.logarithmic && step.peak.logarithmic && !step.falloff.logarithmic)
        #expect(
            step.parameters == [
                "probability": .number(0.5), "count": .array([.integer(1), .integer(2)]),
                "radius": .array([.number(1), .number(8)]), "peak": .array([.number(16), .number(2048)]),
                "falloff": .array([.number(2), .number(4)]), "aspect": .array([.number(1), .number(3)])
            ])
        let minimal = try DegradationRecipe.parse(
            "name: l\nsteps:\n  - type: lights\n    radius: 2\n    peak: 50\n    falloff: 3\n")
        let defaults = try #require(minimal.steps.first as? LightsStep)
        #expect(defaults.probability == 1 && defaults.count == 1...1 && defaults.aspect == ParameterRange(1))
        let base = ["radius": "2", "peak": "50", "falloff": "3"]
        for (key, value) in [
            ("count", "[0, 2]"), ("count", "[3, 2]"), ("aspect", "0.5"), ("probability", "1.5"), ("radius", "-1"),
            ("peak", "0"), ("size", "3")
        ] {
            var keys = base
            keys[key] = value
            let yaml = "name: l\nsteps:\n  - type: lights\n" + keys.map { "    \($0): \($1)\n" }.joined()
            #expect(throws: ConfigError.self, "\(key): \(value)") { try DegradationRecipe.parse(yaml) }
        }
        #expect(throws: ConfigError.self) {
            try DegradationRecipe.parse("name: l\nsteps:\n  - type: lights\n    radius: 2\n    peak: 50\n")
        }
    }
}
