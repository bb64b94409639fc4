// PrefetchLoader: ordered, bit-identical batches for any worker count; exact patch content; bounded
// prefetch; prompt close; worker errors surface from next().
// A deadlock or a close() that never returns fails here instead of hanging the run.
import EXRIO
import Foundation
import TestSupport
import Testing

@testable import Data

@Suite(.timeLimit(.minutes(1)))
struct LoaderPrefetchTests {
    /// The first `count` batches of a fresh loader over `root`.
    func batches(_ root: String, _ c: LoaderConfig, count: Int) throws -> [Batch] {
        let loader = try PrefetchLoader(dataset: try PairedDataset(root: root, config: c), config: c)
        defer { loader.close() }
        return try (0..<count).map { _ in try loader.next() }
    }

    func same(_ a: [Batch], _ b: [Batch]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                x.input == y.input && x.target == y.target && x.origins == y.origins && x.epoch == y.epoch
                    && x.index == y.index
            }
    }

    func config(workers: Int, seed: UInt64 = 7, cache: Bool = false) -> LoaderConfig {
        LoaderConfig(
            patchSize: 8, batchSize: 3, seed: seed, workers: workers, prefetch: 3, cache: cache,
            augment: .all, samplesPerEpoch: 12)
    }

    @Test func batchesAreBitIdenticalForAnyWorkerCountAndRun() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 5)
        let reference = try batches(root, config(workers: 0), count: 12)  // 3 epochs of 4 batches
        #expect(reference.map(\.epoch) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        #expect(reference.map(\.index) == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        for (workers, cache) in [(1, false), (2, true), (4, false), (4, true), (0, true)] {
            #expect(
                same(reference, try batches(root, config(workers: workers, cache: cache), count: 12)),
                "workers \(workers) cache \(cache)")
        }
        #expect(same(reference, try batches(root, config(workers: 2), count: 12)), "second run")
        #expect(!same(reference, try batches(root, config(workers: 2, seed: 8), count: 12)), "other seed")
    }

    @Test func patchesAreTheSourceCropsWithTheRecordedAugmentation() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, pairs: [("p0.exr", 40, 30), ("p1.exr", 21, 13), ("p2.exr", 8, 9)])
        let sizes = [(40, 30), (21, 13), (8, 9)]
        var c = config(workers: 2)
        c.samplesPerEpoch = 150
        var turns = Set<Int>()
        for batch in try batches(root, c, count: 50) {
            #expect(batch.input.shape == [3, 3, 8, 8] && batch.target.shape == [3, 3, 8, 8])
            for (n, o) in batch.origins.enumerated() {
                let f = Int(o.file.dropFirst().prefix(1))!
                let (w, h) = sizes[f]
                let input = LoaderFixture.image(file: f, role: 0, width: w, height: h)
                let target = LoaderFixture.image(file: f, role: 1, width: w, height: h)
                // Role 0 and role 1 pixels at the same place: input and target got the same transform.
                #expect(Batch.sample(batch.input, n) == NaiveAugment.patch(input, origin: o, size: 8), "\(o)")
                #expect(Batch.sample(batch.target, n) == NaiveAugment.patch(target, origin: o, size: 8), "\(o)")
                turns.insert(o.rot90 + (o.flipH ? 4 : 0) + (o.flipV ? 8 : 0))
            }
        }
        #expect(turns.count == 16, "150 samples should exercise all 16 augmentations")
    }

    @Test func everyPairAppearsOncePerEpoch() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 8)
        let c = LoaderConfig(patchSize: 8, batchSize: 4, seed: 3, workers: 2)
        let all = try batches(root, c, count: 6)
        for e in 0..<3 {
            let names = all.filter { $0.epoch == e }.flatMap { $0.origins.map(\.file) }
            #expect(names.sorted() == (0..<8).map { "p\($0).exr" })
        }
    }

    @Test func workersNeverRunMoreThanPrefetchAhead() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 5)
        var c = config(workers: 4, cache: true)
        c.prefetch = 2
        let loader = try PrefetchLoader(dataset: try PairedDataset(root: root, config: c), config: c)
        defer { loader.close() }
        let deadline = Date().addingTimeInterval(5)
        while loader.stats.ready < 2 && Date() < deadline { usleep(2000) }
        usleep(100_000)  // time for an unbounded worker to overshoot
        #expect(loader.stats.ready == 2 && loader.stats.produced == 2)
        for i in 0..<20 {
            _ = try loader.next()
            if i % 3 == 0 { usleep(5000) }
            let st = loader.stats
            #expect(st.maxReady <= 2 && st.ready <= 2 && st.produced <= st.consumed + 2)
        }
        #expect(loader.stats.maxReady == 2 && loader.stats.consumed == 20)
    }

    @Test func closeReturnsPromptlyWhileWorkersAreBlocked() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 5)
        var c = config(workers: 4)
        c.prefetch = 1
        let loader = try PrefetchLoader(dataset: try PairedDataset(root: root, config: c), config: c)
        _ = try loader.next()  // stop mid-epoch
        let deadline = Date().addingTimeInterval(5)
        while loader.stats.ready < 1 && Date() < deadline { usleep(2000) }
        let start = Date()
        loader.close()
        loader.close()
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(throws: LoaderError("the loader is closed")) { _ = try loader.next() }
        // Dropping a loader without close() stops its workers too (deinit); a hang here fails by timeout.
        let dropStart = Date()
        do { _ = try PrefetchLoader(dataset: loader.dataset, config: c).next() }
        #expect(Date().timeIntervalSince(dropStart) < 2)
    }

    @Test(arguments: [0, 2])
    func aWorkerErrorSurfacesFromNextInOrder(workers: Int) throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 4)
        let c = LoaderConfig(patchSize: 8, batchSize: 1, seed: 5, workers: workers, prefetch: 2)
        let dataset = try PairedDataset(root: root, config: c)
        // Removed after the open check, before any worker starts (they start building at once).
        try FileManager.default.removeItem(atPath: root + "/input/p2.exr")
        let loader = try PrefetchLoader(dataset: dataset, config: c)
        defer { loader.close() }
        let k = loader.sampler.permutation(epoch: 0, pass: 0).firstIndex(of: 2)!
        for _ in 0..<k { _ = try loader.next() }  // batches before the bad one still arrive
        let expected = FileError(path: root + "/input/p2.exr", reason: "No such file or directory")
        #expect(throws: expected) { _ = try loader.next() }
        #expect(throws: expected) { _ = try loader.next() }  // sticky: the stream cannot skip a batch
        #expect(loader.stats.consumed == k)
    }

    @Test func waitTimeAndCountersAreKept() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 5)
        let c = config(workers: 0)
        let loader = try PrefetchLoader(dataset: try PairedDataset(root: root, config: c), config: c, startEpoch: 3)
        let b = try loader.next()
        #expect(b.epoch == 3 && b.index == 0)
        _ = try loader.next()
        let st = loader.stats
        #expect(st.consumed == 2 && st.produced == 2 && st.ready == 0 && loader.waitSeconds > 0)
    }

    @Test func patchSizeMustMatchTheDataset() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 5)
        let ds = try PairedDataset(root: root, config: config(workers: 0))
        var c = config(workers: 1)
        c.patchSize = 16
        #expect(throws: LoaderError("patch_size 16 differs from the 8 the dataset \(root) was opened with")) {
            _ = try PrefetchLoader(dataset: ds, config: c)
        }
    }
}
