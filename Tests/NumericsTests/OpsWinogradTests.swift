// Winograd F(4x4, 3x3) (CKernels/winograd.c) at every instruction-set level this CPU runs against the naive
// Double reference: forward with bias, and the adjoint (d input) packing; sizes that are not multiples of the
// 4x4 tiles or of a vector of tiles (edge tiles), several tile vectors per row, a 1x1 image, channel counts
// off the register blocks; LeakyReLU and its derivative applied as the output is written. Nothing outside the
// output interior may be written. The weight gradient (transformed-domain sums, then G^T . G) likewise, in
// chunks of whole tile rows or, in wide images, segments of a row.
import CKernels
import Numerics
import Testing

struct OpsWinogradTests {
    /// F(4x4, 3x3) rounds each output through transforms of the input and the weights: its worst error is about
    /// 10x the direct kernels' (worst measured over these cases and levels: 2.3e-6 of the largest output). A wrong
    /// transform coefficient gives errors of order 1.
    static let tolerance = 5e-6
    /// The weight gradient sums products over every tile of the image (here two images) in the transformed
    /// domain before one inverse transform: worst measured 4.3e-6 of the largest value (32 -> 32 at 64x64).
    static let gradientTolerance = 1e-5

    static let cases: [ConvCase] = [
        ConvCase(n: 1, cin: 32, cout: 32, h: 64, w: 64, kh: 3, kw: 3, s: 1, p: 1),  // the benchmark layer: no edge tiles
        ConvCase(n: 1, cin: 8, cout: 8, h: 9, w: 70, kh: 3, kw: 3, s: 1, p: 1),  // two tile vectors per row at AVX-512
        ConvCase(n: 1, cin: 16, cout: 16, h: 40, w: 33, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 1, cin: 3, cout: 32, h: 13, w: 29, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 1, cin: 32, cout: 3, h: 8, w: 8, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 1, cin: 7, cout: 17, h: 4, w: 17, kh: 3, kw: 3, s: 1, p: 1),
        ConvCase(n: 1, cin: 5, cout: 9, h: 1, w: 1, kh: 3, kw: 3, s: 1, p: 1)
    ]

    static var levels: [SIMDLevel] { SIMDLevel.allCases.filter { $0 <= .best } }

    /// Padded planes with room for every kernel's reads, as Conv3x3Stack lays them out.
    static func plane(_ h: Int, _ w: Int) -> Int { ((h + 2) * (w + 2) + Int(hp_conv3x3_slack()) + 15) / 16 * 16 }

    /// Runs the kernel on x (c, h, w) with packed weights (and act, with mask (cOut, h, w) for HP_ACT_LEAKY_GRAD);
    /// returns the interior (cOut, h, w) and whether anything outside it changed (the output starts as NaN).
    static func run(
        level: SIMDLevel, packed: [Float], bias: [Float]?, cin: Int, cout: Int, x: [Float], h: Int, w: Int,
        act: Int32 = Int32(HP_ACT_NONE), mask: [Float]? = nil
    ) -> (y: [Double], strays: Int) {
        let plane = Self.plane(h, w)
        let wp = w + 2
        var xp = [Float](repeating: .nan, count: cin * plane)
        hp_pad(x, Int32(cin), Int32(h), Int32(w), &xp, plane)
        var mp = [Float](repeating: .nan, count: cout * plane)
        if let mask { hp_pad(mask, Int32(cout), Int32(h), Int32(w), &mp, plane) }
        var yp = [Float](repeating: .nan, count: cout * plane)
        var scratch = [Float](repeating: .nan, count: hp_wino_scratch_count(level.rawValue, Int32(cout), Int32(cin)))
        yp.withUnsafeMutableBufferPointer { yb in
            mp.withUnsafeBufferPointer { mb in
                hp_wino_forward(
                    level.rawValue, packed, bias, Int32(cout), Int32(cin), xp, plane, Int32(h), Int32(w),
                    yb.baseAddress! + wp + 1, plane, &scratch, act, 0.2, mb.baseAddress! + wp + 1)
            }
        }
        var y: [Double] = []
        var strays = 0
        for c in 0..<cout {
            for j in 0..<plane {
                let r = j / wp - 1
                let col = j % wp - 1
                let v = yp[c * plane + j]
                if r >= 0 && r < h && col >= 0 && col < w { y.append(Double(v)) } else if !v.isNaN { strays += 1 }
            }
        }
        // Interior in (c, r, col) order: rows of the plane are visited in order, so y is (cout, h, w).
        return (y, strays)
    }

