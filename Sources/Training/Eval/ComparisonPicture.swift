// The picture a report shows for one image, as 8-bit RGB (PNG through EXRIO.PNGFile), two rows of four panels:
// 1. input | restored | target | log-error heat map. The three images share one tone map, the one PSNR-mu scores
//    (ImageMetrics.muTonemap with the target's normaliser), so what looks different is what the metric counts.
// 2. The highlights: input | restored | target as log2 luminance from the target crop's brightest pixel to its median,
//    in false colour, and the restored luminance's signed error in stops. The tone map of row 1 saturates every
//    highlight to white, so a flat fill of a clipped region and a highlight with a shape look alike there; here a
//    fill is one colour and a highlight has levels.
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
    /// The highlight row's range: log2 luminance from the target crop's brightest pixel down to its median, but at
    /// least `viewStops` and at most `viewStopsMax` stops (a candle flame 14 stops above the room still shows the room).
    package static let viewStops = 8.0
    package static let viewStopsMax = 20.0
    /// The signed error's full colour: restored luminance this many stops above (red) or below (blue) the target's.
    package static let signedTop = 2.0
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

    /// The composite as (rgb bytes, width, height): two rows of four panels of min(crop, image) pixels, `gap`
    /// apart.
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
        let outH = 2 * h + gap
        var rgb = [UInt8](repeating: 255, count: outW * outH * 3)
        let n = target.planeCount
        func luminance(_ image: HDRImage, _ i: Int) -> Double {
            0.2126 * Double(image.pixels[i]) + 0.7152 * Double(image.pixels[n + i]) + 0.0722
                * Double(image.pixels[2 * n + i])
        }
        // The highlight row's range: the target crop's brightest luminance down to its median (a floor keeps a
        // black crop drawable), at least `viewStops` and at most `viewStopsMax` stops.
        var crop = [Double]()
        crop.reserveCapacity(w * h)
        for y in 0..<h {
            for x in 0..<w { crop.append(max(1e-30, luminance(target, (oy + y) * target.width + (ox + x)))) }
        }
        crop.sort()
        let topStops = log2(crop[crop.count - 1])
        let range = min(max(viewStops, topStops - log2(crop[crop.count / 2])), viewStopsMax)
        func put(_ panel: Int, row: Int, _ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            let o = ((row * (h + gap) + y) * outW + panel * (w + gap) + x) * 3
            rgb[o] = c.0
            rgb[o + 1] = c.1
            rgb[o + 2] = c.2
        }
        for y in 0..<h {
            for x in 0..<w {
                let i = (oy + y) * target.width + (ox + x)
                for (panel, image) in [input, restored, target].enumerated() {
                    let o = (y * outW + panel * (w + gap) + x) * 3
                    for c in 0..<3 { rgb[o + c] = tone(image.pixels[c * n + i]) }
                    put(panel, row: 1, x, y, level(luminance(image, i), top: topStops, stops: range))
                }
                var e = 0.0
                for c in 0..<3 {
                    e += abs(
                        Double(log(restored.pixels[c * n + i] + eps)) - Double(log(target.pixels[c * n + i] + eps)))
                }
                put(3, row: 0, x, y, heat(e / 3))
                let d = log2((luminance(restored, i) + Double(eps)) / (luminance(target, i) + Double(eps)))
                put(3, row: 1, x, y, signed(d))
            }
        }
        return (rgb, outW, outH)
    }

    /// Colour of a luminance in the highlight row: log2(y) from `top - stops` (black) to `top` (pale yellow),
    /// clamped at both ends; a NaN or non-positive luminance is black.
    static func level(_ y: Double, top: Double, stops: Double) -> (UInt8, UInt8, UInt8) {
        guard y > 0 else { return heat(0) }
        let t = (log2(y) - (top - stops)) / stops
        return heat(t.isNaN ? 0 : max(0, min(1, t)) * heatTop)
    }

    /// Colour of a signed error d in stops: black at 0, towards red above (too bright) and blue below (too dark),
    /// full at |d| >= `signedTop`; NaN is white.
    static func signed(_ d: Double) -> (UInt8, UInt8, UInt8) {
        if d.isNaN { return (255, 255, 255) }
        let t = min(abs(d) / signedTop, 1)
        func v(_ full: Double) -> UInt8 { UInt8((full * t).rounded()) }
        return d > 0 ? (v(255), v(80), v(40)) : (v(60), v(130), v(255))
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
