// Pairs made on the fly (`data.train: {sources, recipe}`): every patch is the recipe applied to the clean crop the
// sampler chose, with its own streams, a pure function of (seed, epoch, index); the recipe's ranges draw per pair.
import Config
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

    /// The clean 16 x 16 patch of source `pair` at `origin`, as the loader cuts it.
    static func cleanCrop(_ data: PairedDataset, pair: Int, origin: PatchOrigin) throws -> HDRImage {
        var clean = HDRImage(width: 16, height: 16)
        try clean.pixels.withUnsafeMutableBufferPointer {
            try PatchCrop.extract(into: $0.baseAddress!, from: try data.images(pair).target, origin: origin, size: 16)
        }
        return clean
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
                let clean = try Self.cleanCrop(data, pair: spec.pair, origin: batch.origins[slot])
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

    @Test func sourceStatisticsHoldTheImagesQuantiles() throws {
        var rng = SeededRNG(seed: 8)
        var img = HDRImage(width: 50, height: 40)
        for i in img.pixels.indices { img.pixels[i] = Float(exp(rng.normal() * 2)) }
        let n = img.planeCount
        let peaks = (0..<n).map { Double(max(img.pixels[$0], img.pixels[n + $0], img.pixels[2 * n + $0])) }.sorted()
        let lums = (0..<n).map {
            0.2126 * Double(img.pixels[$0]) + 0.7152 * Double(img.pixels[n + $0]) + 0.0722
                * Double(img.pixels[2 * n + $0])
        }.sorted()
        let stats = SourceStatistics(img)
        let r = SourceStatistics.resolution
        // At the table's points, the image's own quantile, numpy's linear rule, exactly.
        for k in [0, 1, 409, 2048, 3686, r - 1, r] {
            let p = Double(k) / Double(r)
            #expect(stats.peak(at: p) == SourceStatistics.quantile(sorted: peaks, p))
            #expect(stats.luminance(at: p) == SourceStatistics.quantile(sorted: lums, p))
        }
        #expect(stats.peak(at: 0) == peaks.first! && stats.peak(at: 1) == peaks.last!)
        // Between them, within the table's step of the exact quantile.
        for p in stride(from: 0.0003, to: 1, by: 0.0137) {
            let k = Int(p * Double(r))
            let step = stats.peakQuantiles[k + 1] - stats.peakQuantiles[k]
            #expect(abs(stats.peak(at: p) - SourceStatistics.quantile(sorted: peaks, p)) <= step, "p \(p)")
        }
        #expect(ExposureStep.luminancePercentile(img, 50) == stats.luminance(at: 0.5))
    }

    /// A 200 x 100 image whose left 40 columns are a bright sky (50 + row) and whose right half is shadow.
    static func skyAndShadow() -> HDRImage {
        var img = HDRImage(width: 200, height: 100)
        for c in 0..<3 {
            for y in 0..<100 {
                for x in 0..<200 {
                    img[c, y, x] = Float(
                        x < 40 ? 50 + Double(y) : x < 100 ? 1 + 0.01 * Double(x) : 0.01 + 0.0001 * Double(x))
                }
            }
        }
        return img
    }

    @Test func exposureOverTheImageExposesAPatchAsTheWholeFrame() throws {
        let img = Self.skyAndShadow()
        let stats = SourceStatistics(img)
        let byImage = ExposureStep(clipFraction: ParameterRange(0.1), over: .image)
        let byPatch = ExposureStep(clipFraction: ParameterRange(0.1))
        // One scale for the frame: white over its 0.9 quantile, which lies in the sky (20% of the pixels).
        let s = byImage.scale(for: stats, fraction: 0.1)
        #expect(s == 1 / stats.peak(at: 0.9))
        func clippedShare(_ patch: HDRImage, _ step: ExposureStep) -> Double {
            var (input, target) = (patch, patch)
            var r = SeededRNG(seed: 1)
            step.apply(input: &input, target: &target, rng: &r, source: stats)
            #expect(input == target)
            let n = target.planeCount
            return Double((0..<n).filter { target.pixels[$0] >= 0.99999 }.count) / Double(n)
        }
        let sky = SynthOutput.cut(img, .init(x: 0, y: 60, width: 32, height: 32))
        let shadow = SynthOutput.cut(img, .init(x: 150, y: 50, width: 32, height: 32))
        // By the image: the patch of the sky's brighter half clips whole (the frame's 0.9 quantile is the sky's
        // median, about 100), the shadow patch not at all; by the patch, each clips its own 10%.
        #expect(clippedShare(sky, byImage) == 1 && clippedShare(shadow, byImage) == 0)
        #expect(abs(clippedShare(sky, byPatch) - 0.1) < 0.035 && abs(clippedShare(shadow, byPatch) - 0.1) < 0.035)
        // The patch is scaled by the frame's factor, bit for bit as the step scales.
        var (input, target) = (shadow, shadow)
        var r = SeededRNG(seed: 1)
        byImage.apply(input: &input, target: &target, rng: &r, source: stats)
        #expect(target.pixels == shadow.pixels.map { Float(Double($0) * s) })
        // Without a source (the pair is the whole image) it measures the pair itself.
        var (wi, wt) = (img, img)
        var r2 = SeededRNG(seed: 1)
        byImage.apply(input: &wi, target: &wt, rng: &r2, source: nil)
        #expect(wt.pixels == img.pixels.map { Float(Double($0) * s) })
        // Percentile mode by the image: the frame's median luminance goes to 0.18.
        let median = ExposureStep(percentile: 50, value: 0.18, over: .image)
        #expect(median.scale(for: stats, fraction: nil) == 0.18 / stats.luminance(at: 0.5))
    }

    @Test func onlineSetsExposeEachPatchByItsSource() throws {
        let dir = ScratchDir()
        let root = try Self.sources(dir)
        let text = Self.recipeText.replacingOccurrences(
            of: "clip_fraction: [0.05, 0.15]\n", with: "clip_fraction: [0.05, 0.15]\n    over: image\n")
        let recipe = try DegradationRecipe.parse(text)
        let plain = try DegradationRecipe.parse(Self.recipeText)
        #expect(recipe.needsSourceStatistics && !plain.needsSourceStatistics)
        let c = Self.config(workers: 1)
        let data = try PairedDataset(sources: root, recipe: recipe, recipeName: "t", config: c)
        #expect(try Self.dataset(root, c).sourceStatistics == nil)
        let stats = try #require(data.sourceStatistics)
        #expect(stats.count == 3)
        for k in 0..<3 { #expect(stats[k] == SourceStatistics(try data.images(k).target)) }
        let sampler = try EpochSampler(dataset: data, config: c)
        let loader = try PrefetchLoader(dataset: data, config: c)
        defer { loader.close() }
        for _ in 0..<3 {
            let batch = try loader.next()
            for slot in 0..<4 {
                let spec = try sampler.sample(epoch: batch.epoch, index: batch.index * 4 + slot)
                let clean = try Self.cleanCrop(data, pair: spec.pair, origin: batch.origins[slot])
                let (x, _) = recipe.apply(
                    clean: clean, seed: OnlineDegradation.streamSeed(9),
                    pair: batch.epoch * 12 + batch.index * 4 + slot,
                    source: stats[spec.pair])
                let per = 3 * 16 * 16
                #expect(Array(batch.input.storage[(slot * per)..<((slot + 1) * per)]) == x.pixels)
            }
        }
    }

    @Test func exposureScopeIsCheckedAndRecorded() throws {
        let error = #expect(throws: ConfigError.self) {
            try DegradationRecipe.parse("name: t\nsteps:\n  - type: exposure\n    over: frame\n")
        }
        #expect(error.map { "\($0)" } == "config error: steps.0.over: expected patch or image, got 'frame'")
        let r = try DegradationRecipe.parse("name: t\nsteps:\n  - type: exposure\n    over: image\n")
        let step = try #require(r.steps[0] as? ExposureStep)
        #expect(step.over == .image && step.percentile == 50 && step.value == ParameterRange(0.18))
        #expect(step.parameters["over"] == .string("image"))
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
