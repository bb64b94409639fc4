// The synthesis run: crops that re-cut from their source, sorted directory sources, determinism, refusals.
import EXRIO
import Foundation
import Numerics
import TestSupport
import Testing

@testable import Data

struct SynthRunnerTests {
    let float = EXRWriteOptions(pixelType: .float, compression: .zip)

    func options(
        _ sources: SynthSources, _ recipe: DegradationRecipe, out: String, patch: Int = 8, count: Int? = nil,
        seed: UInt64 = 0, full: Bool = false, force: Bool = false, threads: Int = 2
    ) -> SynthOptions {
        SynthOptions(
            sources: sources, recipe: recipe, recipeFile: "r.yaml", out: out, patch: patch, count: count,
            seed: seed, full: full, force: force, threads: threads)
    }

    func identity() throws -> DegradationRecipe { try DegradationRecipe.parse("name: none\nsteps: []\n") }

    @Test func cropsInTheManifestReCutFromSortedDirectorySources() throws {
        let dir = ScratchDir()
        try FileManager.default.createDirectory(atPath: dir.file("src"), withIntermediateDirectories: true)
        let a = testImage(width: 20, height: 13, seed: 1)
        let b = testImage(width: 9, height: 30, seed: 2)
        try EXRWriter.write(b, to: dir.file("src/b.exr"), options: float)
        try EXRWriter.write(a, to: dir.file("src/a.EXR"), options: float)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir.file("src/notes.txt")))
        let sources = try SynthSources.resolve([dir.file("src")])
        #expect(sources == .files([dir.file("src/a.EXR"), dir.file("src/b.exr")]))

        let summary = try SynthRunner.run(options(sources, try identity(), out: dir.file("out"), count: 12, seed: 3))
        #expect(summary.pairs == 12 && summary.sources == 2)
        let m = try SynthManifest.read(path: dir.file("out/manifest.json"))
        #expect(m.seed == 3 && m.patch == 8 && m.full == false && m.recipeFile == "r.yaml" && m.version == 1)
        #expect(m.recipe == .object(["name": .string("none"), "steps": .array([])]))
        #expect(m.pairs.map(\.id) == (0..<12).map { String(format: "%06d", $0) })
        #expect(Set(m.pairs.map(\.source)) == [dir.file("src/a.EXR"), dir.file("src/b.exr")])
        for p in m.pairs {
            let src = p.source.hasSuffix("a.EXR") ? a : b
            let target = try ImageReader.read(path: dir.file("out/target/\(p.id).exr"))
            let input = try ImageReader.read(path: dir.file("out/input/\(p.id).exr"))
            #expect(target.info.channels.map(\.type) == [.float, .float, .float] && target.info.compression == "zip")
            #expect(p.crop.width == 8 && p.crop.height == 8)
            #expect(p.crop.x + 8 <= src.width && p.crop.y + 8 <= src.height)
            #expect(target.image == SynthOutput.cut(src, p.crop) && input.image == target.image)
            for c in 0..<3 {
                for y in 0..<8 {
                    for x in 0..<8 { #expect(target.image[c, y, x] == src[c, p.crop.y + y, p.crop.x + x]) }
                }
            }
        }
        // Pair i's source and crop come from its own stream alone.
        var rng = SynthStreams.crop(seed: 3, pair: 5)
        let s = rng.below(2)
        let src = s == 0 ? a : b
        #expect(m.pairs[5].source.hasSuffix(s == 0 ? "a.EXR" : "b.exr"))
        #expect(m.pairs[5].crop.x == rng.below(src.width - 7) && m.pairs[5].crop.y == rng.below(src.height - 7))
    }

    @Test func sameSeedSameDatasetWhateverTheThreadsOtherSeedDiffers() throws {
        let dir = ScratchDir()
        let recipe = try DegradationRecipe.load(path: recipePath("default.yaml"))
        func make(_ name: String, seed: UInt64, threads: Int) throws -> (SynthManifest, [HDRImage]) {
            _ = try SynthRunner.run(
                options(.procedural, recipe, out: dir.file(name), patch: 16, count: 6, seed: seed, threads: threads))
            let m = try SynthManifest.read(path: dir.file("\(name)/manifest.json"))
            let images = try m.pairs.flatMap { p in
                try ["input", "target"].map { try ImageReader.read(path: dir.file("\(name)/\($0)/\(p.id).exr")).image }
            }
            return (m, images)
        }
        let (m1, i1) = try make("a", seed: 1, threads: 1)
        let (m2, i2) = try make("b", seed: 1, threads: 3)
        let (m3, i3) = try make("c", seed: 2, threads: 1)
        #expect(m1 == m2 && i1 == i2)
        #expect(m1.pairs != m3.pairs && i1 != i3)
        #expect(m1.pairs.allSatisfy { $0.source == "procedural:0" })  // 6 patches need ceil(6 / 16) = 1 scene
        // Pair 3 regenerated alone from its source and recipe equals the written pair.
        let p = m1.pairs[3]
        let scene = ProceduralScene.render(width: 512, height: 256, seed: 1, index: 0)
        let (input, target) = recipe.apply(clean: SynthOutput.cut(scene, p.crop), seed: 1, pair: 3)
        #expect(input == i1[6] && target == i1[7])
    }

    @Test func exposureOverTheImageUsesTheWholeSceneForEveryPatch() throws {
        let dir = ScratchDir()
        let recipe = try DegradationRecipe.parse(
            "name: t\nsteps:\n  - type: exposure\n    clip_fraction: 0.1\n    over: image\n  - type: clip\n")
        #expect(recipe.needsSourceStatistics)
        _ = try SynthRunner.run(options(.procedural, recipe, out: dir.file("s"), patch: 16, count: 4, seed: 3))
        let m = try SynthManifest.read(path: dir.file("s/manifest.json"))
        let scene = ProceduralScene.render(width: 512, height: 256, seed: 3, index: 0)
        let stats = SourceStatistics(scene)
        for (i, p) in m.pairs.enumerated() {
            let target = try ImageReader.read(path: dir.file("s/target/\(p.id).exr")).image
            let (_, expected) = recipe.apply(clean: SynthOutput.cut(scene, p.crop), seed: 3, pair: i, source: stats)
            #expect(target == expected, "pair \(i)")
        }
    }

    @Test func proceduralUsesOneSceneForEvery16PatchesAndFullRendersCountScenes() throws {
        let dir = ScratchDir()
        let s = try SynthRunner.run(options(.procedural, try identity(), out: dir.file("p"), patch: 4, count: 17))
        #expect(s.sources == 2)
        let m = try SynthManifest.read(path: dir.file("p/manifest.json"))
        #expect(Set(m.pairs.map(\.source)).isSubset(of: ["procedural:0", "procedural:1"]))
        let full = try SynthRunner.run(options(.procedural, try identity(), out: dir.file("f"), count: 2, full: true))
        #expect(full.pairs == 2)
        let fm = try SynthManifest.read(path: dir.file("f/manifest.json"))
        #expect(fm.patch == nil && fm.full)
        #expect(fm.pairs.map(\.source) == ["procedural:0", "procedural:1"])
        #expect(fm.pairs[1].crop == SynthManifest.Crop(x: 0, y: 0, width: 512, height: 256))
        let t = try ImageReader.read(path: dir.file("f/target/000001.exr")).image
        #expect(t == ProceduralScene.render(width: 512, height: 256, seed: 0, index: 1))
        let json = try String(contentsOfFile: dir.file("f/manifest.json"), encoding: .utf8)
        #expect(json.contains("\"patch\" : null"))
    }

    @Test func fullKeepsEveryFileAndRefusesACount() throws {
        let dir = ScratchDir()
        try EXRWriter.write(testImage(width: 5, height: 3, seed: 1), to: dir.file("x.exr"), options: float)
        try EXRWriter.write(testImage(width: 7, height: 4, seed: 2), to: dir.file("y.exr"), options: float)
        let files = SynthSources.files([dir.file("y.exr"), dir.file("x.exr")])
        let s = try SynthRunner.run(options(files, try identity(), out: dir.file("o"), patch: 64, full: true))
        #expect(s.pairs == 2)
        let m = try SynthManifest.read(path: dir.file("o/manifest.json"))
        #expect(m.pairs.map(\.source) == [dir.file("y.exr"), dir.file("x.exr")])  // explicit files keep their order
        #expect(m.pairs[0].crop == SynthManifest.Crop(x: 0, y: 0, width: 7, height: 4))
        #expect(
            throws: FileError(path: "--count", reason: "does not apply to --full with image files (one pair per file)")
        ) {
            try SynthRunner.run(options(files, try identity(), out: dir.file("o2"), count: 3, full: true))
        }
    }

    @Test func badSourcesAreRefusedByNameAndLeaveNoPairs() throws {
        let dir = ScratchDir()
        try EXRWriter.write(testImage(width: 32, height: 32, seed: 1), to: dir.file("ok.exr"), options: float)
        try EXRWriter.write(testImage(width: 32, height: 6, seed: 1), to: dir.file("thin.exr"), options: float)
        var nan = testImage(width: 32, height: 32, seed: 1)
        nan[0, 3, 3] = .nan
        nan[1, 4, 4] = .infinity
        try EXRWriter.write(nan, to: dir.file("nan.exr"), options: float)
        let r = try identity()
        #expect(throws: FileError(path: dir.file("thin.exr"), reason: "image is 32 x 6, smaller than the 8 x 8 patch"))
        {
            try SynthRunner.run(
                options(.files([dir.file("ok.exr"), dir.file("thin.exr")]), r, out: dir.file("o"), count: 4))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("o/input")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("o/manifest.json")))
        #expect(
            throws: FileError(
                path: dir.file("nan.exr"), reason: "2 pixel(s) with NaN or Inf (1 NaN, 1 Inf); not used for training")
        ) {
            try SynthRunner.run(options(.files([dir.file("nan.exr")]), r, out: dir.file("o"), count: 4))
        }
        #expect(throws: FileError(path: dir.file("none.exr"), reason: "No such file or directory")) {
            try SynthSources.resolve([dir.file("ok.exr"), dir.file("none.exr")])
        }
        #expect(throws: FileError(path: "--from", reason: "'procedural' cannot be combined with other sources")) {
            try SynthSources.resolve(["procedural", dir.file("ok.exr")])
        }
        try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
        #expect(throws: FileError(path: dir.file("empty"), reason: "no .exr or .hdr files in the directory")) {
            try SynthSources.resolve([dir.file("empty")])
        }
    }

    @Test func anExistingDatasetIsReplacedOnlyWithForce() throws {
        let dir = ScratchDir()
        let r = try identity()
        let out = dir.file("o")
        _ = try SynthRunner.run(options(.procedural, r, out: out, patch: 4, count: 3))
        #expect(
            throws: FileError(path: out, reason: "already holds a dataset (manifest.json); use --force to replace it")
        ) {
            try SynthRunner.run(options(.procedural, r, out: out, patch: 4, count: 2))
        }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        _ = try SynthRunner.run(options(.procedural, r, out: out, patch: 4, count: 2, force: true))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out + "/input").sorted() == ["000000.exr", "000001.exr"]
        )
        #expect(FileManager.default.fileExists(atPath: out + "/notes.txt"))
        // Pair files without a manifest (an interrupted run) are refused too.
        try FileManager.default.removeItem(atPath: out + "/manifest.json")
        #expect(
            throws: FileError(
                path: out,
                reason:
                    "holds input/ or target/ files but no manifest.json (an unfinished run?); use --force to replace them"
            )
        ) {
            try SynthRunner.run(options(.procedural, r, out: out, patch: 4, count: 2))
        }
    }
}
