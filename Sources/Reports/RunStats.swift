// The numbers a report states about a run, computed once from its records, and the verdict built from them.
// Counts come from monitor.jsonl (every step); which file an incident came from only incidents.csv knows.
import Foundation
import RunFiles

package struct RunStats: Sendable {
    /// Number of steps seen (monitor records, else train metrics; 0 with incidents alone); first and last step
    /// number (of the incidents when there is nothing else).
    package var steps: Int
    package var firstStep: Int
    package var lastStep: Int
    package var wallSeconds: Double?
    package var stepsPerSecond: Double?
    package var overflowIncidents: Int
    package var overflowPixels: Int
    /// Steps below this number are "the first 10% of steps".
    package var earlyLimit: Int
    package var earlyIncidents: Int
    /// Overflow rows of incidents.csv per source image (per pair file where the source is unknown), most first
    /// (ties by name).
    package var overflowByFile: [(file: String, count: Int)]
    /// Whether `overflowByFile` names source images (the data set's manifest was read) or pair files.
    package var bySourceImage: Bool
    package var skippedSteps: Int
    package var nonfiniteLossRows: Int
    package var nonfiniteGradientRows: Int
    /// The validation records that carry both model and identity metrics, in step order.
    package var validations: [(step: Int, model: EvalMetrics, identity: EvalMetrics)]
    /// Which weights the validations scored, from the records' `weights` field: `ema` (the EMA of the weights,
    /// `train.ema`) or `raw`; nil without validation. Records without the field validated the raw weights.
    package var validatedWeights: String?
    /// `EndOfRunRates`: nil without records.
    package var endClampHitRate: Double?
    package var endSaturationRate: Double?
    package var endCollapseMax: Double?

    /// Below this the per-patch mean delta varies by under 0.1% in intensity across the batch: the outputs
    /// no longer depend on the input.
    package static let collapseThreshold = 1e-3

    /// `sourceImages`: each pair file's source image (from the data set's manifest); empty when unknown.
    package init(_ run: RunLogContents, sourceImages: [String: String] = [:]) {
        let mon = run.monitor.sorted { $0.step < $1.step }
        let train = run.metrics.filter { $0.kind == "train" }
        let stepNumbers = mon.isEmpty ? train.map(\.step) : mon.map(\.step)
        // With incidents alone the run's length is unknown; their own steps still bound "early".
        let bounds = stepNumbers.isEmpty ? run.incidents.map(\.step) : stepNumbers
        let first = bounds.min() ?? 0
        let last = bounds.max() ?? 0
        let count = Set(stepNumbers).count
        firstStep = first
        lastStep = last
        steps = count
        let wall = run.metrics.map(\.wallSeconds).filter(\.isFinite).max()
        wallSeconds = wall
        stepsPerSecond =
            train.max { $0.step < $1.step }?.stepsPerSecond
            ?? wall.flatMap { $0 > 0 && count > 0 ? Double(count) / $0 : nil }
        let limit = first + max(1, Int((Double(last - first + 1) * 0.1).rounded(.up)))
        earlyLimit = limit
        let overflowRows = run.incidents.filter { $0.kind == .overflow }
        if mon.isEmpty {
            overflowIncidents = overflowRows.count
            overflowPixels = overflowRows.reduce(0) { $0 + (Int(exactly: $1.value.rounded()) ?? 0) }
            earlyIncidents = overflowRows.filter { $0.step < limit }.count
        } else {
            overflowIncidents = mon.reduce(0) { $0 + $1.overflowIncidents }
            overflowPixels = mon.reduce(0) { $0 + $1.overflowPixels }
            earlyIncidents = mon.filter { $0.step < limit }.reduce(0) { $0 + $1.overflowIncidents }
        }
        var byFile: [String: Int] = [:]
        for r in overflowRows { byFile[sourceImages[r.file] ?? r.file, default: 0] += 1 }
        bySourceImage = !sourceImages.isEmpty
        overflowByFile = byFile.map { (file: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.file < $1.file }
        skippedSteps = mon.filter(\.skipped).count
        nonfiniteLossRows = run.incidents.filter { $0.kind == .nonfiniteLoss }.count
        nonfiniteGradientRows = run.incidents.filter { $0.kind == .nonfiniteGradient }.count
        validations = run.metrics.filter { $0.kind == "val" }.sorted { $0.step < $1.step }.compactMap { r in
            guard let m = r.model, let i = r.identity else { return nil }
            return (r.step, m, i)
        }
        validatedWeights = run.metrics.last { $0.kind == "val" && $0.model != nil }.map { $0.weights ?? "raw" }
        let end = EndOfRunRates(mon)
        endClampHitRate = end?.clampHitRate
        endSaturationRate = end?.saturationRate
        endCollapseMax = end?.collapseMax
    }

    /// The validation with the highest model PSNR-mu.
    package var bestValidation: (step: Int, model: EvalMetrics, identity: EvalMetrics)? {
        validations.max { $0.model.psnrMu < $1.model.psnrMu }
    }

    /// Plain sentences, most important first; the CLI prints the first.
    package var verdict: [String] {
        var out: [String] = []
        let stepsText = steps > 0 ? "in \(plural(steps, "step"))" : "by step \(lastStep)"
        if overflowIncidents == 0 {
            out.append("No overflow incidents \(stepsText).")
        } else {
            let early = ReportText.percent(Double(earlyIncidents) / Double(overflowIncidents))
            let k = earlyLimit - firstStep
            let earlySteps = k == 1 ? "step" : "\(ReportText.count(k)) steps"
            out.append(
                "\(plural(overflowIncidents, "overflow incident")) (\(plural(overflowPixels, "overflow pixel"))) "
                    + "\(stepsText), \(early) of them in the first \(earlySteps).")
        }
        let recorded = overflowByFile.reduce(0) { $0 + $1.count }
        if overflowByFile.count == 1 {
            out.append(
                "All recorded overflow incidents come from \(bySourceImage ? "source image " : "")"
                    + "\(overflowByFile[0].file).")
        } else if recorded > 0 {
            var parts = overflowByFile.prefix(3).map {
                "\($0.file) \(ReportText.percent(Double($0.count) / Double(recorded)))"
            }
            let rest = overflowByFile.dropFirst(3)
            if !rest.isEmpty {
                let n = rest.reduce(0) { $0 + $1.count }
                let other = bySourceImage ? "other image" : "other file"
                parts.append("\(plural(rest.count, other)) \(ReportText.percent(Double(n) / Double(recorded)))")
            }
            out.append((bySourceImage ? "By source image: " : "By pair file: ") + parts.joined(separator: ", ") + ".")
        }
        if skippedSteps == 0 && nonfiniteLossRows + nonfiniteGradientRows == 0 {
            out.append("No step was skipped for a non-finite loss or gradient.")
        } else {
            out.append(
                "\(plural(skippedSteps, "step")) skipped for non-finite values "
                    + "(\(plural(nonfiniteLossRows, "non-finite loss", "non-finite losses")), "
                    + "\(plural(nonfiniteGradientRows, "non-finite gradient")) recorded).")
        }
        out.append(validationSentence)
        if let c = endCollapseMax {
            if c < Self.collapseThreshold {
                out.append(
                    "Warning: the collapse indicator stayed below \(ReportText.number(Self.collapseThreshold)) over the "
                        + "last 10% of steps (max \(ReportText.number(c))): the network may be ignoring its input.")
            } else {
                out.append(
                    "No collapse: the collapse indicator reached \(ReportText.number(c)) over the last 10% of steps.")
            }
        }
        if let clamp = endClampHitRate, let sat = endSaturationRate {
            out.append(
                "Over the last 10% of steps \(ReportText.percent(clamp)) of delta elements hit the clamp and "
                    + "\(ReportText.percent(sat)) of tanh outputs were saturated.")
        }
        return out
    }

    var validationSentence: String {
        guard let v = validations.last else { return "No validation yet." }
        let m = v.model
        let i = v.identity
        let db = { (a: Double, b: Double) in
            "\(String(format: "%.2f", a)) vs \(ReportText.decibels(b)) (\(ReportText.signedDecibels(a - b)))"
        }
        let l1Change = i.logL1 > 0 ? (m.logL1 - i.logL1) / i.logL1 : .nan
        let l1 =
            "log-L1 \(ReportText.number(m.logL1)) vs \(ReportText.number(i.logL1))"
            + (l1Change.isFinite ? " (\(ReportText.percent(abs(l1Change))) \(l1Change <= 0 ? "lower" : "higher"))" : "")
        let beats = m.psnrMu > i.psnrMu ? "beats" : "does not beat"
        let clip = Self.clipSentence(m, i)
        let model = validatedWeights == "ema" ? "the model (the EMA of its weights)" : "the model"
        return "At the last validation (step \(v.step)) \(model) \(beats) the identity baseline: "
            + "PSNR-mu \(db(m.psnrMu, i.psnrMu)), PU21-PSNR \(db(m.pu21Psnr, i.pu21Psnr)), \(l1)." + clip
    }

    /// " Where the input clipped (8.3% of pixels): PSNR-mu 19.46 vs 16.21 dB (+3.24 dB)." or "".
    static func clipSentence(_ m: EvalMetrics, _ i: EvalMetrics) -> String {
        guard let a = m.psnrMuClip, let b = i.psnrMuClip else { return "" }
        let region = m.region == nil ? "Where the input clipped" : "In the \(m.regionName)"
        return " \(region) (\(String(format: "%.1f%%", 100 * m.clipFraction)) of pixels): PSNR-mu "
            + "\(String(format: "%.2f", a)) vs \(ReportText.decibels(b)) (\(ReportText.signedDecibels(a - b)))."
    }
}

/// "1 step", "3 steps", "1,204 steps".
func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
    "\(ReportText.count(n)) \(n == 1 ? one : many ?? one + "s")"
}

/// The monitor's rates where a run ended: means of the clamp-hit and saturation rates, and the maximum collapse,
/// over the last 10% (at least one) of its monitor records in step order, skipped steps left out (a step whose loss
/// or gradient was not finite is not the state the run trains in). One definition for the run report and the
/// ablation; nil without a record that was not skipped.
package struct EndOfRunRates: Sendable, Equatable {
    package var clampHitRate: Double
    package var saturationRate: Double
    package var collapseMax: Double

    package init?(_ records: [MonitorRecord]) {
        let live = records.sorted { $0.step < $1.step }.filter { !$0.skipped }
        let tail = live.suffix(max(1, Int((Double(live.count) * 0.1).rounded(.up))))
        guard !tail.isEmpty else { return nil }
        clampHitRate = tail.reduce(0) { $0 + $1.clampHitRate } / Double(tail.count)
        saturationRate = tail.reduce(0) { $0 + $1.saturationRate } / Double(tail.count)
        collapseMax = tail.map(\.collapse).max()!
    }
}
