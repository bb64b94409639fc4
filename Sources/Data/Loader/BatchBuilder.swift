// Turning a list of patches (pair + origin) into a Batch; shared by training and validation batches.
import EXRIO
import Numerics

/// Builds batches from a dataset. Stateless apart from immutable references, so workers share one.
struct BatchBuilder: Sendable {
    let dataset: PairedDataset
    let sampler: EpochSampler
    /// The positions of every batch this builder cuts (a data-parallel rank's share); nil for all of them.
    var share: Range<Int>? = nil

    var batchSize: Int { sampler.batchSize }
    var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// Batch `index` of `epoch`: samples index*B ..< (index+1)*B of the sampler; with a share, only the patches
    /// at those positions are cut (the sample specs, and so the origins, are computed for the whole batch).
    func batch(epoch: Int, index: Int) throws -> Batch {
        let b = sampler.batchSize
        let specs = try sampler.samples(epoch: epoch, range: (index * b)..<((index + 1) * b))
        let patches = specs.map { s in
            (
                pair: s.pair,
                origin: PatchOrigin(
                    file: dataset.pairs[s.pair].name, x: s.x, y: s.y,
                    flipH: s.flipH, flipV: s.flipV, rot90: s.rot90)
            )
        }
        let first = index * b
        guard let share else {
            return try Self.assemble(
                patches, dataset: dataset, epoch: epoch, index: index,
                pairIDs: onlineIDs(epoch: epoch, positions: first..<(first + b)))
        }
        var batch = try Self.assemble(
            Array(patches[share]), dataset: dataset, epoch: epoch, index: index,
            pairIDs: onlineIDs(epoch: epoch, positions: (first + share.lowerBound)..<(first + share.upperBound)))
        batch.batchOrigins = patches.map(\.origin)
        return batch
    }

    /// The on-the-fly pair ids of samples `positions` of `epoch` (nil for stored pairs).
    private func onlineIDs(epoch: Int, positions: Range<Int>) -> [Int]? {
        guard dataset.online != nil else { return nil }
        return positions.map {
            OnlineDegradation.pairID(epoch: epoch, index: $0, samplesPerEpoch: sampler.samplesPerEpoch)
        }
    }

    /// Input and target tensors (N, 3, P, P) with patch n cut from pair `patches[n].pair` at its origin.
    /// Patches are cut grouped by pair, so an uncached pair is decoded once per batch however many
    /// patches it gives; the result does not depend on that order. With an online dataset `pairIDs` gives each
    /// patch's id: the clean patch is cut from the source and degraded (`OnlineDegradation`).
    static func assemble(
        _ patches: [(pair: Int, origin: PatchOrigin)], dataset: PairedDataset,
        epoch: Int, index: Int, pairIDs: [Int]? = nil
    ) throws -> Batch {
        if let online = dataset.online {
            guard let pairIDs, pairIDs.count == patches.count else {
                throw LoaderError("online pairs need one pair id per patch")
            }
            return try assembleOnline(
                patches, dataset: dataset, online: online, pairIDs: pairIDs, epoch: epoch, index: index)
        }
        let p = dataset.patchSize
        let n = patches.count
        let per = 3 * p * p
        var input = [Float](repeating: 0, count: n * per)
        var target = [Float](repeating: 0, count: n * per)
        let masks = dataset.hasMasks
        var regions = [Float](repeating: 0, count: masks ? n * p * p : 0)
        var maskPatch = [Float](repeating: 0, count: masks ? per : 0)
        let order = patches.indices.sorted { (patches[$0].pair, $0) < (patches[$1].pair, $1) }
        try input.withUnsafeMutableBufferPointer { inBuf in
            try target.withUnsafeMutableBufferPointer { tgBuf in
                var k = 0
                while k < order.count {
                    let pair = patches[order[k]].pair
                    let images = try dataset.images(pair)
                    let mask = try dataset.mask(pair)
                    while k < order.count, patches[order[k]].pair == pair {
                        let slot = order[k]
                        try PatchCrop.extract(
                            into: inBuf.baseAddress! + slot * per, from: images.input,
                            origin: patches[slot].origin, size: p)
                        try PatchCrop.extract(
                            into: tgBuf.baseAddress! + slot * per, from: images.target,
                            origin: patches[slot].origin, size: p)
                        if let mask {
                            try maskPatch.withUnsafeMutableBufferPointer {
                                try PatchCrop.extract(
                                    into: $0.baseAddress!, from: mask, origin: patches[slot].origin, size: p)
                            }
                            regions.replaceSubrange((slot * p * p)..<((slot + 1) * p * p), with: maskPatch[0..<(p * p)])
                        }
                        k += 1
                    }
                }
            }
        }
        return Batch(
            input: Tensor(shape: [n, 3, p, p], storage: input),
            target: Tensor(shape: [n, 3, p, p], storage: target),
            origins: patches.map(\.origin), epoch: epoch, index: index,
            regions: masks ? Tensor(shape: [n, 1, p, p], storage: regions) : nil)
    }

    /// Each clean patch cut from its source (augmentation included), then degraded as sample `pairIDs[n]`.
    static func assembleOnline(
        _ patches: [(pair: Int, origin: PatchOrigin)], dataset: PairedDataset, online: OnlineDegradation,
        pairIDs: [Int], epoch: Int, index: Int
    ) throws -> Batch {
        let p = dataset.patchSize
        let n = patches.count
        let per = 3 * p * p
        var input = [Float](repeating: 0, count: n * per)
        var target = [Float](repeating: 0, count: n * per)
        var clean = HDRImage(width: p, height: p, pixels: [Float](repeating: 0, count: per))
        for (slot, patch) in patches.enumerated() {
            let source = try dataset.images(patch.pair).target
            try clean.pixels.withUnsafeMutableBufferPointer {
                try PatchCrop.extract(into: $0.baseAddress!, from: source, origin: patch.origin, size: p)
            }
            let (x, y) = online.degrade(
                clean: clean, pairID: pairIDs[slot], source: dataset.sourceStatistics?[patch.pair])
            input.replaceSubrange((slot * per)..<((slot + 1) * per), with: x.pixels)
            target.replaceSubrange((slot * per)..<((slot + 1) * per), with: y.pixels)
        }
        return Batch(
            input: Tensor(shape: [n, 3, p, p], storage: input),
            target: Tensor(shape: [n, 3, p, p], storage: target),
            origins: patches.map(\.origin), epoch: epoch, index: index)
    }
}
