// The `data:` section of a training config: where the pairs are, how patches are cut, batched and normalised.
import Config
import Data
import Model

/// Every key with its default; see configs/README.md for units and the errors.
package struct TrainDataConfig: Sendable, Equatable {
    /// `train`, `val`: directories holding `input/` and `target/` (required; must exist). `train` may instead be
    /// `{sources: DIR, recipe: FILE}`: clean images from which every training patch is made as it is cut, degraded
    /// by the recipe (`OnlineDegradation`); `train` is then the sources directory and `trainRecipe` the recipe.
    package var train: String
    package var trainRecipe: String?
    package var val: String
    /// `test` (null): a held-out test set, same layout, from sources training never touches; scored once when
    /// the run ends (its best checkpoint, each image restored whole as `evaluate` does). Must exist when given.
    package var test: String?
    /// How validation scores `val` (`val_mode`).
    package enum ValMode: String, Sendable, CaseIterable {
        /// Every image cut into `patch_size` tiles (the last row and column aligned to the edges), each tile scored
        /// as an image of its own: one network input per tile, as training's patches.
        case tiles
        /// Every image restored whole, as `evaluate` and the held-out scoring restore it (`TiledRestore`: tiles of
        /// 256 blended, the whole image's LogNorm statistics), and scored as one image.
        case images
    }
    /// `val_mode` (tiles).
    package var valMode: ValMode
    /// `patch_size` (64, a multiple of the model's size multiple), `batch_size` (16), `workers` (2),
    /// `prefetch` (4), `cache` (false), `strict` (false), `samples_per_epoch` (null: one per pair),
    /// `augment` ({flip_h, flip_v, rot90}, each true by default).
    package var patchSize: Int
    package var batchSize: Int
    package var workers: Int
    package var prefetch: Int
    package var cache: Bool
    package var strict: Bool
    package var samplesPerEpoch: Int?
    package var augment: LoaderConfig.Augment
    /// `eps` (1e-4), `denom_floor` (1e-2): LogNorm's constants, kept as read (Double) so the resolved
    /// record shows what was written.
    package var eps: Double
    package var denomFloor: Double

    package static let keys = [
        "train", "val", "test", "patch_size", "batch_size", "eps", "denom_floor", "augment", "workers",
        "prefetch", "cache", "strict", "samples_per_epoch", "val_mode"
    ]
    package static let augmentKeys = ["flip_h", "flip_v", "rot90"]
    package static let onlineKeys = ["sources", "recipe"]
    /// `samples_per_epoch` when `train` is made on the fly and the key is absent.
    package static let onlineEpoch = 768

    /// - Parameter sizeMultiple: the model's `sizeMultiple`; `patch_size` must be a multiple of it.
    package init(config c: ConfigMapping, sizeMultiple: Int, modelName: String) throws {
        if c.holdsMapping("train") {
            let t = try c.mapping("train")
            train = try t.existingDirectory("sources")
            guard let recipe = try t.optionalExistingFile("recipe") else {
                throw t.error("recipe", "missing required key")
            }
            trainRecipe = recipe
            try t.finish(known: Self.onlineKeys)
        } else {
            train = try c.existingDirectory("train")
            trainRecipe = nil
        }
        val = try c.existingDirectory("val")
        test = try c.optionalExistingDirectory("test")
        patchSize = try c.value("patch_size", default: 64, in: .within(1...LoaderConfig.maxPatchSize))
        if patchSize % sizeMultiple != 0 {
            throw c.error("patch_size", "must be a multiple of \(sizeMultiple) for \(modelName), got \(patchSize)")
        }
        batchSize = try c.value("batch_size", default: 16, in: .atLeast(1))
        // LogNorm.defaultEps / defaultDenomFloor written as decimal (their Float values print as 9.99e-05).
        eps = try c.value("eps", default: 1e-4, in: .greaterThan(0.0))
        denomFloor = try c.value("denom_floor", default: 1e-2, in: .greaterThan(0.0))
        if let a = try c.optionalMapping("augment") {
            augment = LoaderConfig.Augment(
                flipH: try a.value("flip_h", default: true),
                flipV: try a.value("flip_v", default: true),
                rot90: try a.value("rot90", default: true))
            try a.finish(known: Self.augmentKeys)
        } else {
            augment = .all
        }
        workers = try c.value("workers", default: 2, in: .within(0...LoaderConfig.maxWorkers))
        prefetch = try c.value("prefetch", default: 4, in: .atLeast(1))
        cache = try c.value("cache", default: false)
        strict = try c.value("strict", default: false)
        let mode: String = try c.value("val_mode", default: ValMode.tiles.rawValue)
        guard let valMode = ValMode(rawValue: mode) else {
            throw c.error(
                "val_mode", DidYouMean.unknown("validation mode", mode, among: ValMode.allCases.map(\.rawValue)))
        }
        self.valMode = valMode
        // Made on the fly, an epoch has no natural size: 768 samples (the size of make data's stored set).
        samplesPerEpoch =
            try c.optional("samples_per_epoch", in: .atLeast(1)) ?? (trainRecipe != nil ? Self.onlineEpoch : nil)
        if let s = samplesPerEpoch, s < batchSize {
            throw c.error(
                "samples_per_epoch",
                "must be >= data.batch_size (\(batchSize)), got \(s): an epoch would hold no full batch")
        }
        try c.finish(known: Self.keys)
        // The loader's own limits (e.g. values per batch tensor) stay the loader's to state.
        do {
            try loaderConfig(seed: 0).validate()
        } catch let e as LoaderError {
            throw ConfigError(keyPath: c.path, reason: "\(e)", file: c.file, line: c.line)
        }
    }

    package func loaderConfig(seed: UInt64, workers: Int? = nil) -> LoaderConfig {
        LoaderConfig(
            patchSize: patchSize, batchSize: batchSize, seed: seed, workers: workers ?? self.workers,
            prefetch: prefetch, cache: cache, augment: augment, strict: strict,
            samplesPerEpoch: samplesPerEpoch)
    }

    package var logNorm: LogNorm { LogNorm(eps: Float(eps), denomFloor: Float(denomFloor)) }

    package var json: JSONValue {
        .object([
            "train": trainRecipe.map { .object(["sources": .string(train), "recipe": .string($0)]) } ?? .string(train),
            "val": .string(val), "test": test.map(JSONValue.string) ?? .null,
            "patch_size": .integer(patchSize),
            "batch_size": .integer(batchSize), "eps": .number(eps), "denom_floor": .number(denomFloor),
            "augment": .object([
                "flip_h": .bool(augment.flipH), "flip_v": .bool(augment.flipV), "rot90": .bool(augment.rot90)
            ]),
            "workers": .integer(workers), "prefetch": .integer(prefetch), "cache": .bool(cache),
            "strict": .bool(strict),
            "samples_per_epoch": samplesPerEpoch.map(JSONValue.integer) ?? .null,
            "val_mode": .string(valMode.rawValue)
        ])
    }
}
