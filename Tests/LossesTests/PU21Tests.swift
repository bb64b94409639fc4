// PU21 encoding with the published banding_glare parameters, and the pu21_l1 term.
import Glibc
import Numerics
import Testing

@testable import Losses

struct PU21Tests {
    @Test func parametersAreThePublishedOnes() {
        #expect(PU21.parameters == Ref.pu21Par)
    }

    @Test(arguments: [0.005, 0.1, 1.0, 100.0, 4000.0, 10000.0])
    func encodeFollowsTheFormula(y: Double) {
        #expect(abs(PU21.encode(y) - Ref.pu21V(y)) <= 1e-12 * max(1, Ref.pu21V(y)))
        let (v, slope) = PU21.encodeWithSlope(y)
        #expect(v == PU21.encode(y))
        let h = y * 1e-6
        let numeric = (PU21.encode(y + h) - PU21.encode(y - h)) / (2 * h)
        #expect(abs(slope - numeric) < 1e-6 * abs(numeric))
    }

    @Test func anchorValues() {
        // Independent of the code: values of the published formula (evaluated with numpy), and the encoding's
        // design: 0.005 cd/m^2 maps to 0, 100 cd/m^2 to about 256.
        #expect(abs(PU21.encode(0.005)) < 1e-8)
        #expect(abs(PU21.encode(1) - 36.5439111394192) < 1e-9)
        #expect(abs(PU21.encode(100) - 256.3838973127039) < 1e-9)
        #expect(abs(PU21.encode(10000) - 595.393920020095) < 1e-9)
    }

    /// Outputs 5% to 65% away from the target; the brightest target maps to 4000 cd/m^2, so nothing clamps
    /// at the top (4000 * e^0.5 < 10000) and targets >= 0.2 stay far above 0.005 cd/m^2.
    @Test func matchesReference() {
        Check.all(PU21L1Loss(), Ref.pu21, RefBatch.make(seed: 41) { signedUniform(&$0, 0.05, 0.5) })
    }

    @Test func clampedValuesHaveNoGradient() {
        // Target max 1 -> s = 4000. Output 3 -> 12000 cd/m^2 (clamped to 10000); 1e-7 -> 4e-4 (clamped to 0.005).
        let shape = [1, 1, 1, 3]
        let z = Tensor(zeros: shape)
        let inputs = LossInputs(
            delta: z, gtDelta: z, logImage: z, output: Tensor(shape: shape, storage: [3, 1e-7, 0.5]),
            target: Tensor(shape: shape, storage: [1, 0.5, 0.25]), eps: 1e-4)
        var g = Tensor(zeros: shape)
        let v = PU21L1Loss().evaluate(inputs, weight: 1, gradDelta: &g)
        let expected =
            (abs(Ref.pu21V(10000) - Ref.pu21V(4000)) + abs(Ref.pu21V(0.005) - Ref.pu21V(2000))
                + abs(Ref.pu21V(2000) - Ref.pu21V(1000))) / 3
        #expect(abs(v - expected) < 1e-9 * expected)
        #expect(g.storage[0] == 0 && g.storage[1] == 0 && g.storage[2] > 0)
    }

    @Test func blackTargetUsesScaleOneWithoutNaN() {
        let shape = [1, 1, 1, 2]
        let z = Tensor(zeros: shape)
        let inputs = LossInputs(
            delta: z, gtDelta: z, logImage: z, output: Tensor(shape: shape, storage: [2, 0]),
            target: z, eps: 1e-4)
        var g = Tensor(zeros: shape)
        let v = PU21L1Loss().evaluate(inputs, weight: 1, gradDelta: &g)
        #expect(abs(v - (Ref.pu21V(2) - Ref.pu21V(0.005)) / 2) < 1e-9)
        #expect(g.storage.allSatisfy { $0.isFinite })
    }
}
