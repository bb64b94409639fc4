// A small similarity warp (shift, rotation, scale about the image centre) resampled bilinearly.
import EXRIO
import Glibc

/// Maps source content to output: a source point s lands at c + scale * R(rotation) * (s - c) + (dx, dy),
/// c = ((W - 1) / 2, (H - 1) / 2), pixel centres at integer coordinates. So dx = 1 moves content one
/// pixel right: out(x, y) = in(x - 1, y).
package struct AffineWarp: Sendable, Equatable {
    package var dx: Double
    package var dy: Double
    /// Degrees; positive turns content clockwise on screen, because +y points down (rows).
    package var rotationDegrees: Double
    package var scale: Double

    package init(dx: Double = 0, dy: Double = 0, rotationDegrees: Double = 0, scale: Double = 1) {
        self.dx = dx
        self.dy = dy
        self.rotationDegrees = rotationDegrees
        self.scale = scale
    }

    /// Each output pixel samples the source at the inverse-mapped point, bilinearly; coordinates outside the
    /// image are clamped to the edge (the border repeats instead of turning black).
    /// - Parameter image: (3, H, W). - Returns: (3, H, W).
    package func apply(_ image: HDRImage) -> HDRImage {
        let (w, h) = (image.width, image.height)
        var out = HDRImage(width: w, height: h)
        guard w > 0, h > 0 else { return out }
        let cx = Double(w - 1) / 2
        let cy = Double(h - 1) / 2
        let theta = rotationDegrees * Double.pi / 180
        // Inverse of scale * R(theta): R(-theta) / scale.
        let ca = cos(theta) / scale
        let sa = sin(theta) / scale
        let n = w * h
        image.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        let ox = Double(x) - cx - dx
                        let oy = Double(y) - cy - dy
                        let sx = min(max(ca * ox + sa * oy + cx, 0), Double(w - 1))
                        let sy = min(max(-sa * ox + ca * oy + cy, 0), Double(h - 1))
                        let x0 = Int(sx)
                        let y0 = Int(sy)
                        let x1 = min(x0 + 1, w - 1)
                        let y1 = min(y0 + 1, h - 1)
                        let fx = sx - Double(x0)
                        let fy = sy - Double(y0)
                        for c in 0..<3 {
                            let b = c * n
                            let top = Double(src[b + y0 * w + x0]) * (1 - fx) + Double(src[b + y0 * w + x1]) * fx
                            let bottom = Double(src[b + y1 * w + x0]) * (1 - fx) + Double(src[b + y1 * w + x1]) * fx
                            dst[b + y * w + x] = Float(top * (1 - fy) + bottom * fy)
                        }
                    }
                }
            }
        }
        return out
    }
}