    @Test(arguments: cases)
    func forwardAndAdjointMatchTheReference(_ c: ConvCase) throws {
        let x = randomFloats(c.cin * c.h * c.w, seed: 70)
        let weight = randomFloats(c.cout * c.cin * 9, seed: 71, -0.3, 0.3)
        let bias = randomFloats(c.cout, seed: 72)
        let dy = randomFloats(c.cout * c.h * c.w, seed: 73)
        let yRef = Ref.conv2d(x: doubles(x), weight: doubles(weight), bias: doubles(bias), c)
        let (dxRef, _, _) = Ref.conv2dBackward(dy: doubles(dy), x: doubles(x), weight: doubles(weight), c)
        for level in Self.levels {
            var packed = [Float](
                repeating: .nan, count: hp_wino_packed_count(level.rawValue, Int32(c.cout), Int32(c.cin)))
            hp_wino_pack(level.rawValue, weight, Int32(c.cout), Int32(c.cin), 0, &packed)
            let f = Self.run(level: level, packed: packed, bias: bias, cin: c.cin, cout: c.cout, x: x, h: c.h, w: c.w)
            let err = relativeToMax(f.y, yRef)
            #expect(err <= Self.tolerance, "forward, \(level.name): \(err)")
            #expect(f.strays == 0, "forward, \(level.name): \(f.strays) values written outside the interior")

            var adjoint = [Float](
                repeating: .nan, count: hp_wino_packed_count(level.rawValue, Int32(c.cin), Int32(c.cout)))
            hp_wino_pack(level.rawValue, weight, Int32(c.cout), Int32(c.cin), 1, &adjoint)
            let b = Self.run(level: level, packed: adjoint, bias: nil, cin: c.cout, cout: c.cin, x: dy, h: c.h, w: c.w)
            let errB = relativeToMax(b.y, dxRef)
            #expect(errB <= Self.tolerance, "d input, \(level.name): \(errB)")
            #expect(b.strays == 0, "d input, \(level.name): \(b.strays) values written outside the interior")
            print("winograd \(c), \(level.name): forward \(err), d input \(errB) of the largest value")

            // Activations applied as the kernel writes: the same select as the scalar LeakyReLU, on its own output.
            let plain = f.y.map(Float.init)
            let leaky = Self.run(
                level: level, packed: packed, bias: bias, cin: c.cin, cout: c.cout, x: x, h: c.h, w: c.w,
                act: Int32(HP_ACT_LEAKY))
            #expect(leaky.y == plain.map { Double($0 > 0 ? $0 : 0.2 * $0) }, "LeakyReLU, \(level.name)")
            let mask = randomFloats(c.cout * c.h * c.w, seed: 74)
            let grad = Self.run(
                level: level, packed: packed, bias: bias, cin: c.cin, cout: c.cout, x: x, h: c.h, w: c.w,
                act: Int32(HP_ACT_LEAKY_GRAD), mask: mask)
            #expect(
                grad.y == zip(plain, mask).map { Double($1 > 0 ? $0 : 0.2 * $0) }, "LeakyReLU derivative, \(level.name)"
            )
            #expect(leaky.strays == 0 && grad.strays == 0)
        }
    }

    /// Weight gradient: two images accumulated (+=) into the transformed-domain sums, then added to dW, against the
    /// reference's 2 dW (+ what dW held). d output outside its interior is NaN: the kernel must not read it.
    @Test(arguments: cases + [ConvCase(n: 1, cin: 4, cout: 5, h: 6, w: 600, kh: 3, kw: 3, s: 1, p: 1)])
    func weightGradientMatchesTheReference(_ c: ConvCase) throws {
        let x = randomFloats(c.cin * c.h * c.w, seed: 75)
        let weight = randomFloats(c.cout * c.cin * 9, seed: 76, -0.3, 0.3)
        let dy = randomFloats(c.cout * c.h * c.w, seed: 77)
        let (_, dwRef, _) = Ref.conv2dBackward(dy: doubles(dy), x: doubles(x), weight: doubles(weight), c)
        let plane = Self.plane(c.h, c.w)
        let wp = c.w + 2
        var xp = [Float](repeating: .nan, count: c.cin * plane)
        hp_pad(x, Int32(c.cin), Int32(c.h), Int32(c.w), &xp, plane)
        var dyp = [Float](repeating: .nan, count: c.cout * plane)
        for co in 0..<c.cout {
            for r in 0..<c.h {
                for col in 0..<c.w { dyp[co * plane + (r + 1) * wp + col + 1] = dy[(co * c.h + r) * c.w + col] }
            }
        }
        let start = randomFloats(c.cout * c.cin * 9, seed: 78)
        let expected = zip(start, dwRef).map { Double($0) + 2 * $1 }
        for level in Self.levels {
            let (l, co, ci) = (level.rawValue, Int32(c.cout), Int32(c.cin))
            var acc = [Float](repeating: 0, count: hp_wino_grad_acc_count(l, co, ci))
            var scratch = [Float](repeating: .nan, count: hp_wino_grad_scratch_count(l, co, ci))
            for _ in 0..<2 {
                hp_wino_weight_grad(l, dyp, plane, co, xp, plane, ci, Int32(c.h), Int32(c.w), &scratch, &acc)
            }
            var dw = start
            hp_wino_grad_finish(l, acc, co, ci, &dw)
            let err = relativeToMax(dw.map(Double.init), expected)
            #expect(err <= Self.gradientTolerance, "weight gradient, \(level.name): \(err)")
            print("winograd weight gradient \(c), \(level.name): \(err) of the largest value")
        }
    }
}
