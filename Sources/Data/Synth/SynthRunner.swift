// `synth` as a library call: clean sources -> random crops (or full images) -> recipe -> EXR pairs + manifest.
import EXRIO
import Foundation
import Numerics
import Synchronization

package struct SynthOptions: Sendable {
    package var sources: SynthSources
    package var recipe: DegradationRecipe
    /// Recorded in the manifest as given.
    package var recipeFile: String
    package var out: String
    /// Patch side in pixels (ignored with `full`).
    package var patch: Int
    /// Pairs to cut; nil means `defaultCount`. With `full`: the number of procedural scenes, and it must be nil
    /// for image files (each file gives exactly one pair).
    package var count: Int?
    package var seed: UInt64
    package var full: Bool
    /// Replace an existing dataset in `out` (its manifest, input/ and target/).
    package var force: Bool
    /// Worker threads; 0 uses every core. The output does not depend on it.
    package var threads: Int
    /// EXR compression of the pair files.
    package var compression: EXRCompression

    package static let defaultCount = 256
    /// Procedural patches come from ceil(count / scenePatches) scenes of 512 x 256.
    package static let scenePatches = 16

    package init(
        sources: SynthSources, recipe: DegradationRecipe, recipeFile: String, out: String, patch: Int = 64,
        count: Int? = nil, seed: UInt64 = 0, full: Bool = false, force: Bool = false, threads: Int = 0,
        compression: EXRCompression = .zip
    ) {
        self.sources = sources
        self.recipe = recipe
        self.recipeFile = recipeFile
        self.out = out
        self.patch = patch
        self.count = count
        self.seed = seed
        self.full = full
        self.force = force
        self.threads = threads
        self.compression = compression
    }
}

package struct SynthSummary: Sendable, Equatable {
    package var pairs: Int
    package var sources: Int
    package var out: String
    /// Mean over pairs of log2(max / min positive) Rec. 709 luminance; nil when no pair has a positive pixel.
    package var meanInputStops: Double?
    package var meanTargetStops: Double?
}

package enum SynthRunner {
    /// Writes `out/input/<id>.exr`, `out/target/<id>.exr` (float, ZIP) and then `out/manifest.json`.
    /// Pair i draws its source (uniformly), then crop x and y, from `SynthStreams.crop(seed:pair:)`; its recipe
    /// steps draw from `SynthStreams.step`. Every source is read and checked (finite, at least patch-sized) even
    /// when no pair is cut from it. On failure the input/ and target/ written so far are removed.
    /// - Throws: FileError, FileError (unreadable source), never a partial manifest.
    package static func run(_ o: SynthOptions) throws -> SynthSummary {
        let plan = try SynthPlan(o)
        try SynthOutput.prepare(o.out, force: o.force)
        do {
            let pairs = try produce(plan, o)
            let manifest = SynthManifest(
                recipeFile: o.recipeFile, recipe: o.recipe.json, seed: o.seed,
                patch: o.full ? nil : o.patch, full: o.full, pairs: pairs.map(\.record))
            try manifest.write(to: o.out + "/" + SynthManifest.fileName)
            func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
            return SynthSummary(
                pairs: pairs.count, sources: plan.sourceNames.count, out: o.out,
                meanInputStops: mean(pairs.compactMap(\.inputStops)),
                meanTargetStops: mean(pairs.compactMap(\.targetStops)))
        } catch {
            SynthOutput.discardPairs(o.out)
            throw error
        }
    }

    struct PairResult: Sendable {
        var record: SynthManifest.Pair
        var inputStops: Double?
        var targetStops: Double?
    }

    /// Loads each source once, in order, and makes all of its pairs in parallel.
    static func produce(_ plan: SynthPlan, _ o: SynthOptions) throws -> [PairResult] {
        let results = Mutex<[Int: Result<PairResult, Error>]>([:])
        let threads = o.threads > 0 ? o.threads : ProcessInfo.processInfo.activeProcessorCount
        for s in plan.sourceNames.indices {
            let image = try plan.load(s)
            let stats = o.recipe.needsSourceStatistics && !o.full ? SourceStatistics(image) : nil
            let mine = plan.pairs.indices.filter { plan.pairs[$0].source == s }
            let chunks = min(max(threads, 1), max(mine.count, 1))
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for k in stride(from: chunk, to: mine.count, by: chunks) {
                    let i = mine[k]
                    let r = Result { try makePair(i, image: image, source: stats, plan: plan, o) }
                    results.withLock { $0[i] = r }
                }
            }
        }
        return try results.withLock { all in try plan.pairs.indices.map { try all[$0]!.get() } }
    }

    /// - Parameter source: `image`'s statistics when the recipe exposes patches by the whole image.
    static func makePair(
        _ i: Int, image: HDRImage, source: SourceStatistics? = nil, plan: SynthPlan, _ o: SynthOptions
    ) throws -> PairResult {
        var rng = plan.pairs[i].rng
        let crop: SynthManifest.Crop
        if o.full {
            crop = .init(x: 0, y: 0, width: image.width, height: image.height)
        } else {
            let x = rng.below(image.width - o.patch + 1)
            let y = rng.below(image.height - o.patch + 1)
            crop = .init(x: x, y: y, width: o.patch, height: o.patch)
        }
        let clean = o.full ? image : SynthOutput.cut(image, crop)
        let (input, target) = o.recipe.apply(clean: clean, seed: o.seed, pair: i, source: source)
        let id = plan.id(i)
        try SynthOutput.write(input, target, id: id, out: o.out, compression: o.compression)
        return PairResult(
            record: .init(id: id, source: plan.sourceNames[plan.pairs[i].source], crop: crop),
            inputStops: LuminanceStats(input)?.dynamicRangeStops,
            targetStops: LuminanceStats(target)?.dynamicRangeStops)
    }
}

