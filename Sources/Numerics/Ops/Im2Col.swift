// Unfolds one image into convolution columns (im2col) and folds column gradients back (col2im), so a
// convolution becomes one matrix product per image.

/// Geometry of one 2-D convolution over a single image: PyTorch `nn.Conv2d` with square zero padding.
/// Output size per axis: floor((size + 2 * padding - kernel) / stride) + 1.
package struct ConvGeometry: Sendable, Equatable {
    package let channels, height, width: Int
    package let kernelHeight, kernelWidth, stride, padding: Int
    package let outHeight, outWidth: Int

    package init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int)
    {
        precondition(
            channels > 0 && kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0,
            "ConvGeometry: bad channels/kernel/stride/padding")
        precondition(
            height + 2 * padding >= kernelHeight && width + 2 * padding >= kernelWidth,
            "ConvGeometry: kernel \(kernelHeight)x\(kernelWidth) larger than padded input \(height)x\(width) (padding \(padding))"
        )
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        outHeight = (height + 2 * padding - kernelHeight) / stride + 1
        outWidth = (width + 2 * padding - kernelWidth) / stride + 1
    }

    /// Rows of the column matrix: channels * kernelHeight * kernelWidth.
    package var columnRows: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the column matrix: outHeight * outWidth.
    package var columnCount: Int { outHeight * outWidth }

    /// A 1x1, stride 1, unpadded convolution's columns are the image itself: no unfolding needed.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Output columns `ow` whose input column `ow * stride - padding + kj` lies inside 0..<width, as a
    /// half-open range (empty when none); the rest read zero padding.
    @inline(__always)
    func validOutputRange(offset kj: Int, size: Int, outSize: Int) -> Range<Int> {
        // ceil((padding - kj) / stride) ... floor((size - 1 + padding - kj) / stride), clipped to the output.
        let lo = max(0, -floorDiv(kj - padding, stride))
        let hi = min(outSize, floorDiv(size - 1 + padding - kj, stride) + 1)
        return lo..<max(lo, hi)
    }
}

@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Visits the rows of the column matrix in order, row (c * kh + ki) * kw + kj, with: the offset of channel c's
/// plane; `pixel(oh)`, the offset in that plane of the pixel output (oh, 0) of the row reads (column ow reads
/// pixel(oh) + ow * stride); and the output rows and columns that read inside the image (`hv`, `wv`).
/// The one traversal `im2col` and its adjoint share.
@inline(__always)
func forEachColumnRow(
    _ g: ConvGeometry,
    _ body: (_ row: Int, _ plane: Int, _ pixel: (_ oh: Int) -> Int, _ hv: Range<Int>, _ wv: Range<Int>) -> Void
) {
    let s = g.stride
    let p = g.padding
    var row = 0
    for c in 0..<g.channels {
        let plane = c * g.height * g.width
        for ki in 0..<g.kernelHeight {
            let hv = g.validOutputRange(offset: ki, size: g.height, outSize: g.outHeight)
            for kj in 0..<g.kernelWidth {
                let wv = g.validOutputRange(offset: kj, size: g.width, outSize: g.outWidth)
                body(row, plane, { oh in (oh * s - p + ki) * g.width + (kj - p) }, hv, wv)
                row += 1
            }
        }
    }
}

/// Writes every entry of `columns` (zero where the kernel reads padding).
/// - Parameter columns: (C*kh*kw, Ho*Wo): row (c * kh + ki) * kw + kj, column oh * Wo + ow.
/// - Parameter image: (C, H, W) of one sample.
func im2col(columns: UnsafeMutablePointer<Float>, image: UnsafePointer<Float>, geometry g: ConvGeometry) {
    let s = g.stride
    let wo = g.outWidth
    forEachColumnRow(g) { row, plane, pixel, hv, wv in
        let rowStart = columns + row * g.columnCount
        for oh in 0..<g.outHeight {
            let dst = rowStart + oh * wo
            guard hv.contains(oh), !wv.isEmpty else {
                dst.update(repeating: 0, count: wo)
                continue
            }
            let src = image + plane + pixel(oh)
            dst.update(repeating: 0, count: wv.lowerBound)
            for ow in wv { dst[ow] = src[ow * s] }
            (dst + wv.upperBound).update(repeating: 0, count: wo - wv.upperBound)
        }
    }
}

/// The adjoint of `im2col`: adds each column entry back onto the pixel it was read from (+=); entries that
/// came from padding are dropped.
/// - Parameter image: (C, H, W) of one sample, accumulated into.
/// - Parameter columns: (C*kh*kw, Ho*Wo), laid out as `im2col` writes it.
func col2imAccumulate(image: UnsafeMutablePointer<Float>, columns: UnsafePointer<Float>, geometry g: ConvGeometry) {
    let s = g.stride
    let wo = g.outWidth
    forEachColumnRow(g) { row, plane, pixel, hv, wv in
        if wv.isEmpty { return }
        let rowStart = columns + row * g.columnCount
        for oh in hv {
            let src = rowStart + oh * wo
            let dst = image + plane + pixel(oh)
            for ow in wv { dst[ow * s] += src[ow] }
        }
    }
}
