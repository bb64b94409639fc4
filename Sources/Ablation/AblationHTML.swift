// comparison.html: one self-contained page (inline CSS and SVG, no script, no URL): the table, the claims with
// their verdicts in words and colour, and the variants' curves side by side.
import Foundation
import Reports

enum AblationHTML {
    static let style =
        ReportHTML.style.replacingOccurrences(of: "max-width:820px", with: "max-width:1100px") + """

            .claim{border-left:6px solid #888;padding:6px 12px;margin:10px 0;background:#f6f8fa}
            .supported,.helps{border-color:#009E73}.not-supported,.hurts{border-color:#D55E00}
            .above-the-claimed-range,.depends-on-the-point{border-color:#0072B2}
            .inconclusive,.not-measured,.not-measurable{border-color:#999}
            .scroll{overflow-x:auto}
            """

    static func css(_ verdict: String) -> String { verdict.replacingOccurrences(of: " ", with: "-") }

    static func render(_ c: AblationComparison) -> String {
        let h = ReportText.html
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        s += "<title>Ablation comparison</title>\n<style>\n\(style)\n</style>\n</head>\n<body>\n"
        s += "<h1>Ablation comparison</h1>\n"
        let claims = c.claimsAcrossPoints
        if !claims.isEmpty { s += "<h2>Claims</h2>\n" }
        for a in claims {
            // The verdict is written out: the colour only repeats it.
            s += "<div class=\"claim \(css(a.verdict.rawValue))\">\n"
            s += "<p><strong>\(h(a.name)): \(h(a.verdict.rawValue))</strong></p>\n"
            s += "<p class=\"note\">\(h(AblationText.claimSummary(a)))</p>\n</div>\n"
        }
        let grids = AblationText.stabilityGrids(c)
        let recommendations = AblationText.recommendations(c)
        for (i, glance) in AblationText.glance(c).enumerated() {
            s += "<h2>\(h(glance.title))</h2>\n"
            s += ReportHTML.table(
                glance.header, glance.rows,
                numeric: Set((glance.header.count - AblationText.glanceColumns.count)..<glance.header.count - 1))
            if let grid = grids.first(where: { $0.task == c.tasks[i] }) {
                s += "<h2>\(h(grid.title))</h2>\n<p class=\"note\">PSNR-mu gain over the identity and what went wrong, "
                s +=
                    "divergence and overflow incidents per 1000 patches, means over seeds; the colour repeats the words.</p>\n"
                s += "<figure>\n\(stabilityChart(grid))\n</figure>\n"
            }
            // The Markdown's **bold** spans become <strong>.
            let r = recommendations[i]
            let items = r.lines.map { line in
                "<li>"
                    + h(line).components(separatedBy: "**").enumerated()
                    .map { i, part in i % 2 == 1 ? "<strong>\(part)</strong>" : part }.joined() + "</li>"
            }
            s += "<h2>\(h(r.title))</h2>\n<ul>" + items.joined() + "</ul>\n"
        }
        if !claims.isEmpty { s += "<h2>Claims in detail</h2>\n" }
        for a in claims {
            s += "<div class=\"claim \(css(a.verdict.rawValue))\">\n"
            s += "<p><strong>\(h(a.name)): \(h(a.verdict.rawValue))</strong></p>\n"
            s += "<p>\(h(a.points[0].claim.statement))</p>\n</div>\n<div class=\"scroll\">\n"
            s += ReportHTML.table(AblationText.claimPointHeader, AblationText.claimPointRows(a), numeric: [2, 3])
            s += "</div>\n"
        }
        for g in c.groups { s += group(g, width: binWidth(c)) }
        s += "<h2>Runs</h2>\n" + ReportHTML.table(AblationText.runHeader, AblationText.runRows(c), numeric: [1])
        s +=
            "<h2>Definitions</h2>\n<ul class=\"note\">" + AblationText.definitions.map { "<li>\(h($0))</li>" }.joined()
            + "</ul>\n"
        return s + "</body>\n</html>\n"
    }

    /// How a stability-map cell reads: its fill and its second line.
    enum CellState: String, CaseIterable {
        case stable = "stable: no divergence, no incident"
        case incidents = "overflow incidents, no divergence"
        case saturated = "saturated: residual switched off"
        case someDiverged = "diverged in some seeds"
        case diverged = "diverged in every seed"
        case none = "no finished run"

