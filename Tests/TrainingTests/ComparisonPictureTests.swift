// The report's pictures: the tone map PSNR-mu uses, the heat map's scale and the crop.
import EXRIO
import Foundation
import Testing

@testable import Training

struct ComparisonPictureTests {
    /// A w x h image whose every channel is `value(x, y)`.
    static func image(_ w: Int, _ h: Int, _ value: (Int, Int) -> Float) -> HDRImage {
        var px = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h { for x in 0..<w { px[c * w * h + y * w + x] = value(x, y) } }
        }
        return HDRImage(width: w, height: h, pixels: px)
    }

    @Test func panelsShareThePSNRMuToneMapAndTheHeatMapShowsTheLogError() {
        // 10 x 4: the target is 1 everywhere except one bright pixel of 100; the restored image is the target
        // times e in its left half (log error exactly 1).
        let target = Self.image(10, 4) { x, y in x == 9 && y == 3 ? 100 : 1 }
        let restored = Self.image(10, 4) { x, y in
            x < 5 ? Float(M_E) * target.pixels[y * 10 + x] : target.pixels[y * 10 + x]
        }
        let input = Self.image(10, 4) { _, _ in 0 }
        let p = ComparisonPicture.render(input: input, restored: restored, target: target, eps: 1e-4)
        #expect(p.width == 4 * 10 + 3 * ComparisonPicture.gap && p.height == 2 * 4 + ComparisonPicture.gap)
        // q: numpy's 99th percentile of 117 ones and 3 hundreds (three channels of 40 pixels): rank
        // 0.99 * 119 = 117.81 lies between sorted values 117 and 118, both 100, so q = 100.
        let q = 100.0
        func tone(_ v: Double) -> UInt8 {
            UInt8((log1p(5000 * tanh(v / q)) / log1p(5000) * 255).rounded())
        }
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(p.rgb[(y * p.width + x) * 3..<(y * p.width + x) * 3 + 3]) }
        let panel = 10 + ComparisonPicture.gap
        #expect(px(0, 0) == [0, 0, 0], "input 0: black")
        #expect(px(panel + 7, 0) == Array(repeating: tone(1), count: 3), "restored = target = 1")
        #expect(px(2 * panel + 9, 3) == Array(repeating: tone(100), count: 3), "the highlight, tanh-saturated")
        #expect(px(10, 0) == [255, 255, 255], "the gap is white")
        // Heat: log error 0 is the first stop, 1 (= heatTop) the last.
        #expect(px(3 * panel + 7, 0) == [0, 0, 4])
        #expect(px(3 * panel + 2, 0) == [252, 255, 164])
        #expect(ComparisonPicture.heat(0.5) == (188, 55, 84) && ComparisonPicture.heat(.nan) == (252, 255, 164))
        // The highlight row (below a white gap): log2 luminance over the 8 stops below the target's brightest
        // (100, so black at 100 / 256): a luminance of 1 is (log2(1) - (log2(100) - 8)) / 8 of the way up.
        let row = 4 + ComparisonPicture.gap
        func rgb(_ c: (UInt8, UInt8, UInt8)) -> [UInt8] { [c.0, c.1, c.2] }
        #expect(px(0, 4) == [255, 255, 255], "the gap between the rows is white")
        #expect(px(0, row) == [0, 0, 4], "input 0: below the range")
        #expect(px(2 * panel + 9, row + 3) == [252, 255, 164], "the target's brightest: the top colour")
        let one = (0 - (log2(100.0) - ComparisonPicture.viewStops)) / ComparisonPicture.viewStops
        #expect(px(2 * panel + 7, row) == rgb(ComparisonPicture.heat(one)))
        #expect(px(panel + 7, row) == px(2 * panel + 7, row), "restored = target there")
        #expect(px(panel + 2, row) != px(2 * panel + 2, row), "e times brighter: another level")
        // Signed error in stops: black where equal, red where brighter (log2((e + eps) / (1 + eps)) = 1.44 stops,
        // 0.72 of the full colour at 2), blue where darker.
        #expect(px(3 * panel + 7, row) == [0, 0, 0])
        let d = log2((M_E + 1e-4) / (1 + 1e-4)) / ComparisonPicture.signedTop
        #expect(px(3 * panel + 2, row) == [255 * d, 80 * d, 40 * d].map { UInt8($0.rounded()) })
        #expect(ComparisonPicture.signed(-5) == (60, 130, 255) && ComparisonPicture.signed(.nan) == (255, 255, 255))
    }

    @Test func theHighlightRowSpansTheTargetFromItsMedianToItsBrightest() {
        // A room at 1 with a flame at 2^14 (14 stops, more than the minimum 8): a pixel at 2^7 sits half way up.
        let target = Self.image(12, 6) { x, y in x == 11 && y == 5 ? 16384 : x == 3 && y == 2 ? 128 : 1 }
        let p = ComparisonPicture.render(input: target, restored: target, target: target, eps: 1e-4)
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(p.rgb[(y * p.width + x) * 3..<(y * p.width + x) * 3 + 3]) }
        let row = 6 + ComparisonPicture.gap
        let half = ComparisonPicture.heat(0.5)
        #expect(px(3, row + 2) == [half.0, half.1, half.2])
        #expect(px(0, row) == [0, 0, 4], "the median: the bottom of the range")
        #expect(px(11, row + 5) == [252, 255, 164])
        // Beyond 20 stops the range stops growing: the room falls below it, still black.
        #expect(ComparisonPicture.level(1, top: 30, stops: 20) == (0, 0, 4))
        #expect(ComparisonPicture.level(1024, top: 30, stops: 20) == (0, 0, 4))
        #expect(ComparisonPicture.level(1_048_576, top: 30, stops: 20) == ComparisonPicture.heat(0.5))
    }

    @Test func largeImagesAreCroppedAroundTheBrightestPixelInsideTheImage() {
        let target = Self.image(600, 300) { x, y in x == 590 && y == 10 ? 50 : 0.5 }
        #expect(ComparisonPicture.cropOrigin(target: target, w: 256, h: 256) == (344, 0))
        let centre = Self.image(600, 300) { x, y in x == 300 && y == 150 ? 50 : 0.5 }
        #expect(ComparisonPicture.cropOrigin(target: centre, w: 256, h: 256) == (172, 22))
        let p = ComparisonPicture.render(input: target, restored: target, target: target, eps: 1e-4)
        #expect(p.width == 4 * 256 + 3 * ComparisonPicture.gap && p.height == 2 * 256 + ComparisonPicture.gap)
    }
}
