// Fixed validation batches: the same patches, in the same order, on every evaluation.

/// Every patch of a validation dataset, cut without randomness or augmentation, in batches of `batchSize`
/// (the last batch holds the remainder). Patch order: pair by pair in dataset (name) order; within a pair,
/// tiles row by row, left to right.
package struct ValidationSet: Sendable {
    package enum Mode: String, Sendable, CaseIterable {
        /// One patch per pair, centred: origin ((W - P) / 2, (H - P) / 2), rounded down.
        case crop
        /// Non-overlapping P x P tiles from the top-left corner; where P does not divide the image, one more
        /// column (row) of tiles aligned to the right (bottom) edge overlaps its neighbour, so every pixel is
        /// covered. See `tileStarts`.
        case tiles
    }

    package let dataset: PairedDataset
    package let mode: Mode
    package let batchSize: Int
    /// (pair index, origin) of every patch, in evaluation order.
    let patches: [(pair: Int, origin: PatchOrigin)]

    /// Where every patch comes from, in evaluation order (batch b holds origins b*B ..< (b+1)*B).
    package var origins: [PatchOrigin] { patches.map(\.origin) }
    package var batchCount: Int { (patches.count + batchSize - 1) / batchSize }

    package init(dataset: PairedDataset, batchSize: Int, mode: Mode) throws {
        if batchSize < 1 { throw LoaderError("validation batch_size must be >= 1 (got \(batchSize))") }
        let p = dataset.patchSize
        var patches: [(pair: Int, origin: PatchOrigin)] = []
        for (i, pair) in dataset.pairs.enumerated() {
            switch mode {
            case .crop:
                patches.append((i, PatchOrigin(file: pair.name, x: (pair.width - p) / 2, y: (pair.height - p) / 2)))
            case .tiles:
                for y in Self.tileStarts(length: pair.height, size: p) {
                    for x in Self.tileStarts(length: pair.width, size: p) {
                        patches.append((i, PatchOrigin(file: pair.name, x: x, y: y)))
                    }
                }
            }
        }
        self.dataset = dataset
        self.mode = mode
        self.batchSize = batchSize
        self.patches = patches
    }

    /// Tile starts along one axis of `length` >= `size`: 0, size, 2*size, ... while a whole tile fits, then
    /// `length - size` if the tiles so far stop short of the edge. E.g. length 30, size 8: 0, 8, 16, 22.
    package static func tileStarts(length: Int, size: Int) -> [Int] {
        guard size >= 1, length >= size else { return [] }
        var starts = Array(stride(from: 0, through: length - size, by: size))
        if starts.last! + size < length { starts.append(length - size) }
        return starts
    }

    /// Batch `index` (0..<batchCount); `epoch` is 0 and `index` is the batch number. Decodes each pair it
    /// needs once (unless cached).
    package func batch(_ index: Int) throws -> Batch {
        guard index >= 0 && index < batchCount else {
            throw LoaderError("validation batch \(index) out of range 0..<\(batchCount)")
        }
        let range = (index * batchSize)..<min((index + 1) * batchSize, patches.count)
        return try BatchBuilder.assemble(Array(patches[range]), dataset: dataset, epoch: 0, index: index)
    }

    /// All batches in order.
    package func batches() throws -> [Batch] { try (0..<batchCount).map(batch) }
}
