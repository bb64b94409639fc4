// The ablation table: per-run numbers read from a run's logs, and their mean +- std over seeds per variant.
// Definitions live here, next to the arithmetic, so the report's text and the numbers cannot drift apart.
import Foundation
import Reports
import RunFiles

/// Mean and sample standard deviation (n - 1) over seeds; `std` is nil for fewer than two values ("n/a").
package struct SeedStats: Sendable, Equatable {
    package var mean: Double
    package var std: Double?
    package var n: Int

    package init(mean: Double, std: Double?, n: Int) {
        self.mean = mean
        self.std = std
        self.n = n
    }

    /// nil for no values: an empty variant has no mean, not a mean of 0.
    package init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        n = values.count
        // Sum in array order so the same runs always give the same bits.
        mean = values.reduce(0, +) / Double(n)
        let m = mean
        std = n < 2 ? nil : (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
    }
}

/// One finished run's numbers.
/// - final validation: the last `val` record (model and identity);
/// - overflow totals: monitor.jsonl summed over all steps; per 1000 patches = 1000 * total / patches seen;
/// - clamp-hit and saturation: `EndOfRunRates` (the run report's: the last 10% of the steps that were not skipped);
/// - learnable scale: the last monitor record's (nil when the head's scale is fixed);
/// - wall time: the last train record's wall_seconds; steps/s = that record's step / its wall time;
/// - diverged: the run's "diverged" record (non-finite loss, or validation PSNR-mu below the identity's by more
///   than monitor.divergence_margin_db); the first incident step from monitor.jsonl.
package struct AblationRunNumbers: Sendable {
    package var seed: Int
    package var finalModel: EvalMetrics?
    package var finalIdentity: EvalMetrics?
    package var patches: Int
    package var overflowPixels: Int
    package var overflowIncidents: Int
    package var clampHitRate: Double?
    package var saturationRate: Double?
    package var learnableScale: Double?
    package var wallSeconds: Double?
    package var steps: Int?
    /// (step, value) curves for the charts.
    package var valPsnrMu: [ChartPoint]
    package var trainLoss: [ChartPoint]
    package var incidentsByStep: [(step: Int, incidents: Int)]
    /// The step the run diverged at and why (its "diverged" record), nil when it did not.
    package var diverged: (step: Int, reason: String)?
    /// The first step with an overflow incident, nil when there was none.
    package var firstIncidentStep: Int?

    package var pixelsPer1000: Double? { patches > 0 ? 1000 * Double(overflowPixels) / Double(patches) : nil }
    package var incidentsPer1000: Double? { patches > 0 ? 1000 * Double(overflowIncidents) / Double(patches) : nil }
    package var stepsPerSecond: Double? {
        guard let w = wallSeconds, let s = steps, w > 0 else { return nil }
        return Double(s) / w
    }

    package init(seed: Int, logs: RunLogContents) {
        self.seed = seed
        let val = logs.metrics.last { $0.kind == "val" }
        finalModel = val?.model
        finalIdentity = val?.identity
        patches = logs.monitor.reduce(0) { $0 + $1.patches }
        overflowPixels = logs.monitor.reduce(0) { $0 + $1.overflowPixels }
        overflowIncidents = logs.monitor.reduce(0) { $0 + $1.overflowIncidents }
        let end = EndOfRunRates(logs.monitor)
        clampHitRate = end?.clampHitRate
        saturationRate = end?.saturationRate
        learnableScale = logs.monitor.last?.learnableScale
        let lastTrain = logs.metrics.last { $0.kind == "train" }
        wallSeconds = lastTrain?.wallSeconds
        steps = lastTrain?.step
        valPsnrMu = logs.metrics.compactMap { r in
            r.kind == "val" ? r.model.map { ChartPoint(Double(r.step), $0.psnrMu) } : nil
        }
        trainLoss = logs.metrics.compactMap { r in
            r.kind == "train" ? r.loss.map { ChartPoint(Double(r.step), $0) } : nil
        }
        incidentsByStep = logs.monitor.map { ($0.step, $0.overflowIncidents) }
        diverged = logs.metrics.first { $0.kind == "diverged" }.map { ($0.step, $0.reason ?? "") }
        firstIncidentStep = logs.monitor.first { $0.overflowIncidents > 0 }?.step
    }
}

