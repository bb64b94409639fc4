// Naive Double references for every op, written the obvious way (loops straight from the definitions);
// the fast Float ops are tested against these, and these against central differences.
import Glibc

/// Convolution case: input (n, cin, h, w), weight (cout, cin, kh, kw), bias (cout), stride s, padding p.
struct ConvCase: Sendable, CustomStringConvertible {
    var n, cin, cout, h, w, kh, kw, s, p: Int
    var ho: Int { (h + 2 * p - kh) / s + 1 }
    var wo: Int { (w + 2 * p - kw) / s + 1 }
    var inputShape: [Int] { [n, cin, h, w] }
    var weightShape: [Int] { [cout, cin, kh, kw] }
    var outputShape: [Int] { [n, cout, ho, wo] }
    var description: String { "N\(n) \(cin)->\(cout) \(h)x\(w) k\(kh)x\(kw) s\(s) p\(p)" }
}

enum Ref {
    // MARK: conv2d (PyTorch nn.Conv2d)

    static func conv2d(x: [Double], weight: [Double], bias: [Double], _ c: ConvCase) -> [Double] {
        var y = [Double](repeating: 0, count: c.outputShape.reduce(1, *))
        for n in 0..<c.n {
            for co in 0..<c.cout {
                for oh in 0..<c.ho {
                    for ow in 0..<c.wo {
                        var acc = bias[co]
                        for ci in 0..<c.cin {
                            for i in 0..<c.kh {
                                for j in 0..<c.kw {
                                    let ih = oh * c.s - c.p + i
                                    let iw = ow * c.s - c.p + j
                                    if ih < 0 || ih >= c.h || iw < 0 || iw >= c.w { continue }
                                    acc +=
                                        weight[((co * c.cin + ci) * c.kh + i) * c.kw + j]
                                        * x[((n * c.cin + ci) * c.h + ih) * c.w + iw]
                                }
                            }
                        }
                        y[((n * c.cout + co) * c.ho + oh) * c.wo + ow] = acc
                    }
                }
            }
        }
        return y
    }

