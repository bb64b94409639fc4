// ValidationSet: fixed centred crops or edge-aligned tiles, identical on every call, covering every pixel.
import EXRIO
import TestSupport
import Testing

@testable import Data

struct LoaderValidationTests {
    let sizes = [(40, 32), (21, 13), (8, 8)]

    func dataset(_ s: ScratchDir, cache: Bool = false) throws -> PairedDataset {
        let root = try LoaderFixture.makeRoot(
            s.path, pairs: sizes.enumerated().map { ("v\($0.offset).exr", $0.element.0, $0.element.1) })
        return try PairedDataset(root: root, config: LoaderConfig(patchSize: 8, batchSize: 1, cache: cache))
    }

    @Test func cropModeTakesOneCentredPatchPerPairTheSameEveryTime() throws {
        let s = ScratchDir()
        let v = try ValidationSet(dataset: try dataset(s), batchSize: 2, mode: .crop)
        #expect(
            v.origins == [
                PatchOrigin(file: "v0.exr", x: 16, y: 12), PatchOrigin(file: "v1.exr", x: 6, y: 2),
                PatchOrigin(file: "v2.exr", x: 0, y: 0)
            ])
        let a = try v.batches()
        let b = try v.batches()
        #expect(a.map { $0.input.shape[0] } == [2, 1] && a.map(\.index) == [0, 1])
        for (x, y) in zip(a, b) { #expect(x.input == y.input && x.target == y.target && x.origins == y.origins) }
        for batch in a {
            for (n, o) in batch.origins.enumerated() {
                let f = Int(o.file.dropFirst().prefix(1))!
                let target = LoaderFixture.image(file: f, role: 1, width: sizes[f].0, height: sizes[f].1)
                #expect(Batch.sample(batch.target, n) == NaiveAugment.patch(target, origin: o, size: 8))
            }
        }
    }

    @Test func tileStartsAreAlignedToTheEdge() {
        #expect(ValidationSet.tileStarts(length: 30, size: 8) == [0, 8, 16, 22])
        #expect(ValidationSet.tileStarts(length: 32, size: 8) == [0, 8, 16, 24])
        #expect(ValidationSet.tileStarts(length: 8, size: 8) == [0])
        #expect(ValidationSet.tileStarts(length: 9, size: 8) == [0, 1])
        #expect(ValidationSet.tileStarts(length: 7, size: 8) == [])
    }

    @Test func tilesCoverEveryPixelAndHoldTheRightValues() throws {
        let s = ScratchDir()
        let v = try ValidationSet(dataset: try dataset(s, cache: true), batchSize: 5, mode: .tiles)
        #expect(v.origins.count == 5 * 4 + 3 * 2 + 1)
        var cover = sizes.map { [Int](repeating: 0, count: $0.0 * $0.1) }
        var exactlyOnce = true
        for batch in try v.batches() {
            for (n, o) in batch.origins.enumerated() {
                let f = Int(o.file.dropFirst().prefix(1))!
                let patch = Batch.sample(batch.input, n)
                for y in 0..<8 {
                    for x in 0..<8 {
                        let d = LoaderFixture.decode(patch[y * 8 + x])
                        #expect(d.file == f && d.role == 0 && d.c == 0 && d.y == o.y + y && d.x == o.x + x)
                        cover[f][(o.y + y) * sizes[f].0 + o.x + x] += 1
                    }
                }
            }
        }
        for f in 0..<3 {
            #expect(cover[f].allSatisfy { $0 >= 1 }, "pair \(f) has uncovered pixels")
            if sizes[f].0 % 8 == 0 && sizes[f].1 % 8 == 0 {
                exactlyOnce = exactlyOnce && cover[f].allSatisfy { $0 == 1 }
            }
        }
        #expect(exactlyOnce)
        // Row by row, left to right within each pair.
        #expect(v.origins.prefix(6).map { [$0.x, $0.y] } == [[0, 0], [8, 0], [16, 0], [24, 0], [32, 0], [0, 8]])
        #expect(throws: LoaderError("validation batch 6 out of range 0..<6")) { _ = try v.batch(6) }
    }
}