/// One row of the comparison: a variant's numbers over its finished seeds. A field is nil when no finished run has it.
package struct VariantSummary: Sendable {
    package var variant: String
    /// Finished runs, in seed order.
    package var runs: [AblationRunNumbers]
    package var failed: [(seed: Int, error: String)]
    package var missingSeeds: [Int]

    package var seeds: [Int] { runs.map(\.seed) }
    /// Finished runs that diverged, in seed order.
    package var divergedRuns: [AblationRunNumbers] { runs.filter { $0.diverged != nil } }
    /// At least this share of tanh outputs saturated over the last 10% of steps (mean over seeds): the residual is
    /// switched off (a learnable scale driven to 0, or every output pinned at the cap). Not a divergence, since the
    /// output is then the input, yet no training either.
    package static let saturatedShare = 0.9
    package var saturated: Bool { (saturationRate?.mean ?? 0) >= Self.saturatedShare }
    package var valLogL1: SeedStats? { stat { $0.finalModel?.logL1 } }
    package var valLoss: SeedStats? { stat { $0.finalModel?.loss } }
    package var psnrMu: SeedStats? { stat { $0.finalModel?.psnrMu } }
    package var pu21Psnr: SeedStats? { stat { $0.finalModel?.pu21Psnr } }
    /// Model minus identity on the same validation patches, per seed, then over seeds.
    package var psnrMuGain: SeedStats? {
        stat { r in r.finalModel.flatMap { m in r.finalIdentity.map { m.psnrMu - $0.psnrMu } } }
    }
    package var pu21PsnrGain: SeedStats? {
        stat { r in r.finalModel.flatMap { m in r.finalIdentity.map { m.pu21Psnr - $0.pu21Psnr } } }
    }
    /// The same gains restricted to the pixels where the input clipped (nil for a task whose inputs never clip).
    package var psnrMuClipGain: SeedStats? {
        stat { r in
            guard let m = r.finalModel?.psnrMuClip, let i = r.finalIdentity?.psnrMuClip else { return nil }
            return m - i
        }
    }
    package var pu21PsnrClipGain: SeedStats? {
        stat { r in
            guard let m = r.finalModel?.pu21PsnrClip, let i = r.finalIdentity?.pu21PsnrClip else { return nil }
            return m - i
        }
    }
    /// The shape of the fill where every channel of the input clipped (`log_corr_clip`; the identity's is 0).
    package var logCorrClip: SeedStats? { stat { $0.finalModel?.logCorrClip } }
    package var overflowPixels: SeedStats? { stat { Double($0.overflowPixels) } }
    package var overflowIncidents: SeedStats? { stat { Double($0.overflowIncidents) } }
    package var pixelsPer1000: SeedStats? { stat(\.pixelsPer1000) }
    package var incidentsPer1000: SeedStats? { stat(\.incidentsPer1000) }
    package var clampHitRate: SeedStats? { stat(\.clampHitRate) }
    package var saturationRate: SeedStats? { stat(\.saturationRate) }
    package var learnableScale: SeedStats? { stat(\.learnableScale) }
    package var wallSeconds: SeedStats? { stat(\.wallSeconds) }
    package var stepsPerSecond: SeedStats? { stat(\.stepsPerSecond) }

    /// Final validation loss terms by name, sorted by name.
    package var valTerms: [(name: String, stats: SeedStats)] {
        let names = Set(runs.flatMap { $0.finalModel?.terms.keys.map { $0 } ?? [] }).sorted()
        return names.compactMap { n in stat { $0.finalModel?.terms[n] }.map { (n, $0) } }
    }

    package func stat(_ value: (AblationRunNumbers) -> Double?) -> SeedStats? { SeedStats(runs.compactMap(value)) }
}
