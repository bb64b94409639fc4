// The report's chart sections, each from the records that define it (docs/conventions.md, "The overflow-incident
// monitor").
// Skipped steps stay in the series: their values are usually non-finite and show as gaps, which is honest.
import Foundation
import RunFiles

struct RunSections {
    let stats: RunStats
    /// Sorted once: every series below walks them again.
    let monitor: [MonitorRecord]
    let train: [MetricsRecord]

    init(run: RunLogContents, stats: RunStats) {
        self.stats = stats
        monitor = run.monitor.sorted { $0.step < $1.step }
        train = run.metrics.filter { $0.kind == "train" }.sorted { $0.step < $1.step }
    }

    var all: [ReportSection] {
        var out = [trainLoss]
        out += validation
        out += [overflowIncidents, overflowPixels, negativePixels, clampAndSaturation, delta, denom, denomCV]
        if monitor.contains(where: { $0.learnableScale != nil }) { out.append(learnableScale) }
        out += [gradNorm, collapse]
        return out
    }

    func series(_ name: String, dashed: Bool = false, _ value: (MonitorRecord) -> Double?) -> ChartSeries {
        ChartSeries(name, monitor.compactMap { r in value(r).map { ChartPoint(Double(r.step), $0) } }, dashed: dashed)
    }

    func section(
        _ title: String, yLabel: String, logY: Bool = false, includeZero: Bool = false, note: String? = nil,
        _ series: [ChartSeries], percent: Bool = false
    ) -> ReportSection {
        let drawn = series.filter { !$0.points.isEmpty }
        guard !drawn.isEmpty else {
            return ReportSection(title: title, note: note ?? "No records.", chart: nil, keyNumbers: [])
        }
        var chart = SVGChart(title: title, yLabel: yLabel, series: drawn, logY: logY)
        chart.includeZero = includeZero
        return ReportSection(
            title: title, note: note, chart: chart,
            keyNumbers: drawn.map { Self.keyNumbers($0, percent: percent) })
    }

    /// "total: last 0.0123 (step 300), min 0.0101 (step 250), max 1.2 (step 1)" over finite values.
    static func keyNumbers(_ s: ChartSeries, percent: Bool = false) -> String {
        let fmt = { (v: Double) in percent ? ReportText.number(v) + "%" : ReportText.number(v) }
        let finite = s.points.filter { $0.y.isFinite }
        guard let last = finite.last, let lo = finite.min(by: { $0.y < $1.y }), let hi = finite.max(by: { $0.y < $1.y })
        else {
            return "\(s.name): no finite value"
        }
        let step = { (p: ChartPoint) in "step \(Int(p.x))" }
        return
            "\(s.name): last \(fmt(last.y)) (\(step(last))), min \(fmt(lo.y)) (\(step(lo))), max \(fmt(hi.y)) (\(step(hi)))"
    }

    var trainLoss: ReportSection {
        let terms = Set(train.flatMap { $0.terms?.keys.map { $0 } ?? [] }).sorted()
        var s = [ChartSeries("total", train.compactMap { r in r.loss.map { ChartPoint(Double(r.step), $0) } })]
        for t in terms {
            s.append(
                ChartSeries(
                    t, train.compactMap { r in r.terms?[t].map { ChartPoint(Double(r.step), $0) } }, dashed: true))
        }
        return section("Training loss", yLabel: "loss", logY: true, s)
    }

    var validation: [ReportSection] {
        let v = stats.validations
        guard !v.isEmpty else {
            return [ReportSection(title: "Validation", note: "No validation yet.", chart: nil, keyNumbers: [])]
        }
        let pts = { (f: (EvalMetrics) -> Double, model: Bool) in
            v.map { ChartPoint(Double($0.step), f(model ? $0.model : $0.identity)) }
        }
        let weights =
            stats.validatedWeights == "ema"
            ? "The model is validated with the EMA of its weights (train.ema); best.safetensors was chosen by it."
            : nil
        let psnr = section(
            "Validation PSNR", yLabel: "dB", note: weights,
            [
                ChartSeries("PSNR-mu model", pts(\.psnrMu, true)),
                ChartSeries("PSNR-mu identity", pts(\.psnrMu, false), dashed: true),
                ChartSeries("PU21-PSNR model", pts(\.pu21Psnr, true)),
                ChartSeries("PU21-PSNR identity", pts(\.pu21Psnr, false), dashed: true)
            ])
        let l1 = section(
            "Validation log-L1", yLabel: "log-L1",
            [
                ChartSeries("model", pts(\.logL1, true)), ChartSeries("identity", pts(\.logL1, false), dashed: true)
            ])
        return [psnr, l1]
    }

    var overflowIncidents: ReportSection {
        section(
            "Overflow incidents per step", yLabel: "patches", includeZero: true,
            note:
                "Patches with at least one output pixel that is non-finite, or above the overflow limit where "
                + "the target is not.",
            [series("incidents") { Double($0.overflowIncidents) }])
    }

    var overflowPixels: ReportSection {
        section(
            "Overflow pixels per step", yLabel: "pixels", includeZero: true,
            [series("pixels") { Double($0.overflowPixels) }])
    }

    var negativePixels: ReportSection {
        section(
            "Reconstruction below zero per step", yLabel: "elements", includeZero: true,
            note:
                "Elements whose exp(ln_hat) - eps fell below 0; the output holds them at 0 (no negative radiance), "
                + "with zero gradient there.",
            [series("elements") { Double($0.negativePixels) }])
    }

    var clampAndSaturation: ReportSection {
        section(
            "Clamp hits and tanh saturation", yLabel: "% of elements", includeZero: true,
            note: "Both kill gradients: a clamped element gets none, a saturated tanh almost none.",
            [series("clamp hit") { $0.clampHitRate * 100 }, series("saturation") { $0.saturationRate * 100 }],
            percent: true)
    }

    var delta: ReportSection {
        let keys = Set(monitor.flatMap { $0.deltaPercentiles.keys.map { $0 } })
        var s = [series("min", dashed: true) { $0.deltaMin }]
        for k in ["p1", "p50", "p99"] where keys.contains(k) { s.append(series(k) { $0.deltaPercentiles[k] }) }
        s.append(series("max", dashed: true) { $0.deltaMax })
        return section("Residual delta (after clamp)", yLabel: "log units", s)
    }

    var denom: ReportSection {
        section(
            "LogNorm denominator", yLabel: "log units",
            [
                series("mean") { $0.denomMean },
                series("mean - std", dashed: true) { $0.denomMean - $0.denomStd },
                series("mean + std", dashed: true) { $0.denomMean + $0.denomStd },
                series("min", dashed: true) { $0.denomMin }, series("max", dashed: true) { $0.denomMax }
            ])
    }

    var denomCV: ReportSection {
        section(
            "Denominator coefficient of variation", yLabel: "std / mean", includeZero: true,
            [series("CV") { $0.denomCV }])
    }

    var learnableScale: ReportSection {
        section("Learnable scale", yLabel: "scale", [series("scale") { $0.learnableScale }])
    }

    var gradNorm: ReportSection {
        section("Gradient norm (before clipping)", yLabel: "norm", logY: true, [series("grad norm") { $0.gradNorm }])
    }

    var collapse: ReportSection {
        section(
            "Collapse indicator", yLabel: "std of patch mean delta", includeZero: true,
            note:
                "Std over the batch of per-patch mean delta; staying below \(ReportText.number(RunStats.collapseThreshold)) "
                + "means the network ignores its input.",
            [series("collapse") { $0.collapse }])
    }
}
