// `blur`: optical softness of the capture, a separable Gaussian on the input.
import Config
import EXRIO
import Glibc
import Numerics

/// Convolves each channel with a Gaussian of standard deviation `sigma` pixels, truncated at radius
/// ceil(3 sigma) and normalised to sum 1; pixels beyond the border repeat the edge (clamp-to-edge), so a
/// constant image stays constant. Rows then columns; sums in Double.
package struct BlurStep: DegradationStep {
    package static let type = "blur"
    package static let keys = ["sigma"]

    /// Standard deviation in pixels, > 0.
    package var sigma: Double

    package init(sigma: Double) { self.sigma = sigma }

    package init(config: ConfigMapping) throws {
        sigma = try config.required("sigma", in: .greaterThan(0.0))
    }

    package var parameters: [String: JSONValue] { ["sigma": .number(sigma)] }

    package func apply(input: inout HDRImage, target: inout HDRImage, rng: inout SeededRNG) {
        input = Self.blur(input, sigma: sigma)
    }

    /// 2r + 1 weights, r = ceil(3 sigma), w[r + d] proportional to exp(-d^2 / (2 sigma^2)), summing to 1.
    package static func weights(sigma: Double) -> [Double] {
        let r = Int((3 * sigma).rounded(.up))
        let w = (-r...r).map { d in exp(-Double(d * d) / (2 * sigma * sigma)) }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    /// - Parameter image: (3, H, W). - Returns: (3, H, W).
    package static func blur(_ image: HDRImage, sigma: Double) -> HDRImage {
        let w = weights(sigma: sigma)
        let r = w.count / 2
        let (width, height) = (image.width, image.height)
        var rows = HDRImage(width: width, height: height)
        var out = HDRImage(width: width, height: height)
        image.pixels.withUnsafeBufferPointer { src in
            rows.pixels.withUnsafeMutableBufferPointer { dst in
                for plane in 0..<(3 * height) {
                    let base = plane * width
                    for x in 0..<width {
                        var s = 0.0
                        for k in 0..<w.count {
                            let xx = min(max(x + k - r, 0), width - 1)
                            s += w[k] * Double(src[base + xx])
                        }
                        dst[base + x] = Float(s)
                    }
                }
            }
        }
        rows.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    let base = c * height * width
                    for y in 0..<height {
                        for x in 0..<width {
                            var s = 0.0
                            for k in 0..<w.count {
                                let yy = min(max(y + k - r, 0), height - 1)
                                s += w[k] * Double(src[base + yy * width + x])
                            }
                            dst[base + y * width + x] = Float(s)
                        }
                    }
                }
            }
        }
        return out
    }
}
