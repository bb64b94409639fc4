// The records a training run writes into its run directory; the report and ablation read them back.
// metrics.jsonl and monitor.jsonl hold one JSON object per line; incidents.csv one incident per row.

/// Validation (or `evaluate`) metrics of one predictor on a fixed set.
package struct EvalMetrics: Codable, Sendable, Equatable {
    /// NTIRE PSNR-mu: normalise by the reference's 99th percentile, tanh, mu-law (mu = 5000), PSNR with peak 1.
    package var psnrMu: Double
    /// PU21-PSNR: banding_glare encoding, reference maximum -> 4000 cd/m2, peak 256.
    package var pu21Psnr: Double
    /// Mean |log(out + eps) - log(target + eps)|.
    package var logL1: Double
    /// Every configured loss term's value, by term name, and their weighted total.
    package var terms: [String: Double]
    package var loss: Double
    package var overflowPixels: Int
    package var overflowIncidents: Int
    package var patches: Int
    /// The same PSNR-mu and PU21-PSNR over the pixels where the input clipped (some channel >= the clip level),
    /// dilated by a few pixels (docs/conventions.md), averaged over the samples that have such pixels; nil when
    /// none has (and in logs written before these metrics).
    package var psnrMuClip: Double?
    package var pu21PsnrClip: Double?
    /// Samples with clipped pixels, and the mean over all samples of the fraction of pixels in the dilated mask.
    package var clipSamples: Int
    package var clipFraction: Double
    /// The shape of the reconstruction where the input clipped: the correlation of log luminance with the
    /// reference's over the pixels clipped in every channel, averaged over the samples with at least 16 of them
    /// (ImageMetrics.logLuminanceCorrelation). A flat fill scores about 0 whatever its level; nil when no sample
    /// has enough clipped pixels (and in logs written before it).
    package var logCorrClip: Double?
    /// Which pixels the `...Clip` metrics cover: nil for the clipped ones; "holes" for a data set's own region
    /// masks (`root/mask/`, e.g. the disocclusions of warped frames), undilated.
    package var region: String?

    /// The region's name in reports: "clip" or the set's own ("holes").
    package var regionName: String { region ?? "clip" }

    package init(
        psnrMu: Double, pu21Psnr: Double, logL1: Double, terms: [String: Double], loss: Double,
        overflowPixels: Int, overflowIncidents: Int, patches: Int, psnrMuClip: Double? = nil,
        pu21PsnrClip: Double? = nil, clipSamples: Int = 0, clipFraction: Double = 0, logCorrClip: Double? = nil,
        region: String? = nil
    ) {
        self.region = region
        self.psnrMu = psnrMu
        self.pu21Psnr = pu21Psnr
        self.logL1 = logL1
        self.terms = terms
        self.loss = loss
        self.overflowPixels = overflowPixels
        self.overflowIncidents = overflowIncidents
        self.patches = patches
        self.psnrMuClip = psnrMuClip
        self.pu21PsnrClip = pu21PsnrClip
        self.clipSamples = clipSamples
        self.clipFraction = clipFraction
        self.logCorrClip = logCorrClip
    }

    enum CodingKeys: String, CodingKey {
        case psnrMu = "psnr_mu"
        case pu21Psnr = "pu21_psnr"
        case logL1 = "log_l1"
        case terms, loss
        case overflowPixels = "overflow_pixels"
        case overflowIncidents = "overflow_incidents"
        case patches
        case psnrMuClip = "psnr_mu_clip"
        case pu21PsnrClip = "pu21_psnr_clip"
        case clipSamples = "clip_samples"
        case clipFraction = "clip_fraction"
        case logCorrClip = "log_corr_clip"
        case region
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        psnrMu = try c.decode(Double.self, forKey: .psnrMu)
        pu21Psnr = try c.decode(Double.self, forKey: .pu21Psnr)
        logL1 = try c.decode(Double.self, forKey: .logL1)
        terms = try c.decode([String: Double].self, forKey: .terms)
        loss = try c.decode(Double.self, forKey: .loss)
        overflowPixels = try c.decode(Int.self, forKey: .overflowPixels)
        overflowIncidents = try c.decode(Int.self, forKey: .overflowIncidents)
        patches = try c.decode(Int.self, forKey: .patches)
        psnrMuClip = try c.decodeIfPresent(Double.self, forKey: .psnrMuClip)
        pu21PsnrClip = try c.decodeIfPresent(Double.self, forKey: .pu21PsnrClip)
        clipSamples = try c.decodeIfPresent(Int.self, forKey: .clipSamples) ?? 0
        clipFraction = try c.decodeIfPresent(Double.self, forKey: .clipFraction) ?? 0
        logCorrClip = try c.decodeIfPresent(Double.self, forKey: .logCorrClip)
        region = try c.decodeIfPresent(String.self, forKey: .region)
    }
}

