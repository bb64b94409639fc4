// Pairs made on the fly (`data.train: {sources, recipe}`): every patch is the recipe applied to the clean crop the
// sampler chose, with its own streams, a pure function of (seed, epoch, index); the recipe's ranges draw per pair.
import EXRIO
import Foundation
import Numerics
import TestSupport
import Testing

@testable import Data

@Suite(.timeLimit(.minutes(1)))
struct LoaderOnlineTests {
    static let recipeText = """
        name: t
        steps:
          - type: exposure
            clip_fraction: [0.05, 0.15]
          - type: noise
            photons_at_white: [500, 4000]
            read_sigma: 0.001
          - type: clip
            white: 1.0
          - type: crf_quantize
            curve: srgb
            bits: 8
        """

    /// Three clean sources of smooth HDR light with a bright spot.
    static func sources(_ dir: ScratchDir) throws -> String {
        let root = dir.file("sources")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for s in 0..<3 {
            var img = HDRImage(width: 40 + 4 * s, height: 30)
            for c in 0..<3 {
                for y in 0..<30 {
                    for x in 0..<img.width {
                        let spot = exp(-Double((x - 20) * (x - 20) + (y - 12) * (y - 12)) / 30) * 200
                        img[c, y, x] = Float(0.05 + 0.02 * Double(x + y + c * s) + spot)
                    }
                }
            }
            try LoaderFixture.write(img, root + "/s\(s).exr")
        }
        return root
    }

    static func config(workers: Int, samples: Int = 12) -> LoaderConfig {
        LoaderConfig(
            patchSize: 16, batchSize: 4, seed: 9, workers: workers, prefetch: 2, augment: .all,
            samplesPerEpoch: samples)
    }

    static func dataset(_ root: String, _ c: LoaderConfig) throws -> PairedDataset {
        try PairedDataset(
            sources: root, recipe: try DegradationRecipe.parse(recipeText), recipeName: "t", config: c)
    }

    static func batches(_ root: String, _ c: LoaderConfig, count: Int, share: Range<Int>? = nil) throws -> [Batch] {
        let loader = try PrefetchLoader(dataset: try dataset(root, c), config: c, share: share)
        defer { loader.close() }
        return try (0..<count).map { _ in try loader.next() }
    }

    @Test func everyPatchIsTheRecipeOnItsCleanCropWithItsOwnStreams() throws {
        let dir = ScratchDir()
        let root = try Self.sources(dir)
        let c = Self.config(workers: 2)
        let data = try Self.dataset(root, c)
        let sampler = try EpochSampler(dataset: data, config: c)
        let recipe = try DegradationRecipe.parse(Self.recipeText)
        let got = try Self.batches(root, c, count: 6)  // two epochs of 3 batches
        for batch in got {
            for slot in 0..<4 {
                let i = batch.index * 4 + slot
                let spec = try sampler.sample(epoch: batch.epoch, index: i)
                var clean = HDRImage(width: 16, height: 16)
                try clean.pixels.withUnsafeMutableBufferPointer {
                    try PatchCrop.extract(
                        into: $0.baseAddress!, from: try data.images(spec.pair).target, origin: batch.origins[slot],
                        size: 16)
                }
                let (x, y) = recipe.apply(
                    clean: clean, seed: OnlineDegradation.streamSeed(9), pair: batch.epoch * 12 + i)
                let per = 3 * 16 * 16
                #expect(Array(batch.input.storage[(slot * per)..<((slot + 1) * per)]) == x.pixels)
                #expect(Array(batch.target.storage[(slot * per)..<((slot + 1) * per)]) == y.pixels)
                #expect(batch.origins[slot].file == data.pairs[spec.pair].name)
            }
        }
        // Epochs differ: the same position of epoch 1 is another crop or another draw.
        #expect(got[0].input != got[3].input)
        // A degraded input: clipped at 1 and quantised, not the target.
        #expect(got[0].input.storage.max()! <= 1 && got[0].input != got[0].target)
    }

    @Test func batchesAreTheSameForAnyWorkerCountAndEveryShare() throws {
        let dir = ScratchDir()
        let root = try Self.sources(dir)
        let reference = try Self.batches(root, Self.config(workers: 0), count: 5)
        for w in [1, 3] {
            let other = try Self.batches(root, Self.config(workers: w), count: 5)
            #expect(zip(reference, other).allSatisfy { $0.input == $1.input && $0.target == $1.target })
        }
        // A data-parallel rank's share: the matching slots of the whole batch, made alone.
        let half = try Self.batches(root, Self.config(workers: 1), count: 5, share: 2..<4)
        for (whole, part) in zip(reference, half) {
            let per = 3 * 16 * 16
            #expect(Array(whole.input.storage[(2 * per)..<(4 * per)]) == part.input.storage)
        }
    }

    @Test func exposureLeavesTheDrawnFractionClipped() throws {
        var rng = SeededRNG(seed: 5)
        var img = HDRImage(width: 50, height: 40)
        for i in img.pixels.indices { img.pixels[i] = Float(exp(rng.normal() * 2)) }
        for f in [0.05, 0.1, 0.15] {
            let step = ExposureStep(clipFraction: ParameterRange(f))
            var (input, target) = (img, img)
            var r = SeededRNG(seed: 1)
            step.apply(input: &input, target: &target, rng: &r)
            let n = target.planeCount
            var clipped = 0
            for p in 0..<n where max(target.pixels[p], target.pixels[n + p], target.pixels[2 * n + p]) >= 0.99999 {
                clipped += 1
            }
            #expect(abs(Double(clipped) / Double(n) - f) <= 2.0 / Double(n), "f \(f): \(clipped) of \(n)")
        }
    }

    @Test func rangesDrawWithinThemAndFixedValuesDrawNothing() throws {
        let noise = try DegradationRecipe.parse(Self.recipeText).steps[1] as! NoiseStep
        #expect(noise.photonsAtWhite == ParameterRange(low: 500, high: 4000, logarithmic: true))
        var rng = SeededRNG(seed: 3)
        let draws = (0..<2000).map { _ in noise.photonsAtWhite.draw(&rng) }
        #expect(draws.allSatisfy { $0 >= 500 && $0 <= 4000 })
        // Log-uniform: the geometric midpoint (1414) splits the draws in about half.
        let below = draws.filter { $0 < (500.0 * 4000).squareRoot() }.count
        #expect(abs(below - 1000) < 120, "\(below)")
        // A fixed value consumes no draw: a recipe without ranges keeps its streams (and its stored pairs).
        var fixed = SeededRNG(seed: 3)
        var untouched = fixed
        #expect(ParameterRange(7).draw(&fixed) == 7)
        #expect(fixed.next() == untouched.next())
    }

    @Test(arguments: [
        (
            "clip_fraction: [0.2, 0.1]",
            "steps.0.clip_fraction: expected a number or a range [low, high] with low <= high"
        ),
        ("clip_fraction: [0.1, 0.2, 0.3]", "steps.0.clip_fraction: expected a number or a range [low, high]"),
        ("clip_fraction: 0.1\n    value: 0.18", "steps.0.value: not used with clip_fraction"),
        ("white: 2.0", "steps.0.white: only used with clip_fraction"),
        ("clip_fraction: [0.1, 1.5]", "steps.0.clip_fraction")
    ])
    func badRangesAreOneLineErrors(_ keys: String, _ message: String) {
        let text = "name: t\nsteps:\n  - type: exposure\n    \(keys)\n"
        #expect {
            try DegradationRecipe.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
