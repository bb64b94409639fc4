// Validation and `evaluate`: the metrics of the model and of the identity baseline (input as output) on one set.
/// Feed it batches (patches through `PatchModel.forward`) or samples restored elsewhere (tiled full images),
/// then read `result()`. Not thread-safe (the model keeps activations).
///
/// Reductions: every metric is computed per sample (patch or full image) in Double, then averaged over
/// samples, so each image counts once whatever its size (NTIRE's mean of per-image PSNRs).
/// Loss terms: a batch's term value is its mean over samples (every term's reduction), weighted by the
/// batch's sample count; a sample restored elsewhere is scored as a batch of 1, its delta recovered as
/// log(output + eps) - log(input + eps). `loss` is the weighted total; with no CompositeLoss `terms` is
/// empty and `loss` is 0.
/// Identity: output = input for the metrics; its loss terms use delta = 0 (output = exp(log(input + eps)) - eps).
/// Overflow: `Overflow.pixels` against the target (the monitor's rule: a value above `overflowLimit` where the
/// target's is not, or non-finite); an incident is a sample with >= 1 overflow pixel.
/// In clip: PSNR-mu and PU21-PSNR over the pixels where the input reaches `clipLevel` (dilated by
/// `ImageMetrics.clipDilation`), per sample, averaged over the samples with such pixels (the same pixels for the
/// model and the identity). A set with region masks (`Batch.regions`, `PairedDataset.mask`) is scored over its
/// masks' pixels instead (value >= 0.5, undilated), and the metrics say so (`EvalMetrics.region` "holes").
import Data
import EXRIO
import Glibc
import Losses
import Model
import Numerics
import RunFiles

