// The committed sample set (data/sample, made by `make sample`) loads end to end: manifest, pairs, batches.
import Foundation
import Numerics
import Testing

@testable import Data

struct SampleSetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/sample").path

    @Test(arguments: ["train", "val"])
    func manifestMatchesTheFiles(_ split: String) throws {
        let dir = Self.root + "/" + split
        let manifest = try SynthManifest.read(path: dir + "/manifest.json")
        #expect(manifest.patch == 64 && !manifest.full)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: dir + "/input").sorted()
        let targets = try FileManager.default.contentsOfDirectory(atPath: dir + "/target").sorted()
        #expect(inputs == targets)
        #expect(inputs == manifest.pairs.map { $0.id + ".exr" }.sorted())
        #expect(manifest.pairs.allSatisfy { $0.source.hasPrefix("procedural:") && $0.crop.width == 64 })
    }

    @Test func trainBatchesAndValidationTilesLoad() throws {
        let config = LoaderConfig(patchSize: 64, batchSize: 8, seed: 5, workers: 2, augment: .all)
        let train = try PairedDataset(root: Self.root + "/train", config: config)
        #expect(train.pairs.count == 40 && train.skipped.isEmpty)
        let loader = try PrefetchLoader(dataset: train, config: config)
        defer { loader.close() }
        let batch = try loader.next()
        #expect(batch.input.shape == [8, 3, 64, 64] && batch.target.shape == [8, 3, 64, 64])
        #expect(batch.input.storage.allSatisfy { $0.isFinite && $0 >= 0 })
        let val = try ValidationSet(
            dataset: try PairedDataset(root: Self.root + "/val", config: config), batchSize: 8, mode: .tiles)
        #expect(val.batchCount == 1)
        // The default recipe clips highlights at 1.0: the clean targets go above what the input can hold.
        let all = try val.batches()
        #expect(all[0].input.storage.max()! <= 1.0)
        #expect(all[0].target.storage.max()! > 1.0)
    }
}
