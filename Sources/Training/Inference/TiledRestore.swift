// Restores a full image of any size with a patch model: overlapping tiles, each through PatchModel.infer (its
// forward, or its self-ensemble), blended with TileGrid's weights.
import Model
import Numerics

/// A bad tiling request, printed as its one-line reason.
package struct InferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Tiled inference.
///
/// - LogNorm's statistics (`statistics`): `.image` (default) normalises every tile with the whole image's log
///   minimum and maximum, so a pixel's network input does not depend on which tile it is in; `.tile` gives each
///   tile its own, as each training crop has (the tiles then disagree at their seams by as much as their log
///   ranges differ).
/// - Interior tile edges keep a margin of the network's receptive radius with blending weight 0 (TileGrid), so
///   no output that saw a tile's zero padding is used inside the image; the default overlap is twice that
///   radius (at least 16). With `.image`, a plain network's tiled output then equals the single forward pass of
///   the whole image up to float rounding (TiledRestoreTests measures it on a real image).
/// - An image with width <= tile and height <= tile is one forward pass on the whole image: the output is
///   bit for bit `model.infer(image).output` (when no padding is needed, see below).
/// - Otherwise tiles (`TileGrid`) go through the model `batchSize` at a time and are blended in Double with
///   weights that sum to 1 at every pixel, rounded to float32 once.
/// - U-Net sides must be multiples of 2^levels: a tile that is not is padded by edge replication (its own
///   last row and column repeated) to the next multiple, and the output cropped back. Replication adds no
///   new value, so the tile's LogNorm lo/hi/denom are unchanged; only the network sees the extra border.
/// Not thread-safe: the model keeps activations.
package struct TiledRestore {
    package enum Statistics: String, Sendable, CaseIterable {
        case image, tile
    }

    package let model: PatchModel
    package let tile: Int
    package let overlap: Int
    package let batchSize: Int
    package let statistics: Statistics
    /// Blending weight 0 within this many pixels of an interior tile edge: the receptive radius, or half the
    /// overlap when the overlap is smaller than twice the radius.
    package let margin: Int

    package static let defaultTile = 256

    /// Twice the network's receptive radius, at least 16.
    package static func defaultOverlap(for model: PatchModel) -> Int { max(16, 2 * model.contextRadius) }

    /// - Parameter overlap: nil: `defaultOverlap(for:)`.
    /// - Parameter margin: nil: the network's receptive radius (at most half the overlap).
    /// - Throws: InferenceError unless tile >= 1, 0 <= overlap < tile, 0 <= 2 x margin <= overlap and batchSize >= 1.
    package init(
        model: PatchModel, tile: Int = defaultTile, overlap: Int? = nil, batchSize: Int = 4,
        statistics: Statistics = .image, margin: Int? = nil
    ) throws {
        let overlap = overlap ?? min(Self.defaultOverlap(for: model), tile - 1)
        guard tile >= 1 else { throw InferenceError("tile must be >= 1 (got \(tile))") }
        guard overlap >= 0 && overlap < tile else {
            throw InferenceError("overlap must be in 0..<tile (\(tile)), got \(overlap)")
        }
        guard batchSize >= 1 else { throw InferenceError("batch size must be >= 1 (got \(batchSize))") }
        self.model = model
        self.tile = tile
        self.overlap = overlap
        self.batchSize = batchSize
        self.statistics = statistics
        let m = margin ?? min(model.contextRadius, overlap / 2)
        guard m >= 0 && 2 * m <= overlap else {
            throw InferenceError("margin must be in 0...overlap / 2 (\(overlap / 2)), got \(m)")
        }
        self.margin = m
    }

    /// - Parameter image: linear HDR, (1, 3, H, W), >= 0.
    /// - Parameter regions: the image's region mask (1, 1, H, W), tiled with it, for a model with a `hole_mask`
    ///   input (nil: no hole).
    /// - Returns: the restored linear image, (1, 3, H, W); non-finite values are kept for the caller to count.
    package func restore(_ image: Tensor, regions: Tensor? = nil) -> Tensor {
        precondition(
            image.rank == 4 && image.shape[0] == 1 && image.shape[1] == 3,
            "TiledRestore: expected (1, 3, H, W), got \(image.shape)")
        let h = image.shape[2]
        let w = image.shape[3]
        let grid = self.grid(width: w, height: h)
        // One tile is the whole image (edge padding adds no value): its own statistics are the image's.
        let regions = model.inputs.usesRegions ? regions : nil
        if let regions {
            precondition(regions.shape == [1, 1, h, w], "TiledRestore: regions \(regions.shape) for \(image.shape)")
        }
        if grid.tileCount == 1 {
            return run([image], regions: regions.map { [$0] }, width: w, height: h, statistics: nil)[0]
        }
        let stats = statistics == .image ? model.logNorm.logRange(image) : nil

        let th = grid.tileHeight
        let tw = grid.tileWidth
        let plane = h * w
        var acc = [Double](repeating: 0, count: 3 * plane)
        let origins = grid.yStarts.indices.flatMap { j in grid.xStarts.indices.map { i in (i, j) } }
        for first in Swift.stride(from: 0, to: origins.count, by: batchSize) {
            let chunk = origins[first..<min(first + batchSize, origins.count)]
            let tiles = chunk.map { crop(image, x: grid.xStarts[$0.0], y: grid.yStarts[$0.1], width: tw, height: th) }
            let regionTiles = regions.map { r in
                chunk.map { crop(r, x: grid.xStarts[$0.0], y: grid.yStarts[$0.1], width: tw, height: th) }
            }
            let outs = run(tiles, regions: regionTiles, width: tw, height: th, statistics: stats)
            for (out, (i, j)) in zip(outs, chunk) {
                // Tiles in order, each tile's rows split over the threads: every pixel sums its tiles in the
                // same order as one thread would.
                grid.xWeights[i].withUnsafeBufferPointer { wx in
                    grid.yWeights[j].withUnsafeBufferPointer { wy in
                        out.storage.withUnsafeBufferPointer { src in
                            acc.withUnsafeMutableBufferPointer { dst in
                                Parallel.chunks(
                                    3 * th, minimum: 8,
                                    BlendJob(
                                        tile: src, acc: dst, wx: wx, wy: wy, x0: grid.xStarts[i], y0: grid.yStarts[j],
                                        tileWidth: tw, tileHeight: th, width: w, plane: plane))
                            }
                        }
                    }
                }
            }
        }
        var result = Tensor(zeros: [1, 3, h, w])
        acc.withUnsafeBufferPointer { a in
            result.storage.withUnsafeMutableBufferPointer { r in Parallel.chunks(a.count, RoundJob(acc: a, out: r)) }
        }
        return result
    }

    /// acc += weight x tile output over rows `range` of the tile (channel-major: row c * tileHeight + y).
    private struct BlendJob: ParallelChunkJob {
        let tile: UnsafeBufferPointer<Float>, acc: UnsafeMutableBufferPointer<Double>
        let wx: UnsafeBufferPointer<Double>, wy: UnsafeBufferPointer<Double>
        let x0: Int, y0: Int, tileWidth: Int, tileHeight: Int, width: Int, plane: Int

        func run(_ range: Range<Int>) {
            for row in range {
                let (c, y) = row.quotientAndRemainder(dividingBy: tileHeight)
                let src = row * tileWidth
                let dst = c * plane + (y0 + y) * width + x0
                // A weight of 0 (inside a margin) must not turn an infinite output into NaN.
                for x in 0..<tileWidth where wy[y] * wx[x] != 0 {
                    acc[dst + x] += wy[y] * wx[x] * Double(tile[src + x])
                }
            }
        }
    }

    private struct RoundJob: ParallelChunkJob {
        let acc: UnsafeBufferPointer<Double>, out: UnsafeMutableBufferPointer<Float>
        func run(_ range: Range<Int>) { for k in range { out[k] = Float(acc[k]) } }
    }

    /// The tiles of a width x height image (strides aligned to the network's size multiple).
    package func grid(width: Int, height: Int) -> TileGrid {
        TileGrid(
            width: width, height: height, tile: tile, overlap: overlap, margin: margin,
            alignment: model.model.sizeMultiple)
    }

    /// Forward passes of same-sized (1, 3, height, width) tiles as one batch, padded for the network
    /// and cropped back; `regions`, when given, the tiles' (1, 1, height, width) masks, padded alike.
    /// - Returns: one (1, 3, height, width) output per tile.
    func run(
        _ tiles: [Tensor], regions: [Tensor]? = nil, width: Int, height: Int, statistics: (lo: Float, hi: Float)?
    ) -> [Tensor] {
        let m = model.model.sizeMultiple
        let pw = (width + m - 1) / m * m
        let ph = (height + m - 1) / m * m
        if tiles.count == 1 && pw == width && ph == height {
            return [model.infer(tiles[0], regions: regions?[0], statistics: statistics).output]
        }
        let per = 3 * ph * pw
        let batch = Self.padded(tiles, channels: 3, width: width, height: height, to: (pw, ph))
        let regionBatch = regions.map { Self.padded($0, channels: 1, width: width, height: height, to: (pw, ph)) }
        let out = model.infer(batch, regions: regionBatch, statistics: statistics).output
        return tiles.indices.map { n in
            var storage = [Float]()
            storage.reserveCapacity(3 * height * width)
            for c in 0..<3 {
                for y in 0..<height {
                    let row = n * per + (c * ph + y) * pw
                    storage.append(contentsOf: out.storage[row..<(row + width)])
                }
            }
            return Tensor(shape: [1, 3, height, width], storage: storage)
        }
    }

    /// (N, channels, ph, pw): each (1, channels, height, width) tile with its last row and column repeated.
    static func padded(_ tiles: [Tensor], channels: Int, width: Int, height: Int, to size: (Int, Int)) -> Tensor {
        let (pw, ph) = size
        let per = channels * ph * pw
        var batch = Tensor(zeros: [tiles.count, channels, ph, pw])
        for (n, t) in tiles.enumerated() {
            for c in 0..<channels {
                for y in 0..<ph {
                    let src = (c * height + min(y, height - 1)) * width
                    for x in 0..<pw {
                        batch.storage[n * per + (c * ph + y) * pw + x] = t.storage[src + min(x, width - 1)]
                    }
                }
            }
        }
        return batch
    }

    /// The (1, C, height, width) window of the (1, C, H, W) `image` at (x, y).
    package func crop(_ image: Tensor, x: Int, y: Int, width: Int, height: Int) -> Tensor {
        let channels = image.shape[1]
        let h = image.shape[2]
        let w = image.shape[3]
        var storage = [Float]()
        storage.reserveCapacity(channels * height * width)
        for c in 0..<channels {
            for r in 0..<height {
                let row = (c * h + y + r) * w + x
                storage.append(contentsOf: image.storage[row..<(row + width)])
            }
        }
        return Tensor(shape: [1, channels, height, width], storage: storage)
    }
}