package final class Evaluator {
    package let model: PatchModel
    package let loss: CompositeLoss?
    /// eps of log-L1 and of the delta recovered from restored outputs: the model's LogNorm eps.
    package let eps: Float
    package let overflowLimit: Float
    /// The input level that marks a pixel as clipped for the in-clip metrics: the model's `clip_level` (1.0, the
    /// 8-bit white of the phone recipe, when the model has no clip-mask input).
    package let clipLevel: Float

    private var modelSums = Sums()
    private var identitySums = Sums()
    /// Set by `reuseIdentity`: the identity's sums are these and `add` scores the model alone.
    private var identityGiven = false
    /// Set once a sample came with a region mask: the in-region metrics are then the set's own region's.
    private var region: String?

    /// The identity's scores of the samples added so far (this evaluator's own, before any `combine`), to be given
    /// to a later evaluator of the same samples: the identity's output is its input, so its scores on a fixed set
    /// never change, and training's validations score it once per run instead of at every check.
    package struct IdentityScores: Sendable {
        fileprivate let sums: Sums
        fileprivate let region: String?
    }

    package var identityScores: IdentityScores { IdentityScores(sums: identitySums, region: region) }

    /// Takes `scores` as the identity's, for exactly the samples this evaluator will be given (in any order): `add`
    /// then scores the model alone. Call before the first `add`.
    package func reuseIdentity(_ scores: IdentityScores) {
        precondition(modelSums.samples == 0 && identitySums.samples == 0, "Evaluator.reuseIdentity: after add")
        identitySums = scores.sums
        region = scores.region
        identityGiven = true
    }

    package init(
        model: PatchModel, loss: CompositeLoss?, eps: Float? = nil,
        overflowLimit: Float = Overflow.defaultLimit, clipLevel: Float? = nil
    ) {
        self.model = model
        self.loss = loss
        self.eps = eps ?? model.logNorm.eps
        self.overflowLimit = overflowLimit
        self.clipLevel = clipLevel ?? model.inputs.clipLevel
    }

    /// Samples seen so far.
    package var samples: Int { modelSums.samples }

    /// Runs the batch through the model's inference (`PatchModel.infer`: as training's forward, or its
    /// self-ensemble) and scores model and identity.
    package func add(_ batch: Batch) {
        let pass = model.infer(batch.input, regions: batch.regions)
        var modelInputs: LossInputs?
        var identityInputs: LossInputs?
        if loss != nil {
            modelInputs = model.lossInputs(pass, target: batch.target, regions: batch.regions)
            if !identityGiven {
                identityInputs = LossInputs(
                    delta: Tensor(zeros: batch.input.shape), logImage: pass.norm.logImage,
                    target: batch.target, eps: model.logNorm.eps, regions: batch.regions)
            }
        }
        let masks = batch.regions.map(regionMasks) ?? clipMasks(batch.input)
        let cores = batch.regions == nil ? fullyClipped(batch.input) : masks
        score(
            into: &modelSums, output: pass.output, target: batch.target, masks: masks, cores: cores,
            lossInputs: modelInputs)
        if identityGiven { return }
        score(
            into: &identitySums, output: batch.input, target: batch.target, masks: masks, cores: cores,
            lossInputs: identityInputs)
    }

    /// Scores outputs computed elsewhere (e.g. `TiledRestore`) for `input` against `target`, all (N, 3, H, W);
    /// `regions` (N, 1, H, W) are the samples' region masks when the set has them.
    package func add(input: Tensor, target: Tensor, output: Tensor, regions: Tensor? = nil) {
        precondition(
            input.shape == target.shape && output.shape == target.shape && input.rank == 4,
            "Evaluator.add: shapes input \(input.shape), target \(target.shape), output \(output.shape)")
        var modelInputs: LossInputs?
        var identityInputs: LossInputs?
        if loss != nil {
            let e = model.logNorm.eps
            let logImage = Tensor(shape: input.shape, storage: input.storage.map { Float(log(Double($0 + e))) })
            var delta = Tensor(zeros: input.shape)
            for i in 0..<delta.count {
                delta.storage[i] = Float(log(Double(output.storage[i] + e))) - logImage.storage[i]
            }
            modelInputs = LossInputs(delta: delta, logImage: logImage, target: target, eps: e, regions: regions)
            if !identityGiven {
                identityInputs = LossInputs(
                    delta: Tensor(zeros: input.shape), logImage: logImage, target: target, eps: e, regions: regions)
            }
        }
        let masks = regions.map(regionMasks) ?? clipMasks(input)
        let cores = regions == nil ? fullyClipped(input) : masks
        // These samples' own sums beside the running ones (each value added to both), for `lastAdded`.
        var model = Sums()
        score(
            into: &modelSums, also: &model, output: output, target: target, masks: masks, cores: cores,
            lossInputs: modelInputs)
        var identity = Sums()
        if !identityGiven {
            score(
                into: &identitySums, also: &identity, output: input, target: target, masks: masks, cores: cores,
                lossInputs: identityInputs)
        }
        var (m, i) = (model.metrics, identity.metrics)
        m.region = region
        i.region = region
        lastAdded = (m, identityGiven ? nil : i)
    }

    /// The metrics of the samples of the last `add(input:target:output:regions:)` (or `restoreAndAdd`) alone: the
    /// model's and, unless the identity's scores are reused, the identity's. For one image, its own scores; the
    /// set's are the means of these.
    package private(set) var lastAdded: (model: EvalMetrics, identity: EvalMetrics?)?

    /// Every pair of `dataset` restored whole with `restorer` (tiled like `restore`) and scored, model and identity:
    /// what `evaluate` prints and what `train` reports for its held-out `data.test` set.
    /// `each` sees every pair's index, input, restored output and target (for pictures), and its own scores (named
    /// by the pair's file, no source; the set's are their means).
    package static func scoreImages(
        of dataset: PairedDataset, model: PatchModel, loss: CompositeLoss?, restorer: TiledRestore,
        each: (
            (_ index: Int, _ input: HDRImage, _ restored: HDRImage, _ target: HDRImage, _ scores: ImageScore) throws
                -> Void
        )? = nil
    ) throws -> (model: EvalMetrics, identity: EvalMetrics) {
        // A hole_mask input without masks would read "no hole" everywhere: refused, never scored that way.
        if model.inputs.usesRegions && !dataset.hasMasks {
            throw InferenceError(
                "\(dataset.root): the model reads a hole mask (model.inputs hole_mask) and this set has no mask/ directory"
            )
        }
        let evaluator = Evaluator(model: model, loss: loss)
        for i in dataset.pairs.indices {
            let (input, target) = try dataset.images(i)
            let output = evaluator.restoreAndAdd(
                input: input, target: target, regions: try dataset.regions(i), restorer: restorer)
            let scores = evaluator.lastAdded!
            try each?(
                i, input, output, target,
                ImageScore(name: dataset.pairs[i].name, model: scores.model, identity: scores.identity!))
        }
        return evaluator.result()
    }

    /// Restores `input` whole with `restorer` (tiled like `restore`), scores it and the identity against `target`,
    /// and returns the restored image. `regions` (1, 1, H, W): the image's region mask when the set has them.
    @discardableResult
    package func restoreAndAdd(
        input: HDRImage, target: HDRImage, regions: Tensor?, restorer: TiledRestore
    ) -> HDRImage {
        let shape = [1, 3, input.height, input.width]
        let x = Tensor(shape: shape, storage: input.pixels)
        let output = restorer.restore(x, regions: regions)
        add(input: x, target: Tensor(shape: shape, storage: target.pixels), output: output, regions: regions)
        return HDRImage(width: input.width, height: input.height, pixels: output.storage)
    }

    /// Combines the sums of several evaluators (data-parallel validation: each rank scores its share of the
    /// batches): `sum` gets this evaluator's sums as one vector (both sets: metrics, loss, every loss term by name,
    /// overflow counts, samples) and must leave the element-wise sum over all of them in it. Every evaluator must
    /// have the same loss terms.
    package func combine(_ sum: (inout [Double]) throws -> Void) rethrows {
        let names = loss?.terms.map(\.name) ?? []
        var v = modelSums.packed(names) + identitySums.packed(names)
        try sum(&v)
        let half = v.count / 2
        modelSums = Sums(packed: v[0..<half], names)
        identitySums = Sums(packed: v[half...], names)
    }

    /// Means over the samples seen; precondition: at least one sample.
    package func result() -> (model: EvalMetrics, identity: EvalMetrics) {
        precondition(samples > 0, "Evaluator.result: no samples")
        var (m, i) = (modelSums.metrics, identitySums.metrics)
        m.region = region
        i.region = region
        return (m, i)
    }

    /// Each sample's region mask (N, 1, H, W) as pixels >= 0.5 (empty where a sample has none).
    private func regionMasks(_ regions: Tensor) -> [[Bool]] {
        region = "holes"
        let plane = regions.shape[2] * regions.shape[3]
        return (0..<regions.shape[0]).map { s in
            let mask = regions.storage[(s * plane)..<((s + 1) * plane)].map { $0 >= 0.5 }
            return mask.contains(true) ? mask : []
        }
    }

    /// Each sample's pixels clipped in every channel (empty where none is).
    private func fullyClipped(_ input: Tensor) -> [[Bool]] { perSample(input, ImageMetrics.fullyClippedMask) }

    /// Each sample's in-clip mask (empty where nothing clips).
    private func clipMasks(_ input: Tensor) -> [[Bool]] {
        perSample(input) { ImageMetrics.clipMask(input: $0, channels: $1, height: $2, width: $3, level: $4) }
    }

    /// `mask(values, channels, height, width, clip level)` of each sample of (N, C, H, W) `input`.
    private func perSample(
        _ input: Tensor, _ mask: (UnsafeBufferPointer<Float>, Int, Int, Int, Float) -> [Bool]
    ) -> [[Bool]] {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        return input.storage.withUnsafeBufferPointer { x in
            (0..<n).map { s in
                mask(UnsafeBufferPointer(rebasing: x[(s * c * h * w)..<((s + 1) * c * h * w)]), c, h, w, clipLevel)
            }
        }
    }

    /// `masks`: each sample's pixels of the in-clip PSNRs (dilated); `cores`: those of the shape correlation (the
    /// pixels clipped in every channel, where nothing but a reconstruction can put a value; a set's region masks as
    /// they are).
    private func score(
        into sums: inout Sums, output: Tensor, target: Tensor, masks: [[Bool]], cores: [[Bool]],
        lossInputs: LossInputs?
    ) {
        var unused = Sums()
        score(
            into: &sums, also: &unused, output: output, target: target, masks: masks, cores: cores,
            lossInputs: lossInputs)
    }

    /// Scores every sample into `sums` and, value by value the same way, into `also`.
    private func score(
        into sums: inout Sums, also own: inout Sums, output: Tensor, target: Tensor, masks: [[Bool]],
        cores: [[Bool]], lossInputs: LossInputs?
    ) {
        let n = target.shape[0]
        let m = target.sampleCount
        let channels = target.shape[1]
        output.storage.withUnsafeBufferPointer { o in
            target.storage.withUnsafeBufferPointer { t in
                for s in 0..<n {
                    let r = (s * m)..<((s + 1) * m)
                    let out = UnsafeBufferPointer(rebasing: o[r])
                    let ref = UnsafeBufferPointer(rebasing: t[r])
                    let mask = masks[s]
                    let scores = ImageMetrics.scores(output: out, reference: ref, mask: mask, eps: eps)
                    let over = Overflow.pixels(out, reference: ref, channels: channels, limit: overflowLimit)
                    let fraction = Double(mask.count { $0 }) / Double(max(m / channels, 1))
                    let corr = ImageMetrics.logLuminanceCorrelation(
                        output: out, reference: ref, mask: cores[s], eps: eps)
                    // The same values into the running sums and the call's own.
                    func add(_ t: inout Sums) {
                        t.psnrMu += scores.psnrMu
                        t.pu21Psnr += scores.pu21Psnr
                        t.logL1 += scores.logL1
                        t.overflowPixels += over
                        if over > 0 { t.overflowIncidents += 1 }
                        t.clipFraction += fraction
                        if let mu = scores.inMaskPsnrMu, let pu21 = scores.inMaskPu21Psnr {
                            t.psnrMuClip += mu
                            t.pu21PsnrClip += pu21
                            t.clipSamples += 1
                        }
                        if let corr {
                            t.corrClip += corr
                            t.corrSamples += 1
                        }
                    }
                    add(&sums)
                    add(&own)
                }
            }
        }
        sums.samples += n
        own.samples += n
        if let loss, let lossInputs {
            let report = loss.evaluate(lossInputs).report
            for term in report.terms {
                sums.terms[term.name, default: 0] += term.value * Double(n)
                own.terms[term.name, default: 0] += term.value * Double(n)
            }
            sums.loss += report.total * Double(n)
            own.loss += report.total * Double(n)
        }
    }

    /// Running sums over samples (loss terms weighted by batch size).
    fileprivate struct Sums: Sendable {
        var psnrMu = 0.0, pu21Psnr = 0.0, logL1 = 0.0, loss = 0.0
        var terms: [String: Double] = [:]
        var overflowPixels = 0, overflowIncidents = 0, samples = 0
        var psnrMuClip = 0.0, pu21PsnrClip = 0.0, clipFraction = 0.0, clipSamples = 0
        var corrClip = 0.0, corrSamples = 0

        init() {}

        func packed(_ names: [String]) -> [Double] {
            [
                psnrMu, pu21Psnr, logL1, loss, Double(overflowPixels), Double(overflowIncidents), Double(samples),
                psnrMuClip, pu21PsnrClip, clipFraction, Double(clipSamples), corrClip, Double(corrSamples)
            ]
                + names.map { terms[$0] ?? 0 }
        }

        init(packed v: ArraySlice<Double>, _ names: [String]) {
            let b = v.startIndex
            psnrMu = v[b]
            pu21Psnr = v[b + 1]
            logL1 = v[b + 2]
            loss = v[b + 3]
            overflowPixels = Int(v[b + 4].rounded())
            overflowIncidents = Int(v[b + 5].rounded())
            samples = Int(v[b + 6].rounded())
            psnrMuClip = v[b + 7]
            pu21PsnrClip = v[b + 8]
            clipFraction = v[b + 9]
            clipSamples = Int(v[b + 10].rounded())
            corrClip = v[b + 11]
            corrSamples = Int(v[b + 12].rounded())
            for (k, name) in names.enumerated() { terms[name] = v[b + 13 + k] }
        }

        var metrics: EvalMetrics {
            let n = Double(samples)
            let c = Double(clipSamples)
            return EvalMetrics(
                psnrMu: psnrMu / n, pu21Psnr: pu21Psnr / n, logL1: logL1 / n,
                terms: terms.mapValues { $0 / n }, loss: loss / n, overflowPixels: overflowPixels,
                overflowIncidents: overflowIncidents, patches: samples,
                psnrMuClip: clipSamples > 0 ? psnrMuClip / c : nil,
                pu21PsnrClip: clipSamples > 0 ? pu21PsnrClip / c : nil, clipSamples: clipSamples,
                clipFraction: clipFraction / n, logCorrClip: corrSamples > 0 ? corrClip / Double(corrSamples) : nil)
        }
    }
}
