// PairedDataset: pairing rules, size checks, NaN/Inf skipping and strictness, cached and re-read access.
import EXRIO
import Foundation
import TestSupport
import Testing

@testable import Data

struct LoaderDatasetTests {
    let config = LoaderConfig(patchSize: 8, batchSize: 2)

    /// The thrown error's one-line text, or nil when nothing was thrown.
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch { return "\(error)" }
    }

    @Test func pairsAreSortedAndHiddenAndOtherFilesIgnored() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, pairs: [("b.exr", 40, 30), ("a.exr", 20, 10)])
        try LoaderFixture.write(LoaderFixture.image(file: 5, role: 0, width: 9, height: 9), root + "/input/.hidden.exr")
        try Data("notes".utf8).write(to: URL(fileURLWithPath: root + "/target/notes.txt"))
        let ds = try PairedDataset(root: root, config: config)
        #expect(ds.pairs.map(\.name) == ["a.exr", "b.exr"])
        #expect(ds.pairs.map(\.width) == [20, 40] && ds.pairs.map(\.height) == [10, 30])
        #expect(ds.pairs[0].inputPath == root + "/input/a.exr" && ds.pairs[0].targetPath == root + "/target/a.exr")
        #expect(ds.skipped.isEmpty && ds.warnings.isEmpty)
    }

    @Test func trailingSlashOnRootGivesCleanPaths() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 1)
        let ds = try PairedDataset(root: root + "//", config: config)
        #expect(ds.pairs[0].inputPath == root + "/input/p0.exr")
    }

    @Test func missingDirectoryIsAnError() throws {
        let s = ScratchDir()
        try FileManager.default.createDirectory(atPath: s.path + "/target", withIntermediateDirectories: true)
        #expect(
            message { _ = try PairedDataset(root: s.path, config: config) }
                == "cannot open directory \(s.path)/input: No such file or directory")
    }

    @Test func unpairedFileNamesItselfAndTheMissingCounterpart() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 2)
        try LoaderFixture.write(LoaderFixture.image(file: 3, role: 0, width: 40, height: 30), root + "/input/extra.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "unpaired file: \(root)/input/extra.exr has no counterpart \(root)/target/extra.exr")
        try LoaderFixture.write(LoaderFixture.image(file: 3, role: 1, width: 40, height: 30), root + "/target/zz.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "unpaired file: \(root)/input/extra.exr has no counterpart \(root)/target/extra.exr (2 unpaired files in all)"
        )
        try FileManager.default.removeItem(atPath: root + "/input/extra.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "unpaired file: \(root)/target/zz.exr has no counterpart \(root)/input/zz.exr")
    }

    @Test func sameNameDifferentExtensionIsUnpaired() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 0)
        try LoaderFixture.write(LoaderFixture.image(file: 0, role: 0, width: 9, height: 9), root + "/input/a.exr")
        try RadianceWriter.write(LoaderFixture.image(file: 0, role: 1, width: 9, height: 9), to: root + "/target/a.hdr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "unpaired file: \(root)/input/a.exr has no counterpart \(root)/target/a.exr (2 unpaired files in all)"
        )
    }

    @Test func sizeMismatchNamesBothFilesAndSizes() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 1)
        try LoaderFixture.write(LoaderFixture.image(file: 0, role: 1, width: 40, height: 31), root + "/target/p0.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "size mismatch: \(root)/input/p0.exr is 40x30 but \(root)/target/p0.exr is 40x31")
    }

    @Test func imageSmallerThanThePatchIsAnError() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, pairs: [("a.exr", 40, 30), ("b.exr", 40, 7)])
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "\(root)/input/b.exr: 40x7 is smaller than patch_size 8")
    }

    @Test func emptyRootHasNoUsablePairs() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 0)
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "data root \(root): no usable pairs (no .exr or .hdr files in \(root)/input and \(root)/target)")
    }

    /// p1's input gets 2 NaN pixels (one with two NaN channels) and its target 1 Inf pixel.
    func rootWithBadPair(_ s: ScratchDir) throws -> String {
        let root = try LoaderFixture.makeRoot(s.path, count: 3)
        var input = LoaderFixture.image(file: 1, role: 0, width: 40, height: 30)
        input[0, 3, 4] = .nan
        input[2, 3, 4] = .nan
        input[1, 20, 30] = .nan
        var target = LoaderFixture.image(file: 1, role: 1, width: 40, height: 30)
        target[2, 0, 0] = -.infinity
        try LoaderFixture.write(input, root + "/input/p1.exr")
        try LoaderFixture.write(target, root + "/target/p1.exr")
        return root
    }

    @Test func nanAndInfPairIsSkippedWithWarningsAndCounted() throws {
        let s = ScratchDir()
        let root = try rootWithBadPair(s)
        let sink = LineSink()
        let ds = try PairedDataset(root: root, config: config, warn: sink.closure)
        let expected = [
            "warning: \(root)/input/p1.exr: 2 NaN and 0 Inf pixels; pair skipped",
            "warning: \(root)/target/p1.exr: 0 NaN and 1 Inf pixels; pair skipped"
        ]
        #expect(ds.warnings == expected)
        #expect(sink.all == expected)
        #expect(ds.skipped == ["p1.exr"])
        #expect(ds.pairs.map(\.name) == ["p0.exr", "p2.exr"])
    }

    @Test func strictMakesNanAnError() throws {
        let s = ScratchDir()
        let root = try rootWithBadPair(s)
        var strict = config
        strict.strict = true
        #expect(
            message { _ = try PairedDataset(root: root, config: strict) }
                == "\(root)/input/p1.exr: 2 NaN and 0 Inf pixels; strict mode refuses the pair")
    }

    @Test func allPairsSkippedIsAnError() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 0)
        var img = LoaderFixture.image(file: 0, role: 0, width: 9, height: 9)
        img[0, 0, 0] = .infinity
        try LoaderFixture.write(img, root + "/input/a.exr")
        try LoaderFixture.write(img, root + "/target/a.exr")
        #expect(
            message { _ = try PairedDataset(root: root, config: config) }
                == "data root \(root): no usable pairs (all 1 pairs skipped for NaN/Inf pixels)")
    }

    @Test func cachedAndRereadImagesAreTheSameAndExact() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 2)
        var cached = config
        cached.cache = true
        let a = try PairedDataset(root: root, config: cached)
        let b = try PairedDataset(root: root, config: config)
        #expect(a.isCached && !b.isCached)
        for i in 0..<2 {
            let (ai, bi) = (try a.images(i), try b.images(i))
            #expect(ai.input == bi.input && ai.target == bi.target)
            #expect(ai.target == LoaderFixture.image(file: i, role: 1, width: 40, height: 30))
        }
        #expect(message { _ = try a.images(2) } == "pair index 2 out of range 0..<2")
    }

    @Test func radiancePairsAreReadWhateverTheExtensionCase() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 0)
        try RadianceWriter.write(HDRImage(width: 12, height: 9, fill: 1), to: root + "/input/a.HDR")
        try RadianceWriter.write(HDRImage(width: 12, height: 9, fill: 2), to: root + "/target/a.HDR")
        let ds = try PairedDataset(root: root, config: config)
        #expect(ds.pairs.map(\.name) == ["a.HDR"] && ds.pairs[0].width == 12 && ds.pairs[0].height == 9)
    }

    @Test func rereadFileThatChangedIsAnError() throws {
        let s = ScratchDir()
        let root = try LoaderFixture.makeRoot(s.path, count: 1)
        let ds = try PairedDataset(root: root, config: config)
        try LoaderFixture.write(LoaderFixture.image(file: 0, role: 1, width: 20, height: 30), root + "/target/p0.exr")
        #expect(
            message { _ = try ds.images(0) }
                == "\(root)/target/p0.exr: now 20x30, was 40x30 when the dataset was opened")
        var nan = LoaderFixture.image(file: 0, role: 1, width: 40, height: 30)
        nan[1, 1, 1] = .nan
        try LoaderFixture.write(nan, root + "/target/p0.exr")
        #expect(
            message { _ = try ds.images(0) }
                == "\(root)/target/p0.exr: 1 NaN and 0 Inf pixels appeared since the dataset was opened")
    }
}
