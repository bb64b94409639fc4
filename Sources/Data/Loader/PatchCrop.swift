// Cutting a square patch out of an image with the flips and quarter turns of its sample, in one pass.
import EXRIO

/// The augmentation, in this order, on the (3, P, P) crop whose top-left corner is (x, y) in the image:
/// 1. flipH: mirror left-right, `out[y][x] = in[y][P-1-x]`;
/// 2. flipV: mirror top-bottom, `out[y][x] = in[P-1-y][x]`;
/// 3. rot90 k times counter-clockwise as displayed (row 0 on top), each turn `out[y][x] = in[x][P-1-y]`
///    (numpy's `rot90(a, k)` on the last two axes): the top-right corner moves to the top-left.
/// All three channels get the same transform. Tests keep a naive step-by-step version of this.
package enum PatchCrop {
    /// Writes the augmented patch of `origin` into `dst`, reading the image directly (no intermediate
    /// crop): output pixel (oy, ox) reads source (y0 + sy, x0 + sx), with (sy, sx) an affine function of
    /// (oy, ox) found by undoing the steps above.
    /// - Parameter dst: (3, size, size), contiguous; overwritten.
    /// - Parameter image: (3, H, W) planar; the crop must lie inside it (`LoaderError` otherwise).
    package static func extract(
        into dst: UnsafeMutablePointer<Float>, from image: HDRImage, origin: PatchOrigin,
        size: Int
    ) throws {
        let (w, h, p) = (image.width, image.height, size)
        guard p >= 1, p <= w, p <= h, origin.x >= 0, origin.y >= 0, origin.x <= w - p, origin.y <= h - p else {
            throw LoaderError(
                "\(origin.file): patch \(size)x\(size) at (\(origin.x), \(origin.y)) is outside the \(w)x\(h) image")
        }
        let map = { (oy: Int, ox: Int) in
            sourceCoordinate(oy, ox, size: p, flipH: origin.flipH, flipV: origin.flipV, rot90: origin.rot90)
        }
        let o = map(0, 0)
        let ax = map(0, 1)
        let ay = map(1, 0)
        // Offsets within one plane; steps may be negative or +-W.
        let stepX = (ax.y - o.y) * w + (ax.x - o.x)
        let stepY = (ay.y - o.y) * w + (ay.x - o.x)
        let start = (origin.y + o.y) * w + (origin.x + o.x)
        let plane = w * h
        image.pixels.withUnsafeBufferPointer { src in
            let base = src.baseAddress!
            for c in 0..<3 {
                let s = base + c * plane + start
                let d = dst + c * p * p
                for oy in 0..<p {
                    let row = s + oy * stepY
                    let out = d + oy * p
                    if stepX == 1 {
                        out.update(from: row, count: p)
                    } else {
                        for ox in 0..<p { out[ox] = row[ox * stepX] }
                    }
                }
            }
        }
    }

    /// Where output pixel (oy, ox) of the augmented patch comes from in the unaugmented crop: the steps of
    /// the type comment undone in reverse order.
    package static func sourceCoordinate(
        _ oy: Int, _ ox: Int, size p: Int, flipH: Bool, flipV: Bool,
        rot90: Int
    ) -> (y: Int, x: Int) {
        var (y, x) = (oy, ox)
        for _ in 0..<(((rot90 % 4) + 4) % 4) { (y, x) = (x, p - 1 - y) }
        if flipV { y = p - 1 - y }
        if flipH { x = p - 1 - x }
        return (y, x)
    }
}