    /// (dx, dWeight, dBias) for upstream gradient dy.
    static func conv2dBackward(
        dy: [Double], x: [Double], weight: [Double], _ c: ConvCase
    ) -> ([Double], [Double], [Double]) {
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: c.cout)
        for n in 0..<c.n {
            for co in 0..<c.cout {
                for oh in 0..<c.ho {
                    for ow in 0..<c.wo {
                        let g = dy[((n * c.cout + co) * c.ho + oh) * c.wo + ow]
                        db[co] += g
                        for ci in 0..<c.cin {
                            for i in 0..<c.kh {
                                for j in 0..<c.kw {
                                    let ih = oh * c.s - c.p + i
                                    let iw = ow * c.s - c.p + j
                                    if ih < 0 || ih >= c.h || iw < 0 || iw >= c.w { continue }
                                    let wi = ((co * c.cin + ci) * c.kh + i) * c.kw + j
                                    let xi = ((n * c.cin + ci) * c.h + ih) * c.w + iw
                                    dw[wi] += g * x[xi]
                                    dx[xi] += g * weight[wi]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, dw, db)
    }

    // MARK: pointwise (gradients as functions of the input, independent of the fast ops' saved outputs)

    static func leakyReLU(_ x: [Double], slope: Double) -> [Double] { x.map { $0 > 0 ? $0 : slope * $0 } }
    static func leakyReLUBackward(dy: [Double], x: [Double], slope: Double) -> [Double] {
        zip(dy, x).map { $1 > 0 ? $0 : slope * $0 }
    }

    // MARK: upsampling x2, as separable interpolation matrices: out = A_h X A_w^T per plane

    /// (2 * size, size) matrix: row o holds the weights output index o takes from each input index.
    static func interpolationMatrix(size: Int, bilinear: Bool) -> [[Double]] {
        (0..<(2 * size)).map { o in
            var row = [Double](repeating: 0, count: size)
            if !bilinear {
                row[Int((Double(o) * 0.5).rounded(.down))] = 1
            } else {
                // PyTorch align_corners=False: src = (o + 0.5) / scale - 0.5, clamped at 0.
                let src = max((Double(o) + 0.5) / 2 - 0.5, 0)
                let i0 = Int(src.rounded(.down))
                let frac = src - Double(i0)
                row[i0] += 1 - frac
                row[min(i0 + 1, size - 1)] += frac
            }
            return row
        }
    }

    static func upsample2x(_ x: [Double], planes: Int, h: Int, w: Int, bilinear: Bool) -> [Double] {
        let ah = interpolationMatrix(size: h, bilinear: bilinear)
        let aw = interpolationMatrix(size: w, bilinear: bilinear)
        var y = [Double](repeating: 0, count: planes * 4 * h * w)
        for p in 0..<planes {
            for oh in 0..<(2 * h) {
                for ow in 0..<(2 * w) {
                    var acc = 0.0
                    for i in 0..<h { for j in 0..<w { acc += ah[oh][i] * aw[ow][j] * x[(p * h + i) * w + j] } }
                    y[(p * 2 * h + oh) * 2 * w + ow] = acc
                }
            }
        }
        return y
    }

    /// The transpose: dx = A_h^T dY A_w per plane.
    static func upsample2xBackward(dy: [Double], planes: Int, h: Int, w: Int, bilinear: Bool) -> [Double] {
        let ah = interpolationMatrix(size: h, bilinear: bilinear)
        let aw = interpolationMatrix(size: w, bilinear: bilinear)
        var dx = [Double](repeating: 0, count: planes * h * w)
        for p in 0..<planes {
            for i in 0..<h {
                for j in 0..<w {
                    var acc = 0.0
                    for oh in 0..<(2 * h) {
                        for ow in 0..<(2 * w) { acc += ah[oh][i] * aw[ow][j] * dy[(p * 2 * h + oh) * 2 * w + ow] }
                    }
                    dx[(p * h + i) * w + j] = acc
                }
            }
        }
        return dx
    }

    // MARK: channel concat

    static func concat(_ a: [Double], _ b: [Double], n: Int, ca: Int, cb: Int, hw: Int) -> [Double] {
        var y = [Double]()
        for i in 0..<n {
            for c in 0..<ca { for k in 0..<hw { y.append(a[(i * ca + c) * hw + k]) } }
            for c in 0..<cb { for k in 0..<hw { y.append(b[(i * cb + c) * hw + k]) } }
        }
        return y
    }

    static func concatBackward(dy: [Double], n: Int, ca: Int, cb: Int, hw: Int) -> ([Double], [Double]) {
        var da = [Double]()
        var db = [Double]()
        for i in 0..<n {
            for c in 0..<(ca + cb) {
                for k in 0..<hw {
                    let g = dy[(i * (ca + cb) + c) * hw + k]
                    if c < ca { da.append(g) } else { db.append(g) }
                }
            }
        }
        return (da, db)
    }
}

/// The convolution cases every conv test runs: kernels 1, 3, 5, 3x1 and 3x2; stride 1, 2 and 3; padding 0, 1,
/// 2 (including padding larger than the kernel's reach); odd and even sizes; N = 2.
let convCases: [ConvCase] = [
    ConvCase(n: 2, cin: 3, cout: 4, h: 7, w: 6, kh: 3, kw: 3, s: 1, p: 1),
    ConvCase(n: 2, cin: 3, cout: 2, h: 5, w: 5, kh: 1, kw: 1, s: 1, p: 0),
    ConvCase(n: 2, cin: 2, cout: 3, h: 5, w: 7, kh: 1, kw: 1, s: 2, p: 0),
    ConvCase(n: 2, cin: 2, cout: 3, h: 9, w: 8, kh: 5, kw: 5, s: 2, p: 2),
    ConvCase(n: 2, cin: 2, cout: 2, h: 6, w: 5, kh: 5, kw: 5, s: 1, p: 1),
    ConvCase(n: 2, cin: 3, cout: 2, h: 7, w: 5, kh: 3, kw: 1, s: 1, p: 1),
    ConvCase(n: 2, cin: 2, cout: 3, h: 7, w: 9, kh: 3, kw: 3, s: 2, p: 0),
    ConvCase(n: 2, cin: 2, cout: 2, h: 8, w: 6, kh: 3, kw: 3, s: 2, p: 1),
    ConvCase(n: 2, cin: 1, cout: 2, h: 3, w: 4, kh: 3, kw: 3, s: 1, p: 2),
    ConvCase(n: 2, cin: 2, cout: 2, h: 8, w: 7, kh: 3, kw: 2, s: 3, p: 1)
]
