// Region masks (root/mask/): read with the pairs, checked, and cut and augmented exactly like the input.
import EXRIO
import Foundation
import Numerics
import TestSupport
import Testing

@testable import Data

struct LoaderMaskTests {
    /// A mask whose first channel is 1 on a diagonal pattern and whose other channels hold other values in [0, 1]:
    /// only the first counts.
    static func mask(width: Int, height: Int, seed: Int) -> HDRImage {
        var img = HDRImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                img[0, y, x] = (x * 7 + y * 3 + seed) % 5 == 0 ? 1 : 0
                img[1, y, x] = 0.25
                img[2, y, x] = Float(x % 2)
            }
        }
        return img
    }

    static func root(_ s: ScratchDir) throws -> String {
        let root = try LoaderFixture.makeRoot(s.path, pairs: [("a.exr", 20, 16), ("b.exr", 24, 18)])
        try FileManager.default.createDirectory(atPath: root + "/mask", withIntermediateDirectories: true)
        try LoaderFixture.write(mask(width: 20, height: 16, seed: 0), root + "/mask/a.exr")
        try LoaderFixture.write(mask(width: 24, height: 18, seed: 3), root + "/mask/b.exr")
        return root
    }

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch { return "\(error)" }
    }

    @Test(arguments: [false, true])
    func masksAreCutAndAugmentedLikeTheInput(cache: Bool) throws {
        let s = ScratchDir()
        let root = try Self.root(s)
        let p = 8
        let ds = try PairedDataset(root: root, config: LoaderConfig(patchSize: p, batchSize: 3, cache: cache))
        #expect(ds.hasMasks && ds.pairs.map(\.maskPath) == [root + "/mask/a.exr", root + "/mask/b.exr"])
        let patches: [(pair: Int, origin: PatchOrigin)] = [
            (1, PatchOrigin(file: "b.exr", x: 3, y: 5, flipH: true, rot90: 1)),
            (0, PatchOrigin(file: "a.exr", x: 12, y: 0, flipV: true, rot90: 3)),
            (1, PatchOrigin(file: "b.exr", x: 16, y: 10))
        ]
        let batch = try BatchBuilder.assemble(patches, dataset: ds, epoch: 0, index: 0)
        let regions = try #require(batch.regions)
        #expect(regions.shape == [3, 1, p, p])
        let masks = [Self.mask(width: 20, height: 16, seed: 0), Self.mask(width: 24, height: 18, seed: 3)]
        for (n, patch) in patches.enumerated() {
            let want = NaiveAugment.patch(masks[patch.pair], origin: patch.origin, size: p)[0..<(p * p)]
            #expect(Array(regions.storage[(n * p * p)..<((n + 1) * p * p)]) == Array(want), "patch \(n)")
            // The input of the same slot is the same pair's, cut the same way.
            let input = NaiveAugment.patch(try ds.images(patch.pair).input, origin: patch.origin, size: p)
            #expect(Array(batch.input.storage[(n * 3 * p * p)..<((n + 1) * 3 * p * p)]) == input)
        }
        #expect(regions.storage.contains(1) && regions.storage.contains(0))
        // Validation batches carry them too.
        let val = try ValidationSet(dataset: ds, batchSize: 4, mode: .tiles).batches()
        #expect(val.allSatisfy { $0.regions?.shape[0] == $0.input.shape[0] })
    }

    @Test func aSetWithoutMasksHasNoRegions() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 1)
        let ds = try PairedDataset(root: root, config: LoaderConfig(patchSize: 8, batchSize: 1))
        let none = try ds.mask(0)
        #expect(!ds.hasMasks && none == nil)
        let b = try BatchBuilder.assemble(
            [(0, PatchOrigin(file: "p0.exr", x: 0, y: 0))], dataset: ds, epoch: 0, index: 0)
        #expect(b.regions == nil)
    }

    @Test func aMissingOrBadMaskNamesTheFile() throws {
        let s = ScratchDir()
        let root = try Self.root(s)
        let config = LoaderConfig(patchSize: 8, batchSize: 1)
        try FileManager.default.removeItem(atPath: root + "/mask/b.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "missing mask: \(root)/mask/b.exr (\(root)/mask must hold a mask for every pair)")
        var bad = Self.mask(width: 24, height: 18, seed: 3)
        bad[0, 2, 5] = 2
        try LoaderFixture.write(bad, root + "/mask/b.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "\(root)/mask/b.exr: mask value 2.0 at pixel (5, 2) is not in [0, 1]")
        try LoaderFixture.write(Self.mask(width: 20, height: 16, seed: 3), root + "/mask/b.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "\(root)/mask/b.exr: mask is 20x16, its image 24x18")
    }
}
