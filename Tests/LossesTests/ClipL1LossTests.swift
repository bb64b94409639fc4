// clip_l1: log-domain L1 over the pixels where the input clipped (some channel at the level); central differences,
// the kernel against a Double reference, which pixels count.
import Foundation
import Numerics
import Testing

@testable import Losses

struct ClipL1LossTests {
    static let eps: Float = 1e-2

    /// (2, 3, 4, 4): input values in [0.05, 0.99], a third of the pixels with one random channel at exactly `level`,
    /// pixel 7 of sample 0 with a channel at 0.999 x level (not clipped); |e| in [0.05, 2].
    static func batch(level: Float) -> (inputs: LossInputs, input: [Float], delta: [Double], gt: [Double]) {
        var rng = SeededRNG(seed: 51)
        let shape = [2, 3, 4, 4]
        var x = (0..<96).map { _ in Float(0.05 + 0.94 * rng.uniform()) * level }
        for s in 0..<2 {
            for k in 0..<16 where rng.uniform() < 0.33 {
                x[(s * 3 + Int(rng.uniform() * 3)) * 16 + k] = level
            }
        }
        x[1 * 16 + 7] = 0.999 * level
        let logImage = x.map { Float(Foundation.log(Double($0) + Double(eps))) }
        let gt = (0..<96).map { _ in Double(Float(2 * rng.uniform() - 1)) }
        let delta = gt.map { Double(Float($0 + signedUniform(&rng, 0.05, 2))) }
        let t = { (v: [Double]) in Tensor(shape: shape, storage: v.map(Float.init)) }
        let inputs = LossInputs(
            delta: t(delta), gtDelta: t(gt), logImage: Tensor(shape: shape, storage: logImage),
            output: Tensor(zeros: shape), target: Tensor(zeros: shape), eps: eps)
        return (inputs, x, delta, gt)
    }

    static func clippedPixel(_ x: [Float], _ i: Int, level: Float) -> Bool {
        let s = i / 48
        let k = i % 16
        return (0..<3).contains { c in x[(s * 3 + c) * 16 + k] >= level }
    }

    static func reference(_ x: [Float], _ gt: [Double], delta: [Double], level: Float) -> (Double, [Double]) {
        var v = 0.0
        var g = [Double](repeating: 0, count: delta.count)
        for i in delta.indices where clippedPixel(x, i, level: level) {
            v += abs(delta[i] - gt[i]) / Double(delta.count)
            g[i] = sign(delta[i] - gt[i]) / Double(delta.count)
        }
        return (v, g)
    }

    @Test(arguments: [Float(1.0), 4.0])
    func gradientIsTheCentralDifferenceAndTheKernelTheReference(level: Float) {
        let (inputs, x, delta, gt) = Self.batch(level: level)
        let (value, grad) = Self.reference(x, gt, delta: delta, level: level)
        var worst = 0.0
        for i in delta.indices {
            var p = delta
            var m = delta
            p[i] += 1e-6
            m[i] -= 1e-6
            let numeric =
                (Self.reference(x, gt, delta: p, level: level).0 - Self.reference(x, gt, delta: m, level: level).0)
                / 2e-6
            worst = max(worst, abs(numeric - grad[i]))
        }
        #expect(worst / grad.map(abs).max()! < 1e-6)
        var g = Tensor(zeros: inputs.delta.shape)
        let v = ClipL1Loss(level: Double(level)).evaluate(inputs, weight: 2, gradDelta: &g)
        #expect(abs(v - value) / value <= 1e-5)
        #expect(zip(g.storage, grad).allSatisfy { abs(Double($0) - 2 * $1) <= 1e-7 })
        // Every channel of a pixel with one clipped channel counts, and 0.999 x level does not clip.
        let counted = (0..<96).filter { g.storage[$0] != 0 }
        #expect(
            counted.count == 3
                * (0..<32).filter { p in Self.clippedPixel(x, (p / 16) * 48 + p % 16, level: level) }.count)
        #expect(counted.count > 9)
        #expect(!counted.contains(7) && !counted.contains(16 + 7) && !counted.contains(32 + 7))
    }

    @Test func configReadsTheLevel() throws {
        let loss = try CompositeLoss.parse(
            "loss:\n  - {type: l1, weight: 1}\n  - {type: clip_l1, weight: 4, level: 0.5}\n")
        #expect(loss.terms.map(\.name) == ["l1", "clip_l1"])
        #expect((loss.terms[1].term as? ClipL1Loss)?.level == 0.5)
        #expect(throws: (any Error).self) {
            try CompositeLoss.parse("loss:\n  - {type: clip_l1, weight: 1, level: 0}\n")
        }
    }
}