        /// Okabe-Ito tints, light enough for black text.
        var fill: String {
            switch self {
            case .stable: "#bfe5d6"
            case .incidents: "#f6efa6"
            case .saturated: "#d8cde6"
            case .someDiverged: "#f3cf8f"
            case .diverged: "#eeac88"
            case .none: "#eeeeee"
            }
        }

        init(_ v: VariantSummary?) {
            guard let v, !v.runs.isEmpty else {
                self = .none
                return
            }
            let d = v.divergedRuns.count
            if d == v.runs.count {
                self = .diverged
            } else if d > 0 {
                self = .someDiverged
            } else {
                self = v.saturated ? .saturated : (v.overflowIncidents?.mean ?? 0) > 0 ? .incidents : .stable
            }
        }
    }

    /// The stability map as a grid: a row per variant, a column per sweep point; each cell its PSNR-mu gain and
    /// its state in words (diverged k of n from step s / incidents per 1000 patches from step s / no incident).
    static func stabilityChart(_ g: AblationText.StabilityGrid) -> String {
        let h = ReportText.html
        let labelW = 150.0
        let cellW = 170.0
        let cellH = 68.0
        let headH = 24.0
        let legendH = 22.0
        let width = labelW + cellW * Double(g.points.count)
        let height = headH + cellH * Double(g.variants.count) + 8 + legendH * 2
        let f = { (v: Double) in String(format: "%.1f", v) }
        var s = "<svg viewBox=\"0 0 \(f(width)) \(f(height))\" "
        s += "width=\"\(f(width))\" height=\"\(f(height))\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n"
        s += "<title>\(h(g.title))</title>\n"
        for (j, p) in g.points.enumerated() {
            let x = labelW + cellW * (Double(j) + 0.5)
            s += "<text x=\"\(f(x))\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">\(h(p.label))</text>\n"
        }
        for (i, variant) in g.variants.enumerated() {
            let y = headH + cellH * Double(i)
            s += "<text x=\"\(f(labelW - 8))\" y=\"\(f(y + cellH / 2 + 4))\" text-anchor=\"end\">\(h(variant))</text>\n"
            for (j, cell) in g.cells[i].enumerated() {
                let x = labelW + cellW * Double(j)
                let state = CellState(cell)
                s += "<rect x=\"\(f(x + 1))\" y=\"\(f(y + 1))\" width=\"\(f(cellW - 2))\" height=\"\(f(cellH - 2))\" "
                s += "fill=\"\(state.fill)\"/>\n"
                let lines = cellLines(cell)
                let cx = f(x + cellW / 2)
                s +=
                    "<text x=\"\(cx)\" y=\"\(f(y + 17))\" text-anchor=\"middle\" font-weight=\"bold\">\(h(lines[0]))</text>\n"
                for (k, line) in lines.dropFirst().enumerated() {
                    s +=
                        "<text x=\"\(cx)\" y=\"\(f(y + 32 + 13 * Double(k)))\" text-anchor=\"middle\" font-size=\"11\">"
                    s += "\(h(line))</text>\n"
                }
            }
        }
        // Legend: two rows of swatches.
        let top = headH + cellH * Double(g.variants.count) + 8
        for (k, state) in CellState.allCases.enumerated() {
            let x = 10 + Double(k % 3) * (width - 10) / 3
            let y = top + legendH * Double(k / 3)
            s +=
                "<rect x=\"\(f(x))\" y=\"\(f(y + 4))\" width=\"14\" height=\"12\" fill=\"\(state.fill)\" stroke=\"#999\"/>\n"
            s += "<text x=\"\(f(x + 20))\" y=\"\(f(y + 14))\" font-size=\"11\">\(h(state.rawValue))</text>\n"
        }
        return s + "</svg>"
    }

    /// "+2.60 dB"; "diverged 2 of 2 from step 150" or "no divergence"; "saturated 100%" when so;
    /// "211 inc/1000 from step 104" or "no incident".
    static func cellLines(_ v: VariantSummary?) -> [String] {
        guard let v, !v.runs.isEmpty else { return ["-", "no finished run"] }
        let gain = v.psnrMuGain.map { ReportText.signedDecibels($0.mean) } ?? "n/a"
        let d = v.divergedRuns
        let diverged =
            d.isEmpty
            ? "no divergence"
            : "diverged \(d.count) of \(v.runs.count) from step \(d.compactMap { $0.diverged?.step }.min()!)"
        // A diverged run ends saturated: the divergence says it all.
        let saturation =
            v.saturated && d.isEmpty ? ["saturated \(AblationText.percent(v.saturationRate!.mean))"] : []
        guard let inc = v.incidentsPer1000?.mean, inc > 0 else {
            return [gain, diverged] + saturation + ["no incident"]
        }
        let from = v.runs.compactMap(\.firstIncidentStep).min().map { " from step \($0)" } ?? ""
        return [gain, diverged] + saturation + ["\(AblationText.sig(inc)) inc/1000" + from]
    }

