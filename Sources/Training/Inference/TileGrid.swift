// Where the tiles of a tiled restoration go, and how much each tile counts at each pixel (blending weights).

/// Tiles of `tileWidth` x `tileHeight` on a grid of stride side - overlap, the last column (row) aligned to the
/// right (bottom) edge, so every pixel is covered and tiles never leave the image. A side is the image's where
/// the image is no larger than the tile, else the smallest side (at most the tile) that covers the image with as
/// few tiles as the tile size needs (`balancedSide`): 1024 pixels in tiles of 256 with overlap 16 take 5 tiles
/// of 218 (1090 pixels computed) instead of 5 of 256 (1280, the last overlapping its neighbour by 208).
///
/// Blending: along each axis a tile's raw weight at position x is the smaller of its two ramps, each a
/// linear ramp over the tile's actual overlap with that neighbour (ov pixels; the edge-aligned last tile may
/// overlap more than `overlap`): rising (x - start + 1) / (ov + 1) over the overlap with the previous tile,
/// falling (end - x) / (ov + 1) over the overlap with the next; 1 elsewhere and where there is no neighbour.
/// Raw weights are > 0 wherever the tile is, then divided by their sum over tiles at each position, so the
/// weights of one axis sum to 1 (in exact arithmetic two overlapping ramps already do; the division covers
/// overlaps wider than half a tile, where three tiles meet). The 2-D weight is the product of the axis
/// weights, so it sums to 1 over the grid as well. Weights are Double.
package struct TileGrid: Sendable, Equatable {
    package let width: Int
    package let height: Int
    package let tileWidth: Int
    package let tileHeight: Int
    /// Tile origins along x and y; the grid is every (x, y) pair.
    package let xStarts: [Int]
    package let yStarts: [Int]
    /// xWeights[i][k]: weight of the tile starting at xStarts[i] at image column xStarts[i] + k.
    package let xWeights: [[Double]]
    package let yWeights: [[Double]]

    /// - Parameter margin: pixels next to an interior tile edge (one with a neighbouring tile) that get weight 0:
    ///   the network's receptive radius, where a tile's output still sees the tile's zero padding instead of the
    ///   image. The ramps then span the overlap minus a margin on each side. 0: ramps over the whole overlap.
    /// - Precondition: width, height, tile >= 1, 0 <= overlap < tile and 2 x margin <= overlap (callers validate
    ///   user input).
    /// - Parameter alignment: balanced strides are rounded up to a multiple of this (a U-Net's 2^levels, so its
    ///   tiles keep the whole image's phase of its stride-2 layers).
    package init(width: Int, height: Int, tile: Int, overlap: Int, margin: Int = 0, alignment: Int = 1) {
        precondition(
            width >= 1 && height >= 1 && tile >= 1 && overlap >= 0 && overlap < tile && margin >= 0
                && 2 * margin <= overlap,
            "TileGrid: \(width) x \(height), tile \(tile), overlap \(overlap), margin \(margin)")
        self.width = width
        self.height = height
        tileWidth = Self.balancedSide(length: width, tile: tile, overlap: overlap, alignment: alignment)
        tileHeight = Self.balancedSide(length: height, tile: tile, overlap: overlap, alignment: alignment)
        xStarts = Self.starts(length: width, tile: tileWidth, overlap: overlap)
        yStarts = Self.starts(length: height, tile: tileHeight, overlap: overlap)
        xWeights = Self.weights(length: width, size: tileWidth, starts: xStarts, margin: margin)
        yWeights = Self.weights(length: height, size: tileHeight, starts: yStarts, margin: margin)
    }

    package var tileCount: Int { xStarts.count * yStarts.count }

    /// The side of the tiles along an axis: the length when it is at most `tile`; else, with k = the tiles of
    /// side `tile` the axis needs (ceil((length - overlap) / (tile - overlap))), the smallest side whose k tiles
    /// at stride side - overlap still cover it: ceil((length - overlap) / k) + overlap (<= tile), the stride
    /// rounded up to a multiple of `alignment`.
    package static func balancedSide(length: Int, tile: Int, overlap: Int, alignment: Int = 1) -> Int {
        if length <= tile { return length }
        let k = (length - overlap + tile - overlap - 1) / (tile - overlap)
        let a = max(1, alignment)
        let stride = ((length - overlap + k - 1) / k + a - 1) / a * a
        return min(tile, stride + overlap)
    }

    /// Origins along an axis: [0] when length <= tile; else 0, s, 2s, ... (s = tile - overlap) while the tile
    /// fits, then length - tile if those stop short of the edge. E.g. length 600, tile 256, overlap 16:
    /// 0, 240, 344.
    package static func starts(length: Int, tile: Int, overlap: Int) -> [Int] {
        if length <= tile { return [0] }
        let stride = tile - overlap
        var s = [0]
        while s.last! + tile < length {
            let next = s.last! + stride
            s.append(next + tile <= length ? next : length - tile)
        }
        return s
    }

    /// Normalised 1-D weights (see the type's comment) of tiles of `size` at `starts` on an axis of `length`.
    /// With `margin` m, a ramp over an overlap of ov pixels starts m pixels in from the tile's edge and spans
    /// ov - 2m: rising max(0, x - a - m + 1) / (ov - 2m + 1), falling max(0, b - m - x) / (ov - 2m + 1), so the
    /// two tiles' ramps still sum to 1 and neither counts within m of its own interior edge.
    package static func weights(length: Int, size: Int, starts: [Int], margin: Int = 0) -> [[Double]] {
        let m = margin
        var raw: [[Double]] = starts.indices.map { i in
            let a = starts[i]
            let b = a + size
            return (0..<size).map { k in
                let x = a + k
                var w = 1.0
                if i > 0, starts[i - 1] + size > a {
                    let ov = starts[i - 1] + size - a
                    if x < a + ov { w = min(w, Double(max(0, x - a - m + 1)) / Double(ov - 2 * m + 1)) }
                }
                if i + 1 < starts.count, starts[i + 1] < b {
                    let ov = b - starts[i + 1]
                    if x >= starts[i + 1] { w = min(w, Double(max(0, b - m - x)) / Double(ov - 2 * m + 1)) }
                }
                return w
            }
        }
        var sum = [Double](repeating: 0, count: length)
        for (i, a) in starts.enumerated() { for k in 0..<size { sum[a + k] += raw[i][k] } }
        for (i, a) in starts.enumerated() { for k in 0..<size { raw[i][k] /= sum[a + k] } }
        return raw
    }
}
