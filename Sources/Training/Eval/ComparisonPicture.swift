// The picture a report shows for one image: input | restored | target | log-error heat map, side by side, as 8-bit
// RGB (PNG through EXRIO.PNGFile). The three images share one tone map, the one PSNR-mu scores
// (ImageMetrics.muTonemap with the target's normaliser), so what looks different is what the metric counts.
import EXRIO
import Foundation

package enum ComparisonPicture {
    /// Side of the crop taken from larger images (centred on the target's brightest pixel, where clipping and
    /// overflow happen).
    package static let crop = 256
    /// Gap between the panels, white.
    static let gap = 4
    /// The heat map's top: |log error| of 1.0 (a factor e) and above is the brightest colour.
    package static let heatTop = 1.0
    /// Inferno-like stops, black to pale yellow (perceptually ordered, readable in grey).
    static let stops: [(Double, Double, Double)] = [
        (0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)
    ]

    /// The crop's top-left corner: centred on the target's brightest pixel (luminance), inside the image.
    static func cropOrigin(target: HDRImage, w: Int, h: Int) -> (x: Int, y: Int) {
        let n = target.planeCount
        var best = 0
        var bestY = -Float.infinity
        for i in 0..<n {
            let y = 0.2126 * target.pixels[i] + 0.7152 * target.pixels[n + i] + 0.0722 * target.pixels[2 * n + i]
            if y > bestY {
                bestY = y
                best = i
            }
        }
        let cx = best % target.width
        let cy = best / target.width
        return (min(max(0, cx - w / 2), target.width - w), min(max(0, cy - h / 2), target.height - h))
    }

    /// The composite as (rgb bytes, width, height): four panels of min(crop, image) pixels.
    /// - Parameter eps: the model's LogNorm eps: the heat map is |log(restored + eps) - log(target + eps)| averaged
    ///   over the channels, the per-pixel log-L1 the metrics report.
    package static func render(
        input: HDRImage, restored: HDRImage, target: HDRImage, eps: Float
    ) -> (
        rgb: [UInt8], width: Int, height: Int
    ) {
        precondition(
            input.width == target.width && input.height == target.height && restored.width == target.width
                && restored.height == target.height, "ComparisonPicture: sizes differ")
        let w = min(crop, target.width)
        let h = min(crop, target.height)
        let (ox, oy) = cropOrigin(target: target, w: w, h: h)
        let q = ImageMetrics.muNormaliser(target.pixels)
        func tone(_ v: Float) -> UInt8 {
            let t = ImageMetrics.muTonemap(v, q: q)
            return t.isNaN ? 255 : UInt8(max(0, min(255, (t * 255).rounded())))
        }
        let outW = 4 * w + 3 * gap
        var rgb = [UInt8](repeating: 255, count: outW * h * 3)
        let n = target.planeCount
        for y in 0..<h {
            for x in 0..<w {
                let i = (oy + y) * target.width + (ox + x)
                for (panel, image) in [input, restored, target].enumerated() {
                    let o = (y * outW + panel * (w + gap) + x) * 3
                    for c in 0..<3 { rgb[o + c] = tone(image.pixels[c * n + i]) }
                }
                var e = 0.0
                for c in 0..<3 {
                    e += abs(
                        Double(log(restored.pixels[c * n + i] + eps)) - Double(log(target.pixels[c * n + i] + eps)))
                }
                let (r, g, b) = heat(e / 3)
                let o = (y * outW + 3 * (w + gap) + x) * 3
                rgb[o] = r
                rgb[o + 1] = g
                rgb[o + 2] = b
            }
        }
        return (rgb, outW, h)
    }

    /// Colour of a |log error| (NaN and beyond `heatTop`: the top colour).
    static func heat(_ e: Double) -> (UInt8, UInt8, UInt8) {
        let t = e.isNaN ? 1 : min(max(e / heatTop, 0), 1)
        let s = t * Double(stops.count - 1)
        let k = min(Int(s), stops.count - 2)
        let f = s - Double(k)
        let (a, b) = (stops[k], stops[k + 1])
        func mix(_ x: Double, _ y: Double) -> UInt8 { UInt8((x + (y - x) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// Renders and writes the PNG atomically.
    package static func write(
        _ path: String, input: HDRImage, restored: HDRImage, target: HDRImage, eps: Float
    )
        throws
    {
        let p = render(input: input, restored: restored, target: target, eps: eps)
        try PNGFile.write(path, rgb: p.rgb, width: p.width, height: p.height)
    }
}
