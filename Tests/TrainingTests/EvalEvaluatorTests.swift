// Evaluator: per-sample means, the identity baseline, loss terms, overflow counting.
import Data
import Foundation
import Losses
import Model
import Numerics
import Testing
import Training

struct EvalEvaluatorTests {
    /// Two samples (N = 2, 3 x 4 x 5): targets and inputs that differ.
    static func pair() -> (input: Tensor, target: Tensor) {
        let target = Tensor(shape: [2, 3, 4, 5], storage: (0..<120).map { Float(0.05 + 0.3 * Double(($0 * 17) % 41)) })
        let input = Tensor(
            shape: [2, 3, 4, 5],
            storage: target.storage.enumerated().map { i, v in
                v * Float(0.6 + 0.02 * Double(i % 11))
            })
        return (input, target)
    }

    static func sample(_ t: Tensor, _ s: Int) -> ArraySlice<Float> { t.storage[(s * 60)..<((s + 1) * 60)] }

    @Test func identityEqualsTheMetricsOfInputAgainstTargetAveragedOverSamples() throws {
        let (input, pairTarget) = Self.pair()
        var target = pairTarget
        let evaluator = Evaluator(model: try identityModel(.plain(depth: 2, width: 3)), loss: nil)
        var output = input
        output.storage[7] = .infinity  // sample 0: one overflow pixel
        output.storage[70] = 1e6  // sample 1: one
        output.storage[71 + 20] = 7e4  // sample 1: another pixel (channel 1)
        // Sample 1, pixel 0, channel 2: a sun the target holds beyond the limit, reproduced: not an overflow
        // (`Overflow.pixels`, the monitor's rule).
        target.storage[100] = 1e5
        output.storage[100] = 1.2e5
        evaluator.add(input: input, target: target, output: output)
        let (model, identity) = evaluator.result()
        func mean(_ f: (ArraySlice<Float>, ArraySlice<Float>) -> Double, _ o: Tensor) -> Double {
            (f(Self.sample(o, 0), Self.sample(target, 0)) + f(Self.sample(o, 1), Self.sample(target, 1))) / 2
        }
        #expect(identity.psnrMu == mean({ ImageMetrics.psnrMu(output: $0, reference: $1) }, input))
        #expect(identity.pu21Psnr == mean({ ImageMetrics.pu21Psnr(output: $0, reference: $1) }, input))
        #expect(identity.logL1 == mean({ ImageMetrics.logL1(output: $0, reference: $1, eps: 1e-4) }, input))
        #expect(identity.overflowPixels == 0 && identity.overflowIncidents == 0 && identity.patches == 2)
        #expect(model.psnrMu == mean({ ImageMetrics.psnrMu(output: $0, reference: $1) }, output))
        #expect(model.logL1 == .infinity)
        #expect(model.overflowPixels == 3 && model.overflowIncidents == 2 && model.patches == 2)
        #expect(model.terms.isEmpty && model.loss == 0)
    }

    /// A set with region masks is scored over its masks' pixels (not over the clipped ones), as "holes".
    @Test func regionMasksReplaceTheClipMask() throws {
        let (input, target) = Self.pair()
        var output = input
        for i in output.storage.indices { output.storage[i] = target.storage[i] * 0.9 }
        // Sample 0: pixels 3 and 12 (of 20); sample 1: none.
        var regions = Tensor(zeros: [2, 1, 4, 5])
        regions.storage[3] = 1
        regions.storage[12] = 0.5
        regions.storage[13] = 0.49  // below one half: outside
        let evaluator = Evaluator(model: try identityModel(.plain(depth: 2, width: 3)), loss: nil)
        evaluator.add(input: input, target: target, output: output, regions: regions)
        let (model, identity) = evaluator.result()
        #expect(model.region == "holes" && identity.regionName == "holes")
        var mask = [Bool](repeating: false, count: 20)
        mask[3] = true
        mask[12] = true
        let want = Self.sample(output, 0).withUnsafeBufferPointer { o in
            Self.sample(target, 0).withUnsafeBufferPointer { ImageMetrics.inMask(output: o, reference: $0, mask: mask) }
        }
        #expect(model.psnrMuClip == want?.psnrMu && model.pu21PsnrClip == want?.pu21Psnr)
        #expect(model.clipSamples == 1 && model.clipFraction == (2.0 / 20) / 2)
        // The same through batches; without regions the clip mask (level 1, dilated) decides, and says "clip".
        let batched = Evaluator(model: try identityModel(.plain(depth: 2, width: 3)), loss: nil)
        batched.add(Batch(input: input, target: target, origins: [], epoch: 0, index: 0, regions: regions))
        #expect(batched.result().identity.psnrMuClip == identity.psnrMuClip)
        let plain = Evaluator(model: try identityModel(.plain(depth: 2, width: 3)), loss: nil)
        plain.add(input: input, target: target, output: output)
        #expect(plain.result().model.region == nil && plain.result().model.regionName == "clip")
        #expect(plain.result().model.clipSamples == 2)
    }

