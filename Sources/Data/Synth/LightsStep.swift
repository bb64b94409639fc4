// `lights`: a scene step that adds light sources with a bright core and a soft falloff, so that training pairs hold
// clipped regions whose inside has a shape.
import Config
import EXRIO
import Foundation
import Numerics

/// With probability `probability` a pair gets `count` lights (an integer drawn uniformly from the range), each
/// added to target and input alike:
///
///     L(x, y) = m * peak * (1 + d^2)^(-falloff / 2) * tint,   d^2 = (u / radius)^2 + (v * aspect / radius)^2
///
/// where (u, v) is the pixel's offset from the light's centre (uniform over the pair) rotated by an angle uniform
/// in [0, pi), m the pair's median Rec. 709 luminance before the step (its mean when the median is 0; 1 when both
/// are), and `tint` an RGB of luminance 1 from a bluish white to a warm lamp. Far from the core the light falls
/// as d^-falloff, like the glare around a lamp or the sun; where it exceeds a capture's white the input clips and
/// the target keeps rising towards the core, which is what a fill learns a shape from.
///
/// Why: the training panoramas' clipped regions are small and lie mostly at their edges (61% of clipped pixels
/// within 3 px, docs/training-recipe.md), and deep inside them the target barely rises (correlation with depth
/// 0.17), so the networks learn one flat level. Put it before `exposure`; the exposure then measures the pair
/// with its lights, as a camera would.
package struct LightsStep: DegradationStep {
    package static let type = "lights"
    package static let keys = ["probability", "count", "radius", "peak", "falloff", "aspect"]

    /// The share of pairs that get lights, in [0, 1].
    package var probability: Double
    /// How many lights such a pair gets: integers, low...high drawn uniformly.
    package var count: ClosedRange<Int>
    /// The core's radius in pixels, > 0 (log-uniform when a range).
    package var radius: ParameterRange
    /// The core's luminance over the pair's median luminance, > 0 (log-uniform when a range).
    package var peak: ParameterRange
    /// The halo's power-law exponent, > 0 (uniform when a range).
    package var falloff: ParameterRange
    /// The core's elongation, >= 1 (log-uniform when a range).
    package var aspect: ParameterRange

    package init(
        probability: Double, count: ClosedRange<Int>, radius: ParameterRange, peak: ParameterRange,
        falloff: ParameterRange, aspect: ParameterRange = ParameterRange(1)
    ) {
        (self.probability, self.count, self.radius, self.peak) = (probability, count, radius, peak)
        (self.falloff, self.aspect) = (falloff, aspect)
    }

    package init(config: ConfigMapping) throws {
        let counts: ClosedRange<Int>
        if config.holdsSequence("count") {
            let v: [Int] = try config.values("count")
            guard v.count == 2, v[0] >= 1, v[0] <= v[1] else {
                throw config.error(
                    "count", "expected an integer >= 1 or a range [low, high] with 1 <= low <= high, got \(v)")
            }
            counts = v[0]...v[1]
        } else {
            let n = try config.value("count", default: 1, in: .atLeast(1))
            counts = n...n
        }
        self.init(
            probability: try config.value("probability", default: 1.0, in: .within(0...1)), count: counts,
            radius: try ParameterRange(config: config, key: "radius", bounds: .greaterThan(0), logarithmic: true),
            peak: try ParameterRange(config: config, key: "peak", bounds: .greaterThan(0), logarithmic: true),
            falloff: try ParameterRange(config: config, key: "falloff", bounds: .greaterThan(0)),
            aspect: config.contains("aspect")
                ? try ParameterRange(config: config, key: "aspect", bounds: .atLeast(1), logarithmic: true)
                : ParameterRange(1))
    }

    package var parameters: [String: JSONValue] {
        [
            "probability": .number(probability),
            "count": count.lowerBound == count.upperBound
                ? .integer(count.lowerBound) : .array([.integer(count.lowerBound), .integer(count.upperBound)]),
            "radius": radius.json, "peak": peak.json, "falloff": falloff.json, "aspect": aspect.json
        ]
    }

    /// A light's colour: linear RGB multipliers.
    package struct Tint: Equatable, Sendable {
        package var r, g, b: Double
    }

    /// One light as drawn.
    package struct Light: Equatable, Sendable {
        package var x, y, radius, peak, falloff, aspect, angle: Double
        /// Linear RGB multipliers, Rec. 709 luminance 1.
        package var tint: Tint

        /// The light's luminance over the reference level at pixel (px, py).
        package func profile(_ px: Double, _ py: Double) -> Double {
            profile(px, py, cos: Foundation.cos(angle), sin: Foundation.sin(angle))
        }

        /// `profile(px, py)` with the angle's cosine and sine given (computed once per light, not per pixel).
        func profile(_ px: Double, _ py: Double, cos c: Double, sin s: Double) -> Double {
            let (dx, dy) = (px - x, py - y)
            let u = (dx * c + dy * s) / radius
            let v = (-dx * s + dy * c) * aspect / radius
            return peak * pow(1 + u * u + v * v, -falloff / 2)
        }
    }

    /// The lights of one pair of size width x height (none when the pair is not drawn), in the stream's order:
    /// the probability's draw, then the count's, then each light's centre, radius, peak, falloff, aspect, angle and
    /// tint.
    package func draw(width: Int, height: Int, rng: inout SeededRNG) -> [Light] {
        guard rng.uniform() < probability else { return [] }
        let n = count.lowerBound + rng.below(count.upperBound - count.lowerBound + 1)
        return (0..<n).map { _ in
            let x = rng.uniform() * Double(width)
            let y = rng.uniform() * Double(height)
            let r = radius.draw(&rng)
            let p = peak.draw(&rng)
            let f = falloff.draw(&rng)
            let a = aspect.draw(&rng)
            let angle = rng.uniform() * Double.pi
            return Light(
                x: x, y: y, radius: r, peak: p, falloff: f, aspect: a, angle: angle, tint: Self.tint(rng.uniform()))
        }
    }

    /// A colour from t in [0, 1]: t = 0.25 is white, below it bluish (daylight through a window), above it warmer
    /// up to an incandescent lamp's orange; normalised to Rec. 709 luminance 1.
    package static func tint(_ t: Double) -> Tint {
        let w = (t - 0.25) / 0.75  // -1/3 ... 1
        let rgb = w >= 0 ? (1.0, 1 - 0.22 * w, 1 - 0.6 * w) : (1 + 0.6 * w, 1 + 0.15 * w, 1.0)
        let y = 0.2126 * rgb.0 + 0.7152 * rgb.1 + 0.0722 * rgb.2
        return Tint(r: rgb.0 / y, g: rgb.1 / y, b: rgb.2 / y)
    }

    /// The reference level the peaks are relative to: the median luminance, else the mean, else 1.
    /// The luminances are computed once: the mean before the median's selection reorders them.
    package static func referenceLevel(_ image: HDRImage) -> Double {
        var lum = SourceStatistics.luminances(image)
        if lum.isEmpty { return 1 }
        let mean = lum.reduce(0, +) / Double(lum.count)
        let median = SourceStatistics.quantile(selecting: &lum, 0.5)
        if median > 0 { return median }
        return mean > 0 ? mean : 1
    }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        let lights = draw(width: target.width, height: target.height, rng: &rng)
        if lights.isEmpty { return }
        let m = Self.referenceLevel(target)
        let (w, h) = (target.width, target.height)
        let n = w * h
        var added = [Float](repeating: 0, count: 3 * n)
        for light in lights {
            let t = light.tint
            let (c, s) = (cos(light.angle), sin(light.angle))
            for y in 0..<h {
                for x in 0..<w {
                    let l = m * light.profile(Double(x) + 0.5, Double(y) + 0.5, cos: c, sin: s)
                    let i = y * w + x
                    added[i] += Float(l * t.r)
                    added[n + i] += Float(l * t.g)
                    added[2 * n + i] += Float(l * t.b)
                }
            }
        }
        for i in added.indices {
            target.pixels[i] += added[i]
            input.pixels[i] += added[i]
        }
    }
}