/// Which source every pair comes from, and how sources are loaded, decided before anything is written.
struct SynthPlan: Sendable {
    struct Pair: Sendable {
        var source: Int
        /// The pair's crop stream, positioned after the source draw.
        var rng: SeededRNG
    }

    let sources: SynthSources
    let sourceNames: [String]
    let pairs: [Pair]
    let patch: Int
    let full: Bool
    let seed: UInt64
    private let idWidth: Int

    init(_ o: SynthOptions) throws {
        guard o.full || o.patch >= 1 else {
            throw FileError(path: "--patch", reason: "must be at least 1, got \(o.patch)")
        }
        if let c = o.count, c < 1 { throw FileError(path: "--count", reason: "must be at least 1, got \(c)") }
        sources = o.sources
        patch = o.patch
        full = o.full
        seed = o.seed
        let count = o.count ?? SynthOptions.defaultCount
        switch (o.sources, o.full) {
        case (.files(let files), true):
            guard o.count == nil else {
                throw FileError(
                    path: "--count", reason: "does not apply to --full with image files (one pair per file)")
            }
            sourceNames = files
        case (.files(let files), false):
            sourceNames = files
        case (.procedural, true):
            sourceNames = (0..<count).map { "procedural:\($0)" }
        case (.procedural, false):
            let scenes = (count + SynthOptions.scenePatches - 1) / SynthOptions.scenePatches
            sourceNames = (0..<scenes).map { "procedural:\($0)" }
        }
        guard !sourceNames.isEmpty else { throw FileError(path: "--from", reason: "no source images") }
        let n = o.full ? sourceNames.count : count
        let sourceCount = sourceNames.count
        pairs = (0..<n).map { i in
            var rng = SynthStreams.crop(seed: o.seed, pair: i)
            let source = o.full ? i : rng.below(sourceCount)
            return Pair(source: source, rng: rng)
        }
        idWidth = max(6, String(max(n - 1, 0)).count)
    }

    /// Zero-padded pair id: `000042`.
    func id(_ i: Int) -> String {
        let s = String(i)
        return String(repeating: "0", count: max(idWidth - s.count, 0)) + s
    }

    /// The clean source image, checked: finite everywhere and (for patches) at least patch x patch.
    func load(_ s: Int) throws -> HDRImage {
        let image: HDRImage
        let name = sourceNames[s]
        switch sources {
        case .procedural:
            image = ProceduralScene.render(
                width: ProceduralScene.defaultWidth, height: ProceduralScene.defaultHeight,
                seed: seed, index: s)
        case .files:
            let loaded = try ImageReader.read(path: name)
            let bad = loaded.counts.nan + loaded.counts.inf
            guard bad == 0 else {
                throw FileError(
                    path: name,
                    reason:
                        "\(bad) pixel(s) with NaN or Inf (\(loaded.counts.nan) NaN, \(loaded.counts.inf) Inf); not used for training"
                )
            }
            image = loaded.image
        }
        if !full && (image.width < patch || image.height < patch) {
            throw FileError(
                path: name,
                reason: "image is \(image.width) x \(image.height), smaller than the \(patch) x \(patch) patch")
        }
        return image
    }
}
