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
        guard let share else { return try Self.assemble(patches, dataset: dataset, epoch: epoch, index: index) }
        var batch = try Self.assemble(Array(patches[share]), dataset: dataset, epoch: epoch, index: index)
        batch.batchOrigins = patches.map(\.origin)
        return batch
    }

    /// Input and target tensors (N, 3, P, P) with patch n cut from pair `patches[n].pair` at its origin.
    /// Patches are cut grouped by pair, so an uncached pair is decoded once per batch however many
    /// patches it gives; the result does not depend on that order.
    static func assemble(
        _ patches: [(pair: Int, origin: PatchOrigin)], dataset: PairedDataset,
        epoch: Int, index: Int
    ) throws -> Batch {
        let p = dataset.patchSize
        let n = patches.count
        let per = 3 * p * p
        var input = [Float](repeating: 0, count: n * per)
        var target = [Float](repeating: 0, count: n * per)
        let order = patches.indices.sorted { (patches[$0].pair, $0) < (patches[$1].pair, $1) }
        try input.withUnsafeMutableBufferPointer { inBuf in
            try target.withUnsafeMutableBufferPointer { tgBuf in
                var k = 0
                while k < order.count {
                    let pair = patches[order[k]].pair
                    let images = try dataset.images(pair)
                    while k < order.count, patches[order[k]].pair == pair {
                        let slot = order[k]
                        try PatchCrop.extract(
                            into: inBuf.baseAddress! + slot * per, from: images.input,
                            origin: patches[slot].origin, size: p)
                        try PatchCrop.extract(
                            into: tgBuf.baseAddress! + slot * per, from: images.target,
                            origin: patches[slot].origin, size: p)
                        k += 1
                    }
                }
            }
        }
        return Batch(
            input: Tensor(shape: [n, 3, p, p], storage: input),
            target: Tensor(shape: [n, 3, p, p], storage: target),
            origins: patches.map(\.origin), epoch: epoch, index: index)
    }
}
