// Which pair, crop and augmentation each training sample gets: a pure function of (seed, epoch, index).
import Numerics

/// Sample `index` of `epoch`: pair `pair`, crop at (x, y) in the stored image, then the augmentation.
package struct SampleSpec: Sendable, Equatable {
    package var pair: Int
    package var x: Int
    package var y: Int
    package var flipH: Bool
    package var flipV: Bool
    /// Quarter turns counter-clockwise, 0...3.
    package var rot90: Int
}

/// Decides every sample without shared state, so any thread can compute any batch and the result does not
/// depend on thread count or order.
///
/// Pair rule: an epoch of S samples over N pairs is a sequence of passes; pass p of epoch e is a permutation
/// of 0..<N drawn from `SeededRNG(seed, e, p, 1)` (Fisher-Yates), and sample i takes entry i % N of pass
/// i / N. So when S == N every pair appears exactly once per epoch; when S is a multiple of N, S / N times;
/// otherwise every pair appears floor(S / N) or ceil(S / N) times, and when S < N an epoch sees a
/// different subset of S distinct pairs each time.
///
/// Per-sample draws come from `SeededRNG(seed, e, i)` (stream tag 0, so never the permutation's stream), in
/// this order: x in 0...W-P, y in 0...H-P, flipH bit, flipV bit, quarter turns 0...3. All five are always
/// drawn and disabled augmentations are then forced off, so switching one augmentation off leaves the crops
/// and the other flags of every sample unchanged.
package struct EpochSampler: Sendable {
    /// (width, height) of each usable pair, in dataset order.
    package let sizes: [(width: Int, height: Int)]
    package let patchSize: Int
    package let batchSize: Int
    package let samplesPerEpoch: Int
    package let seed: UInt64
    package let augment: LoaderConfig.Augment

    /// Batch b of an epoch holds samples b*B ..< (b+1)*B; the incomplete last batch is dropped.
    package var batchesPerEpoch: Int { samplesPerEpoch / batchSize }

    package init(sizes: [(width: Int, height: Int)], config: LoaderConfig) throws {
        try config.validate()
        if sizes.isEmpty { throw LoaderError("sampler: no pairs to sample from") }
        for (i, s) in sizes.enumerated() where s.width < config.patchSize || s.height < config.patchSize {
            throw LoaderError(
                "sampler: pair \(i) is \(s.width)x\(s.height), smaller than patch_size \(config.patchSize)")
        }
        let samples = config.samplesPerEpoch ?? sizes.count
        if samples < config.batchSize {
            throw LoaderError(
                "an epoch of \(samples) samples holds no full batch of batch_size \(config.batchSize); lower batch_size or set samples_per_epoch"
            )
        }
        self.sizes = sizes
        self.patchSize = config.patchSize
        self.batchSize = config.batchSize
        self.samplesPerEpoch = samples
        self.seed = config.seed
        self.augment = config.augment
    }

    package init(dataset: PairedDataset, config: LoaderConfig) throws {
        try self.init(sizes: dataset.pairs.map { ($0.width, $0.height) }, config: config)
    }

    /// Pair order of pass `pass` of `epoch`: a permutation of 0..<N.
    package func permutation(epoch: Int, pass: Int) -> [Int] {
        var order = Array(0..<sizes.count)
        var rng = SeededRNG(seed: seed, UInt64(truncatingIfNeeded: epoch), UInt64(truncatingIfNeeded: pass), 1)
        var i = order.count - 1
        while i > 0 {
            order.swapAt(i, rng.below(i + 1))
            i -= 1
        }
        return order
    }

    /// Sample `index` (0..<samplesPerEpoch) of `epoch` (>= 0).
    package func sample(epoch: Int, index: Int) throws -> SampleSpec {
        try samples(epoch: epoch, range: index..<(index + 1))[0]
    }

    /// Samples `range` (within 0..<samplesPerEpoch) of `epoch` (>= 0); each permutation is computed once
    /// per call.
    package func samples(epoch: Int, range: Range<Int>) throws -> [SampleSpec] {
        guard epoch >= 0, range.lowerBound >= 0, range.upperBound <= samplesPerEpoch else {
            throw LoaderError(
                "samples \(range) of epoch \(epoch) are outside epochs >= 0 of \(samplesPerEpoch) samples")
        }
        let n = sizes.count
        var passOrder: (pass: Int, order: [Int]) = (-1, [])
        return range.map { i in
            let pass = i / n
            if pass != passOrder.pass { passOrder = (pass, permutation(epoch: epoch, pass: pass)) }
            return draw(epoch: epoch, index: i, pair: passOrder.order[i % n])
        }
    }

    private func draw(epoch: Int, index: Int, pair: Int) -> SampleSpec {
        var rng = SeededRNG(seed: seed, UInt64(truncatingIfNeeded: epoch), UInt64(truncatingIfNeeded: index))
        let (w, h) = sizes[pair]
        let x = rng.below(w - patchSize + 1)
        let y = rng.below(h - patchSize + 1)
        let fh = rng.below(2) == 1
        let fv = rng.below(2) == 1
        let r = rng.below(4)
        return SampleSpec(
            pair: pair, x: x, y: y, flipH: augment.flipH && fh, flipV: augment.flipV && fv,
            rot90: augment.rot90 ? r : 0)
    }
}
