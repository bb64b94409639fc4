// PatchCrop: the one-pass crop + flips + quarter turns equals the naive step-by-step reference.
import EXRIO
import Testing

@testable import Data

struct LoaderAugmentTests {
    func fast(_ img: HDRImage, _ o: PatchOrigin, _ p: Int) throws -> [Float] {
        var out = [Float](repeating: -1, count: 3 * p * p)
        try out.withUnsafeMutableBufferPointer {
            try PatchCrop.extract(into: $0.baseAddress!, from: img, origin: o, size: p)
        }
        return out
    }

    @Test func matchesNaiveReferenceForEveryAugmentation() throws {
        let img = LoaderFixture.image(file: 2, role: 1, width: 13, height: 11)
        for p in [1, 2, 3, 4, 7] {
            for (x, y) in [(0, 0), (13 - p, 11 - p), (3, 2)] {
                for code in 0..<16 {
                    let o = PatchOrigin(
                        file: "f", x: x, y: y, flipH: code & 1 != 0, flipV: code & 2 != 0, rot90: code >> 2)
                    #expect(try fast(img, o, p) == NaiveAugment.patch(img, origin: o, size: p), "\(o) size \(p)")
                }
            }
        }
    }

    @Test func quarterTurnIsCounterClockwise() throws {
        // One channel of the 2x2 crop [[a, b], [c, d]] = [[0, 1], [100, 101]] (values are y*100 + x).
        let img = LoaderFixture.image(file: 0, role: 0, width: 2, height: 2)
        let turned = try fast(img, PatchOrigin(file: "f", x: 0, y: 0, rot90: 1), 2)
        #expect(Array(turned[0..<4]) == [1, 101, 0, 100])  // [[b, d], [a, c]]: top-right went to top-left
        let mirrored = try fast(img, PatchOrigin(file: "f", x: 0, y: 0, flipH: true, rot90: 1), 2)
        #expect(Array(mirrored[0..<4]) == [0, 100, 1, 101])  // flip first, then turn
    }

    @Test func patchOutsideTheImageIsAnErrorNotACrash() {
        let img = LoaderFixture.image(file: 0, role: 0, width: 10, height: 10)
        for (x, y, p) in [(-1, 0, 4), (7, 0, 4), (0, 7, 4), (Int.max, 0, 4), (0, Int.min, 4), (0, 0, 11)] {
            #expect(throws: LoaderError.self) { _ = try fast(img, PatchOrigin(file: "f.exr", x: x, y: y), p) }
        }
        #expect(throws: LoaderError("f.exr: patch 4x4 at (7, 0) is outside the 10x10 image")) {
            _ = try fast(img, PatchOrigin(file: "f.exr", x: 7, y: 0), 4)
        }
    }
}
