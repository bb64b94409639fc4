// `zoom`: a scene step that magnifies the centre of the pair, so that small sources show highlights at the size a
// photograph shows them.
import Config
import EXRIO
import Numerics

/// Draws a factor s (log-uniformly when `factor` is a range) and magnifies target and input alike by s about
/// their centre (`AffineWarp` with scale s: bilinear): the central 1/s of the pair fills it. For s >= 1 every
/// sample lies inside the image, so the edge is never repeated. s == 1 leaves both unchanged.
///
/// Why: the training panoramas are 1k equirectangular maps, about 0.35 degrees a pixel, where a sun and its glare
/// span a few pixels; in a photograph of 50 degrees across 1000 pixels the same highlight spans six times as many.
/// A scene step (like `exposure`) because the target is the scene as a perfect capture at that magnification
/// would record it. Put it before `exposure`, so that the exposure measures the pixels the pair holds.
package struct ZoomStep: DegradationStep {
    package static let type = "zoom"
    package static let keys = ["factor"]

    /// The magnification, >= 1, or a range drawn log-uniformly for each pair.
    package var factor: ParameterRange

    package init(factor: ParameterRange) { self.factor = factor }

    package init(config: ConfigMapping) throws {
        factor = try ParameterRange(config: config, key: "factor", bounds: .atLeast(1.0), logarithmic: true)
    }

    package var parameters: [String: JSONValue] { ["factor": factor.json] }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        let s = factor.draw(&rng)
        if s == 1 { return }
        let warp = AffineWarp(scale: s)
        target = warp.apply(target)
        input = warp.apply(input)
    }
}