    /// One group's table, terms, claims and curves; under its own heading when it has a title.
    static func group(_ g: AblationGroup, width: Int) -> String {
        let h = ReportText.html
        let h2 = "h3"
        var s = "<h2>" + (g.title.isEmpty ? "All numbers" : "All numbers: \(h(g.title))") + "</h2>\n"
        s +=
            "<div class=\"scroll\">\n"
            + ReportHTML.table(
                AblationText.tableHeader(region: AblationText.region(g.table)), AblationText.tableRows(g.table),
                numeric: Set(2..<AblationText.tableHeader.count)) + "</div>\n"
        let terms = AblationText.termNames(g.table)
        if !terms.isEmpty {
            s += "<\(h2)>Final validation loss terms</\(h2)>\n"
            s += ReportHTML.table(["Variant"] + terms, AblationText.termRows(g.table), numeric: Set(1...terms.count))
        }
        s +=
            "<\(h2)>Validation PSNR-mu</\(h2)>\n<p class=\"note\">Model, mean over finished seeds at each validation step.</p>\n"
        s += figure(
            SVGChart(
                title: "Validation PSNR-mu", yLabel: "PSNR-mu (dB)",
                series: g.table.map { ChartSeries($0.variant, meanCurve($0.runs.map(\.valPsnrMu))) }))
        s += "<\(h2)>Overflow incidents per step</\(h2)>\n"
        s +=
            "<p class=\"note\">Training monitor, mean over seeds, averaged over bins of \(width) step\(width == 1 ? "" : "s").</p>\n"
        var incidents = SVGChart(
            title: "Overflow incidents per step", yLabel: "incidents / step",
            series: g.table.map { ChartSeries($0.variant, binnedIncidents($0.runs, width: width)) })
        incidents.includeZero = true
        s += figure(incidents)
        s +=
            "<\(h2)>Training loss</\(h2)>\n<p class=\"note\">Each variant's own total (terms differ), mean over seeds.</p>\n"
        s += figure(
            SVGChart(
                title: "Training loss", yLabel: "loss",
                series: g.table.map { ChartSeries($0.variant, meanCurve($0.runs.map(\.trainLoss))) }, logY: true))
        return s
    }

    static func figure(_ chart: SVGChart) -> String {
        var chart = chart
        chart.showTitle = false
        chart.width = 1000
        return "<figure>\n\(chart.render())\n</figure>\n"
    }

    /// Mean over the curves that have a point at each x; x in increasing order.
    static func meanCurve(_ curves: [[ChartPoint]]) -> [ChartPoint] {
        var sums: [Double: (Double, Int)] = [:]
        for curve in curves {
            for p in curve {
                let (s, n) = sums[p.x] ?? (0, 0)
                sums[p.x] = (s + p.y, n + 1)
            }
        }
        return sums.keys.sorted().map { x in ChartPoint(x, sums[x]!.0 / Double(sums[x]!.1)) }
    }

    /// About 100 bins over the longest run, so 10,000 steps of mostly zeros stay readable.
    static func binWidth(_ c: AblationComparison) -> Int {
        let last = c.groups.flatMap(\.table).flatMap { $0.runs.compactMap { $0.incidentsByStep.last?.step } }.max() ?? 1
        return max(1, (last + 99) / 100)
    }

    /// Incidents per step in bins of `width` steps (steps 1...width are bin 0), mean over runs; x = the bin's last step.
    static func binnedIncidents(_ runs: [AblationRunNumbers], width: Int) -> [ChartPoint] {
        guard !runs.isEmpty else { return [] }
        var bins: [Int: Double] = [:]
        for r in runs {
            for (step, n) in r.incidentsByStep { bins[(step - 1) / width, default: 0] += Double(n) }
        }
        return bins.keys.sorted().map { b in ChartPoint(Double((b + 1) * width), bins[b]! / Double(width * runs.count))
        }
    }
}
