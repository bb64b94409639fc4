// The naive Double references against central differences (step 1e-6, relative error < 1e-6): they are the
// yardstick for the fast ops, so their own gradients are checked first.
import Numerics
import Testing

struct OpsGradCheckTests {
    static let tolerance = 1e-6

    @Test(arguments: convCases)
    func conv2dReference(_ c: ConvCase) {
        let x = randomDoubles(c.inputShape.reduce(1, *), seed: 1)
        let w = randomDoubles(c.weightShape.reduce(1, *), seed: 2)
        let b = randomDoubles(c.cout, seed: 3)
        let r = randomDoubles(c.outputShape.reduce(1, *), seed: 4)
        let (dx, dw, db) = Ref.conv2dBackward(dy: r, x: x, weight: w, c)
        #expect(
            gradCheckError({ Ref.conv2d(x: $0, weight: w, bias: b, c) }, at: x, weights: r, analytic: dx)
                < Self.tolerance)
        #expect(
            gradCheckError({ Ref.conv2d(x: x, weight: $0, bias: b, c) }, at: w, weights: r, analytic: dw)
                < Self.tolerance)
        #expect(
            gradCheckError({ Ref.conv2d(x: x, weight: w, bias: $0, c) }, at: b, weights: r, analytic: db)
                < Self.tolerance)
    }

    @Test func pointwiseReferences() {
        let n = 40
        let r = randomDoubles(n, seed: 5)
        // Inputs kept 0.05 away from the kinks of (leaky) ReLU so the step never crosses one.
        let signed = doubles(randomFloats(n, seed: 6, -2, 2, avoidingZeroBy: 0.05))
        let cases: [(String, ([Double]) -> [Double], [Double], [Double])] = [
            (
                "leakyReLU", { Ref.leakyReLU($0, slope: 0.2) }, signed,
                Ref.leakyReLUBackward(dy: r, x: signed, slope: 0.2)
            )
        ]
        for (name, f, x, analytic) in cases {
            let e = gradCheckError(f, at: x, weights: r, analytic: analytic)
            #expect(e < Self.tolerance, "\(name): \(e)")
        }
    }

    @Test func upsampleReference() {
        for (planes, h, w) in [(2 * 3, 4, 5), (2, 1, 3), (3, 3, 1)] {
            let x = randomDoubles(planes * h * w, seed: 11)
            let r = randomDoubles(planes * 4 * h * w, seed: 12)
            let analytic = Ref.upsample2xBackward(dy: r, planes: planes, h: h, w: w, bilinear: false)
            let e = gradCheckError(
                { Ref.upsample2x($0, planes: planes, h: h, w: w, bilinear: false) }, at: x, weights: r,
                analytic: analytic)
            #expect(e < Self.tolerance, "\(planes)x\(h)x\(w): \(e)")
        }
    }

    @Test func concatReference() {
        let (n, ca, cb, hw) = (2, 3, 2, 5 * 3)
        let a = randomDoubles(n * ca * hw, seed: 13)
        let b = randomDoubles(n * cb * hw, seed: 14)
        let r = randomDoubles(n * (ca + cb) * hw, seed: 15)
        let (da, db) = Ref.concatBackward(dy: r, n: n, ca: ca, cb: cb, hw: hw)
        #expect(
            gradCheckError({ Ref.concat($0, b, n: n, ca: ca, cb: cb, hw: hw) }, at: a, weights: r, analytic: da)
                < Self.tolerance)
        #expect(
            gradCheckError({ Ref.concat(a, $0, n: n, ca: ca, cb: cb, hw: hw) }, at: b, weights: r, analytic: db)
                < Self.tolerance)
    }
}