/// One image of a set scored alone (`evaluate --per-image`, a run's held-out test): its pair's file name, the
/// source photograph it was cut from when the set's manifest says so, and both predictors' metrics on it alone (the
/// set's metrics are the means of its images').
package struct ImageScore: Codable, Sendable, Equatable {
    package var name: String
    package var source: String?
    package var model: EvalMetrics
    package var identity: EvalMetrics

    package init(name: String, source: String? = nil, model: EvalMetrics, identity: EvalMetrics) {
        self.name = name
        self.source = source
        self.model = model
        self.identity = identity
    }
}

/// One line of metrics.jsonl: `kind` "train" (every log_every steps), "val" (every val_every steps), "diverged"
/// (once, at the step the run diverged: `reason` says how; `stopped` when the run ended there) or "test" (once,
/// when the run ends: the held-out `data.test` set scored with the checkpoint `checkpoint`, at its step).
package struct MetricsRecord: Codable, Sendable, Equatable {
    package var kind: String
    package var step: Int
    package var epoch: Int
    /// Wall-clock seconds since the run (or its first segment) started.
    package var wallSeconds: Double
    /// train: learning rate, total loss, per-term values, speed and data wait (fraction of wall time).
    package var lr: Double?
    package var loss: Double?
    package var terms: [String: Double]?
    package var stepsPerSecond: Double?
    package var dataWaitFraction: Double?
    /// train, data-parallel runs only: the fraction of the interval's wall time rank 0 spent in MPI collectives
    /// (waiting for the slower rank included), and in the gradient's allreduce alone.
    package var mpiFraction: Double?
    package var gradientAllreduceFraction: Double?
    /// val: the model and the identity baseline (input as output) on the same patches.
    package var model: EvalMetrics?
    package var identity: EvalMetrics?
    /// val and test: which weights were scored, `raw` or `ema` (the EMA of the weights, `train.ema`); absent in
    /// runs written before the field existed (they scored the raw weights).
    package var weights: String?
    /// diverged: what crossed the line, and whether the run stopped there (monitor.on_divergence: stop).
    package var reason: String?
    package var stopped: Bool?
    /// test: the held-out set's directory and the weights file scored on it.
    package var data: String?
    package var checkpoint: String?
    /// test: every image scored alone, in the set's order (absent in runs written before the field existed).
    package var images: [ImageScore]?

    package init(
        kind: String, step: Int, epoch: Int, wallSeconds: Double, lr: Double? = nil, loss: Double? = nil,
        terms: [String: Double]? = nil, stepsPerSecond: Double? = nil, dataWaitFraction: Double? = nil,
        model: EvalMetrics? = nil, identity: EvalMetrics? = nil, weights: String? = nil, reason: String? = nil,
        stopped: Bool? = nil, data: String? = nil, checkpoint: String? = nil, mpiFraction: Double? = nil,
        gradientAllreduceFraction: Double? = nil, images: [ImageScore]? = nil
    ) {
        self.images = images
        self.mpiFraction = mpiFraction
        self.gradientAllreduceFraction = gradientAllreduceFraction
        self.kind = kind
        self.step = step
        self.epoch = epoch
        self.wallSeconds = wallSeconds
        self.lr = lr
        self.loss = loss
        self.terms = terms
        self.stepsPerSecond = stepsPerSecond
        self.dataWaitFraction = dataWaitFraction
        self.model = model
        self.identity = identity
        self.weights = weights
        self.reason = reason
        self.stopped = stopped
        self.data = data
        self.checkpoint = checkpoint
    }

    enum CodingKeys: String, CodingKey {
        case kind, step, epoch
        case wallSeconds = "wall_seconds"
        case lr, loss, terms
        case stepsPerSecond = "steps_per_second"
        case dataWaitFraction = "data_wait_fraction"
        case mpiFraction = "mpi_fraction"
        case gradientAllreduceFraction = "gradient_allreduce_fraction"
        case model, identity, weights, reason, stopped, data, checkpoint, images
    }
}