    @Test func batchesRunTheModelAndReportEveryLossTerm() throws {
        let (input, target) = Self.pair()
        let loss = try CompositeLoss.parse(
            "loss:\n  - type: l1\n    weight: 2.0\n  - type: mu_law_l1\n    weight: 0.5\n")
        let net = try identityModel(.plain(depth: 2, width: 3))
        let evaluator = Evaluator(model: net, loss: loss)
        evaluator.add(Batch(input: input, target: target, origins: [], epoch: 0, index: 0))
        let (model, identity) = evaluator.result()
        // The identity network (delta = 0) and the identity baseline agree on every term.
        #expect(Set(model.terms.keys) == ["l1", "mu_law_l1"])
        for (name, v) in model.terms { #expect(abs(v - identity.terms[name]!) <= 1e-12 * max(1, abs(v))) }
        #expect(abs(model.loss - (2 * model.terms["l1"]! + 0.5 * model.terms["mu_law_l1"]!)) < 1e-12)
        // With delta = 0, the log-domain l1 term is mean |log(target + eps) - log(input + eps)|: log-L1.
        #expect(abs(identity.terms["l1"]! - identity.logL1) < 1e-5 * identity.logL1)
        #expect(abs(model.logL1 - identity.logL1) < 1e-5 * identity.logL1)
    }

    @Test func samplesScoredOneByOneMatchTheSameSamplesAsABatch() throws {
        let (input, target) = Self.pair()
        let loss = try CompositeLoss.parse("loss:\n  - type: l1\n    weight: 1.0\n")
        let net = try PatchModel(
            model: .plain(depth: 2, width: 3), residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil),
            logNorm: LogNorm(), stateSlots: 0, seed: 4)
        let batched = Evaluator(model: net, loss: loss)
        batched.add(input: input, target: target, output: net.forward(input).output)
        let single = Evaluator(model: net, loss: loss)
        for s in 0..<2 {
            let x = Tensor(shape: [1, 3, 4, 5], storage: Array(Self.sample(input, s)))
            let t = Tensor(shape: [1, 3, 4, 5], storage: Array(Self.sample(target, s)))
            single.add(input: x, target: t, output: net.forward(x).output)
        }
        let a = batched.result().model
        let b = single.result().model
        #expect(abs(a.psnrMu - b.psnrMu) < 1e-9 && abs(a.logL1 - b.logL1) < 1e-9 && a.patches == b.patches)
        #expect(abs(a.terms["l1"]! - b.terms["l1"]!) < 1e-9)
    }

    @Test func theShapeCorrelationCoversTheClippedPixelsAloneAndAveragesOverImages() throws {
        // One 12 x 12 image whose input clips in a 6 x 6 square (white 1.0); the target rises to 40 at its
        // centre; the output is the target inside the square and 0.5 outside, where the target is 0.5 too.
        let (h, w) = (12, 12)
        var target = [Float](repeating: 0.5, count: 3 * h * w)
        var input = target
        var core = [Bool](repeating: false, count: h * w)
        for y in 3..<9 {
            for x in 3..<9 {
                let p = y * w + x
                core[p] = true
                let v = Float(2 + 38 * Foundation.exp(-(Double(x) - 5.5) * (Double(x) - 5.5) / 4))
                for c in 0..<3 {
                    target[c * h * w + p] = v + Float(y)
                    input[c * h * w + p] = 1
                }
            }
        }
        // Pixel (0, 0) clips in red only: its luminance still shows in green and blue, so it is not scored.
        input[0] = 1
        let shape = [1, 3, h, w]
        let evaluator = Evaluator(model: try identityModel(.plain(depth: 2, width: 3)), loss: nil)
        evaluator.add(
            input: Tensor(shape: shape, storage: input), target: Tensor(shape: shape, storage: target),
            output: Tensor(shape: shape, storage: target))
        let (model, identity) = evaluator.result()
        // Over the square alone (clipped in every channel): the output is the target there, so 1; the identity's
        // input is flat there: 0. (Over the dilated mask the rim, where both are 0.5, would make even a flat fill
        // correlate.)
        #expect(abs((model.logCorrClip ?? 0) - 1) < 1e-12)
        #expect(identity.logCorrClip == 0)
        let want = target.withUnsafeBufferPointer { t in
            ImageMetrics.logLuminanceCorrelation(output: t, reference: t, mask: core, eps: evaluator.eps)
        }
        #expect(model.logCorrClip == want)
        // A second image with no clipping adds no score: the mean stays over the one image that has it.
        let flat = [Float](repeating: 0.5, count: 3 * h * w)
        evaluator.add(
            input: Tensor(shape: shape, storage: flat), target: Tensor(shape: shape, storage: flat),
            output: Tensor(shape: shape, storage: flat))
        #expect(evaluator.result().model.logCorrClip == model.logCorrClip)
    }

    @Test func identityScoresReusedAreTheIdentitysAndTheModelIsScoredAnew() throws {
        let (input, target) = Self.pair()
        let loss = try CompositeLoss.parse("loss:\n  - type: l1\n    weight: 1.0\n")
        let net = try PatchModel(
            model: .plain(depth: 2, width: 3), residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: nil),
            logNorm: LogNorm(), stateSlots: 0, seed: 4)
        let first = Evaluator(model: net, loss: loss)
        first.add(Batch(input: input, target: target, origins: [], epoch: 0, index: 0))
        let again = Evaluator(model: net, loss: loss)
        again.reuseIdentity(first.identityScores)
        again.add(Batch(input: input, target: target, origins: [], epoch: 0, index: 0))
        // Bit for bit what scoring both gives.
        #expect(again.result().model == first.result().model && again.result().identity == first.result().identity)
        // The identity really is taken, not scored: scores of another set stay that set's.
        let other = Evaluator(model: net, loss: loss)
        let brighter = Tensor(shape: input.shape, storage: input.storage.map { $0 * 1.5 })
        other.add(Batch(input: brighter, target: target, origins: [], epoch: 0, index: 0))
        let reused = Evaluator(model: net, loss: loss)
        reused.reuseIdentity(other.identityScores)
        reused.add(Batch(input: input, target: target, origins: [], epoch: 0, index: 0))
        #expect(reused.result().identity == other.result().identity)
        #expect(reused.result().identity != first.result().identity && reused.result().model == first.result().model)
    }
}
