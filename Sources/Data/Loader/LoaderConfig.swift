// What the training loader is asked to do: patch geometry, batching, threads, caching, augmentation.

/// Loader settings. Field names in error messages are the YAML keys (`patch_size`, ...) the config layer
/// maps onto these properties. Defaults (each documented on its property) suit a laptop-sized run.
package struct LoaderConfig: Sendable, Equatable {
    /// Random flips and quarter turns, each drawn per sample and applied identically to input and target.
    /// YAML: `augment: {flip_h, flip_v, rot90}`. All off by default: a config that names none gets the
    /// pixels as stored.
    package struct Augment: Sendable, Equatable {
        /// Mirror left-right with probability 1/2.
        package var flipH: Bool
        /// Mirror top-bottom with probability 1/2.
        package var flipV: Bool
        /// Rotate by 0, 1, 2 or 3 quarter turns counter-clockwise, uniformly.
        package var rot90: Bool

        package init(flipH: Bool = false, flipV: Bool = false, rot90: Bool = false) {
            self.flipH = flipH
            self.flipV = flipV
            self.rot90 = rot90
        }

        package static let none = Augment()
        package static let all = Augment(flipH: true, flipV: true, rot90: true)
    }

    /// `patch_size`: side P of the square (3, P, P) crops. Default 64.
    package var patchSize: Int
    /// `batch_size`: patches per training batch. Default 16.
    package var batchSize: Int
    /// `seed`: with the epoch and sample index, decides every crop and flag. Default 0.
    package var seed: UInt64
    /// `workers`: decoding threads; 0 builds each batch on the thread that calls `next()`. Default 2.
    package var workers: Int
    /// `prefetch`: most batches built ahead of the consumer (ready or in progress), >= 1. Default 4.
    package var prefetch: Int
    /// `cache`: keep every decoded pair in RAM (for sets that fit); otherwise re-read files per batch. Default false.
    package var cache: Bool
    /// `augment`: see `Augment`. Default: none.
    package var augment: Augment
    /// `strict`: a pair with NaN/Inf pixels is an error instead of a skipped pair with a warning. Default false.
    package var strict: Bool
    /// `samples_per_epoch`: patches per epoch; nil means one per usable pair. Default nil.
    package var samplesPerEpoch: Int?

    package init(
        patchSize: Int = 64, batchSize: Int = 16, seed: UInt64 = 0, workers: Int = 2, prefetch: Int = 4,
        cache: Bool = false, augment: Augment = .none, strict: Bool = false, samplesPerEpoch: Int? = nil
    ) {
        self.patchSize = patchSize
        self.batchSize = batchSize
        self.seed = seed
        self.workers = workers
        self.prefetch = prefetch
        self.cache = cache
        self.augment = augment
        self.strict = strict
        self.samplesPerEpoch = samplesPerEpoch
    }

    /// Upper bounds that keep a bad config from exhausting threads or overflowing a size computation;
    /// they are far above anything a patch trainer needs.
    package static let maxWorkers = 256
    package static let maxPatchSize = 8192
    /// Most float values in one batch tensor (2^30, 4 GiB).
    package static let maxBatchValues = 1 << 30

    /// Throws a `LoaderError` naming the first bad field.
    package func validate() throws {
        if patchSize < 1 || patchSize > Self.maxPatchSize {
            throw LoaderError("patch_size must be in 1...\(Self.maxPatchSize) (got \(patchSize))")
        }
        if batchSize < 1 { throw LoaderError("batch_size must be >= 1 (got \(batchSize))") }
        let perPatch = 3 * patchSize * patchSize
        let (values, overflow) = batchSize.multipliedReportingOverflow(by: perPatch)
        if overflow || values > Self.maxBatchValues {
            throw LoaderError(
                "batch_size \(batchSize) x 3 x \(patchSize) x \(patchSize) exceeds \(Self.maxBatchValues) values per batch tensor"
            )
        }
        if workers < 0 || workers > Self.maxWorkers {
            throw LoaderError("workers must be in 0...\(Self.maxWorkers) (got \(workers))")
        }
        if prefetch < 1 { throw LoaderError("prefetch must be >= 1 (got \(prefetch))") }
        if let s = samplesPerEpoch, s < batchSize {
            throw LoaderError(
                "samples_per_epoch (\(s)) must be >= batch_size (\(batchSize)): an epoch would hold no full batch")
        }
    }
}