/// One line of monitor.jsonl per training step, with docs/conventions.md's definitions.
package struct MonitorRecord: Codable, Sendable, Equatable {
    /// Steps completed including this one (1 ... steps), as in metrics, checkpoints and TensorBoard.
    package var step: Int
    package var patches: Int
    /// Pixels (any channel) whose output is non-finite or above monitor.overflow_limit.
    package var overflowPixels: Int
    /// Patches with at least one overflow pixel.
    package var overflowIncidents: Int
    /// Elements (pixel and channel) whose exp(ln_hat) - eps was below 0, held at 0 by the output's lower bound
    /// (0 in logs written before the bound existed).
    package var negativePixels: Int
    /// Fraction of delta elements with |delta before clamp| >= clamp (0 without a clamp).
    package var clampHitRate: Double
    /// Fraction of elements with |tanh(p)| > monitor.saturation.
    package var saturationRate: Double
    /// delta (after the clamp): min, max and percentiles keyed "p1", "p5", "p50", "p95", "p99".
    package var deltaMin: Double
    package var deltaMax: Double
    package var deltaPercentiles: [String: Double]
    /// LogNorm denominators of the batch.
    package var denomMean: Double
    package var denomStd: Double
    package var denomCV: Double
    package var denomMin: Double
    package var denomMax: Double
    /// head.scale (learnable mode only).
    package var learnableScale: Double?
    /// Global gradient norm before clipping.
    package var gradNorm: Double
    /// Std over the batch of per-patch mean delta: near 0 means the network ignores its input.
    package var collapse: Double
    /// The step was skipped because the loss or a gradient was not finite.
    package var skipped: Bool

    package init(
        step: Int, patches: Int, overflowPixels: Int, overflowIncidents: Int, clampHitRate: Double,
        saturationRate: Double, deltaMin: Double, deltaMax: Double, deltaPercentiles: [String: Double],
        denomMean: Double, denomStd: Double, denomCV: Double, denomMin: Double, denomMax: Double,
        learnableScale: Double?, gradNorm: Double, collapse: Double, skipped: Bool, negativePixels: Int = 0
    ) {
        self.step = step
        self.patches = patches
        self.overflowPixels = overflowPixels
        self.overflowIncidents = overflowIncidents
        self.negativePixels = negativePixels
        self.clampHitRate = clampHitRate
        self.saturationRate = saturationRate
        self.deltaMin = deltaMin
        self.deltaMax = deltaMax
        self.deltaPercentiles = deltaPercentiles
        self.denomMean = denomMean
        self.denomStd = denomStd
        self.denomCV = denomCV
        self.denomMin = denomMin
        self.denomMax = denomMax
        self.learnableScale = learnableScale
        self.gradNorm = gradNorm
        self.collapse = collapse
        self.skipped = skipped
    }

    enum CodingKeys: String, CodingKey {
        case step, patches
        case overflowPixels = "overflow_pixels"
        case overflowIncidents = "overflow_incidents"
        case negativePixels = "negative_pixels"
        case clampHitRate = "clamp_hit_rate"
        case saturationRate = "saturation_rate"
        case deltaMin = "delta_min"
        case deltaMax = "delta_max"
        case deltaPercentiles = "delta_percentiles"
        case denomMean = "denom_mean"
        case denomStd = "denom_std"
        case denomCV = "denom_cv"
        case denomMin = "denom_min"
        case denomMax = "denom_max"
        case learnableScale = "learnable_scale"
        case gradNorm = "grad_norm"
        case collapse, skipped
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        patches = try c.decode(Int.self, forKey: .patches)
        overflowPixels = try c.decode(Int.self, forKey: .overflowPixels)
        overflowIncidents = try c.decode(Int.self, forKey: .overflowIncidents)
        negativePixels = try c.decodeIfPresent(Int.self, forKey: .negativePixels) ?? 0
        clampHitRate = try c.decode(Double.self, forKey: .clampHitRate)
        saturationRate = try c.decode(Double.self, forKey: .saturationRate)
        deltaMin = try c.decode(Double.self, forKey: .deltaMin)
        deltaMax = try c.decode(Double.self, forKey: .deltaMax)
        deltaPercentiles = try c.decode([String: Double].self, forKey: .deltaPercentiles)
        denomMean = try c.decode(Double.self, forKey: .denomMean)
        denomStd = try c.decode(Double.self, forKey: .denomStd)
        denomCV = try c.decode(Double.self, forKey: .denomCV)
        denomMin = try c.decode(Double.self, forKey: .denomMin)
        denomMax = try c.decode(Double.self, forKey: .denomMax)
        learnableScale = try c.decodeIfPresent(Double.self, forKey: .learnableScale)
        gradNorm = try c.decode(Double.self, forKey: .gradNorm)
        collapse = try c.decode(Double.self, forKey: .collapse)
        skipped = try c.decode(Bool.self, forKey: .skipped)
    }
}

/// One row of incidents.csv: `step,kind,file,x,y,value,detail`.
package struct Incident: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        /// A patch with overflow pixels; value = overflow pixel count, detail = largest output value.
        case overflow
        /// The loss was not finite; detail names the loss term(s).
        case nonfiniteLoss = "nonfinite_loss"
        /// A gradient was not finite; detail names the first parameter.
        case nonfiniteGradient = "nonfinite_grad"
    }

    package var step: Int
    package var kind: Kind
    package var file: String
    package var x: Int
    package var y: Int
    package var value: Double
    package var detail: String

    package init(step: Int, kind: Kind, file: String, x: Int, y: Int, value: Double, detail: String) {
        self.step = step
        self.kind = kind
        self.file = file
        self.x = x
        self.y = y
        self.value = value
        self.detail = detail
    }

    package static let csvHeader = "step,kind,file,x,y,value,detail"
}
