// `exposure`: the scene stage, scaling the clean image so a luminance percentile lands on a chosen value.
import Config
import EXRIO
import Numerics

/// Multiplies target and input by value / P, where P is the `percentile`-th percentile of the target's Rec. 709
/// luminance (0.2126 R + 0.7152 G + 0.0722 B), interpolated linearly between order statistics (rank
/// p/100 * (n-1), numpy's default). Scaling is linear, so afterwards the target's percentile is `value`.
/// When P is 0 (an all-black patch, or one where more than (100 - percentile)% of pixels are black) no
/// scale can reach `value` and both images are left as they are. `value` may be a range [low, high], drawn
/// log-uniformly per pair: an auto-exposure that misses its target by a random number of stops.
///
/// With `clip_fraction` (a fraction or a range [low, high], drawn uniformly per pair) the step instead exposes for
/// the highlights: it scales so that that fraction of the pixels has its brightest channel at or above `white`
/// (default 1.0, a later clip step's level), i.e. maps the (1 - f) quantile of max(R, G, B) to `white`: the way a
/// camera's auto-exposure leaves a chosen share of a scene clipped, whatever its dynamic range.
///
/// `over: patch` (the default) takes the percentile or quantile over the pair being made; `over: image` over the
/// whole source image a patch was cut from (`SourceStatistics`, passed by the online loader and `synth`), so a
/// patch is exposed as the camera exposed the frame: patches of a clipped sky come out clipped whole and patches
/// of shadow not at all, as in a photograph's crops.
package struct ExposureStep: DegradationStep {
    package static let type = "exposure"
    package static let keys = ["percentile", "value", "clip_fraction", "white", "over"]

    /// What the exposure is measured over.
    package enum Scope: String, Sendable, CaseIterable {
        case patch, image
    }

    /// In [0, 100].
    package var percentile: Double
    /// Linear luminance the percentile is mapped to, > 0: a number, or a range [low, high] drawn log-uniformly per
    /// pair (an exposure's error counts in stops).
    package var value: ParameterRange
    /// When set: the share of pixels to leave at or above `white` (each in (0, 1)), instead of percentile/value.
    package var clipFraction: ParameterRange?
    package var white: Double
    package var over: Scope

    package init(percentile: Double = 50, value: Double = 0.18, over: Scope = .patch) {
        self.init(percentile: percentile, value: ParameterRange(value), over: over)
    }

    package init(percentile: Double, value: ParameterRange, over: Scope = .patch) {
        self.percentile = percentile
        self.value = value
        self.clipFraction = nil
        self.white = 1
        self.over = over
    }

    package init(clipFraction: ParameterRange, white: Double = 1, over: Scope = .patch) {
        self.init(over: over)
        self.clipFraction = clipFraction
        self.white = white
    }

    package init(config: ConfigMapping) throws {
        let overName: String = try config.value("over", default: Scope.patch.rawValue)
        guard let over = Scope(rawValue: overName) else {
            let names = Scope.allCases.map(\.rawValue).joined(separator: " or ")
            throw config.error("over", "expected \(names), got '\(overName)'")
        }
        if config.contains("clip_fraction") {
            for key in ["percentile", "value"] where config.contains(key) {
                throw config.error(key, "not used with clip_fraction (which sets the exposure itself)")
            }
            self.init(
                clipFraction: try ParameterRange(
                    config: config, key: "clip_fraction", bounds: .within(0.0001...0.9999)),
                white: try config.value("white", default: 1.0, in: .greaterThan(0)), over: over)
        } else {
            if config.contains("white") { throw config.error("white", "only used with clip_fraction") }
            self.init(
                percentile: try config.value("percentile", default: 50.0, in: .within(0...100)),
                value: config.contains("value")
                    ? try ParameterRange(config: config, key: "value", bounds: .greaterThan(0), logarithmic: true)
                    : ParameterRange(0.18), over: over)
        }
    }

    /// `over` is listed only when it is `image`, so the manifests of recipes without it read as before.
    package var parameters: [String: JSONValue] {
        var p: [String: JSONValue] =
            clipFraction.map { ["clip_fraction": $0.json, "white": .number(white)] }
            ?? ["percentile": .number(percentile), "value": value.json]
        if over == .image { p["over"] = .string(over.rawValue) }
        return p
    }

    package var usesSourceStatistics: Bool { over == .image }

    /// The factor that leaves fraction f of `target`'s pixels with max(R, G, B) >= white (1 when that quantile
    /// is 0).
    package func clipScale(for target: HDRImage, fraction f: Double) -> Double {
        guard target.planeCount > 0 else { return 1 }
        var peaks = SourceStatistics.peaks(target)
        let q = SourceStatistics.quantile(selecting: &peaks, 1 - f)
        return q > 0 ? white / q : 1
    }

    /// The factor the step applies to this target (1 when its percentile luminance is 0), for the drawn value `v`;
    /// nil only when the value is one number (a range has no value without a draw).
    package func scale(for target: HDRImage, value v: Double? = nil) -> Double {
        let p = Self.luminancePercentile(target, percentile)
        return p > 0 ? resolved(v) / p : 1
    }

    /// The factor for a patch of an image with these statistics: white over its (1 - f) quantile of max(R, G,
    /// B) with `clip_fraction`, else the drawn value `v` (nil only for a single number) over its percentile
    /// luminance (1 when that quantile is 0).
    package func scale(for source: SourceStatistics, fraction f: Double?, value v: Double? = nil) -> Double {
        if let f {
            let q = source.peak(at: 1 - f)
            return q > 0 ? white / q : 1
        }
        let p = source.luminance(at: percentile / 100)
        return p > 0 ? resolved(v) / p : 1
    }

    /// `v`, or the value when it is a single number; a range without a drawn value is a caller's error.
    private func resolved(_ v: Double?) -> Double {
        if let v { return v }
        precondition(
            !value.isRange, "ExposureStep: value \(value.low)...\(value.high) is a range: pass the drawn value")
        return value.low
    }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        apply(input: &input, target: &target, rng: &rng, source: nil)
    }

    /// With `over: image`, the exposure of `source` (the whole image; `target` itself when nil, the pair then
    /// being the whole image), else of `target`.
    package func apply(
        input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG, source: SourceStatistics?
    ) {
        // A fixed value or fraction draws nothing, so a recipe without ranges uses its stream as before ranges
        // existed (with clip_fraction the value is always the fixed default).
        let f = clipFraction?.draw(&rng)
        let v = value.draw(&rng)
        let s =
            over == .image
            ? scale(for: source ?? SourceStatistics(target), fraction: f, value: v)
            : f.map { clipScale(for: target, fraction: $0) } ?? scale(for: target, value: v)
        guard s != 1 else { return }
        target.mapValues { Float(Double($0) * s) }
        input.mapValues { Float(Double($0) * s) }
    }

    /// Percentile (0...100) of Rec. 709 luminance over all pixels, with linear interpolation between ranks.
    /// - Parameter image: (3, H, W), finite values.
    package static func luminancePercentile(_ image: HDRImage, _ percentile: Double) -> Double {
        guard image.planeCount > 0 else { return 0 }
        var luminances = SourceStatistics.luminances(image)
        return SourceStatistics.quantile(selecting: &luminances, percentile / 100)
    }
}
