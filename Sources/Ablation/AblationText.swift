// comparison.md and comparison.csv, and the table rows comparison.html shares with the Markdown.
import Foundation
import Reports

package enum AblationText {
    /// "0.08 +- 0.01"; std "n/a" with one seed, "n/a" overall when no finished run has the value.
    static func stat(_ s: SeedStats?, _ format: (Double) -> String = ReportText.number) -> String {
        guard let s else { return "n/a" }
        return format(s.mean) + " +- " + (s.std.map(format) ?? "n/a")
    }

    static func db(_ v: Double) -> String { String(format: "%.2f", v) }
    static func percent(_ v: Double) -> String { ReportText.percent(v) }

    /// The pixels the in-region columns cover in `table`'s runs: "clip", or the validation set's own ("holes").
    static func region(_ table: [VariantSummary]) -> String {
        table.lazy.flatMap(\.runs).compactMap(\.finalModel).first?.regionName ?? "clip"
    }

    static let tableHeader = tableHeader(region: "clip")

    static func tableHeader(region: String) -> [String] {
        [
            "Variant", "Seeds", "Val log-L1", "Val loss", "PSNR-mu, NTIRE (dB)", "PSNR-mu gain, NTIRE (dB)",
            "PU21-PSNR (dB)", "PU21 gain (dB)", "PSNR-mu gain in \(region) (dB)", "PU21 gain in \(region) (dB)",
            "Shape in \(region) (r)", "Overflow incidents",
            "Incidents / 1000 patches",
            "Overflow pixels", "Pixels / 1000 patches", "Clamp-hit (last 10%)",
            "Saturation (last 10%)", "Learnable scale", "Wall (s)", "Steps/s", "Diverged"
        ]
    }

    static func tableRows(_ table: [VariantSummary]) -> [[String]] {
        table.map { v in
            [
                v.variant, v.runs.isEmpty ? "none" : v.seeds.map(String.init).joined(separator: ", "),
                stat(v.valLogL1), stat(v.valLoss), stat(v.psnrMu, db), stat(v.psnrMuGain, db), stat(v.pu21Psnr, db),
                stat(v.pu21PsnrGain, db), stat(v.psnrMuClipGain, db), stat(v.pu21PsnrClipGain, db),
                stat(v.logCorrClip, { String(format: "%.3f", $0) }), stat(v.overflowIncidents),
                stat(v.incidentsPer1000), stat(v.overflowPixels),
                stat(v.pixelsPer1000), stat(v.clampHitRate, percent), stat(v.saturationRate, percent),
                v.learnableScale == nil ? "fixed" : stat(v.learnableScale), stat(v.wallSeconds), stat(v.stepsPerSecond),
                divergedText(v)
            ]
        }
    }

    /// Three significant digits: the compact tables' precision (the full tables and the CSV keep more).
    static func sig(_ v: Double) -> String { ReportText.number(v, digits: 3) }

    /// The lead table's columns after the variant (and the sweep point when there are several).
    static let glanceColumns = glanceColumns(region: "clip")

    static func glanceColumns(region: String) -> [String] {
        [
            "PSNR-mu gain, NTIRE (dB)", "PU21 gain (dB)", "PSNR-mu gain in \(region) (dB)", "Val log-L1",
            "Incidents / 1000 patches", "First incident step", "Diverged"
        ]
    }

    /// Per task, a table a reader takes in at a glance: one row per variant and sweep point (variant-major), the
    /// key numbers as means over seeds with 3 significant digits (dB with 2 decimals); the spread is in the full
    /// tables below.
    static func glance(_ c: AblationComparison) -> [(title: String, header: [String], rows: [[String]])] {
        c.tasks.map { task in
            let groups = c.groups.filter { $0.task == task }
            let swept = groups.contains { !$0.point.settings.isEmpty }
            let keys = Set(groups.flatMap { $0.point.settings.map(\.key) })
            let oneAxis = keys.count == 1 && groups.allSatisfy { $0.point.settings.count == 1 }
            let pointHeader = oneAxis ? keys.first! : "Sweep point"
            let variants = groups[0].table.map(\.variant)
            var rows: [[String]] = []
            for v in variants {
                for g in groups {
                    guard let row = g.table.first(where: { $0.variant == v }) else { continue }
                    var cells = [v]
                    if swept { cells.append(oneAxis ? g.point.settings[0].value : g.point.label) }
                    cells += glanceCells(row)
                    rows.append(cells)
                }
            }
            let title = "At a glance" + (task.map { ": task \($0)" } ?? "")
            let columns = glanceColumns(region: region(groups.flatMap(\.table)))
            return (title, ["Variant"] + (swept ? [pointHeader] : []) + columns, rows)
        }
    }

    static func glanceCells(_ v: VariantSummary) -> [String] {
        guard !v.runs.isEmpty else { return ["no finished run"] + Array(repeating: "", count: glanceColumns.count - 1) }
        let d = v.divergedRuns
        let diverged =
            d.isEmpty
            ? "no" : "\(d.count) of \(v.runs.count), from step \(d.compactMap { $0.diverged?.step }.min()!)"
        return [
            v.psnrMuGain.map { String(format: "%+.2f", $0.mean) } ?? "n/a",
            v.pu21PsnrGain.map { String(format: "%+.2f", $0.mean) } ?? "n/a",
            v.psnrMuClipGain.map { String(format: "%+.2f", $0.mean) } ?? "n/a",
            v.valLogL1.map { sig($0.mean) } ?? "n/a",
            v.incidentsPer1000.map { sig($0.mean) } ?? "n/a",
            v.runs.compactMap(\.firstIncidentStep).min().map(String.init) ?? "-",
            diverged
        ]
    }

    /// One task's stability map: variants x sweep points, each cell the variant's row at that point.
    struct StabilityGrid {
        var task: String?
        var title: String
        var points: [AblationPlan.Point]
        var variants: [String]
        /// cells[variant][point]; nil where the variant has no row at the point.
        var cells: [[VariantSummary?]]
    }

    /// Per task with more than one sweep point: rows are variants, columns the points, in plan order.
    static func stabilityGrids(_ c: AblationComparison) -> [StabilityGrid] {
        c.tasks.compactMap { task in
            let groups = c.groups.filter { $0.task == task }
            guard groups.count > 1 else { return nil }
            let variants = groups[0].table.map(\.variant)
            return StabilityGrid(
                task: task, title: "Stability map" + (task.map { ": task \($0)" } ?? ""), points: groups.map(\.point),
                variants: variants,
                cells: variants.map { v in groups.map { g in g.table.first { $0.variant == v } } })
        }
    }

    static func stabilityMaps(
        _ c: AblationComparison
    ) -> [(
        task: String?, title: String, header: [String], rows: [[String]]
    )] {
        stabilityGrids(c).map { g in
            let rows = zip(g.variants, g.cells).map { v, cells in [v] + cells.map { $0.map(stabilityCell) ?? "-" } }
            return (g.task, g.title, ["Variant"] + g.points.map(\.label), rows)
        }
    }

    /// "+0.52 dB, 0 inc/1000" / "diverged 2 of 2 (step 50, 40), 7.8 inc/1000 from step 12", means over seeds.
    static func stabilityCell(_ v: VariantSummary) -> String {
        guard !v.runs.isEmpty else { return "no finished run" }
        var parts: [String] = []
        let d = v.divergedRuns
        if !d.isEmpty {
            parts.append(
                "diverged \(d.count) of \(v.runs.count) (step "
                    + d.map { String($0.diverged!.step) }.joined(separator: ", ") + ")")
        }
        if let gain = v.psnrMuGain?.mean { parts.append(ReportText.signedDecibels(gain)) }
        if v.saturated && d.isEmpty { parts.append("saturated \(percent(v.saturationRate!.mean))") }
        if let inc = v.incidentsPer1000?.mean {
            var s = "\(sig(inc)) inc/1000"
            if let first = v.runs.compactMap(\.firstIncidentStep).min() { s += " from step \(first)" }
            parts.append(s)
        }
        return parts.joined(separator: ", ")
    }

    /// Per task: the variant and sweep points to use (stable: no diverged run and no overflow incident, then the
    /// best mean PSNR-mu gain), and for every other variant what it failed on, with the numbers.
    static func recommendations(_ c: AblationComparison) -> [(title: String, lines: [String])] {
        return c.tasks.map { task in
            let groups = c.groups.filter { $0.task == task }
            let title = "Recommendation" + (task.map { ": task \($0)" } ?? "")
            func stable(_ v: VariantSummary) -> Bool {
                !v.runs.isEmpty && v.divergedRuns.isEmpty && !v.saturated && (v.overflowIncidents?.mean ?? 0) == 0
            }
            let variants = groups[0].table.map(\.variant)
            let at = { (g: AblationGroup) in g.point.settings.isEmpty ? "" : " at \(g.point.label)" }
            var best: (variant: String, group: AblationGroup, gain: Double)?
            for g in groups {
                for v in g.table where stable(v) {
                    if let gain = v.psnrMuGain?.mean, gain > (best?.gain ?? -.infinity) { best = (v.variant, g, gain) }
                }
            }
            guard let best else {
                return (
                    title,
                    ["No variant stayed stable (no divergence, no saturation, no overflow incident) at any point."]
                )
            }
            let stablePoints = groups.filter { g in g.table.first { $0.variant == best.variant }.map(stable) ?? false }
            var lines = [
                "Use **\(best.variant)**\(at(best.group)): PSNR-mu gain \(ReportText.signedDecibels(best.gain)) over the "
                    + "identity, no divergence, no saturation, no overflow incident"
                    + (groups.count > 1
                        ? "; stable at " + stablePoints.map(\.point.label).joined(separator: ", ") + "." : ".")
            ]
            for name in variants where name != best.variant {
                let rows = groups.compactMap { g in g.table.first { $0.variant == name }.map { (g, $0) } }
                let finished = rows.filter { !$0.1.runs.isEmpty }
                if finished.isEmpty {
                    lines.append("\(name): no finished run.")
                    continue
                }
                if let (g, v) = finished.filter({ stable($0.1) }).max(by: {
                    ($0.1.psnrMuGain?.mean ?? -.infinity) < ($1.1.psnrMuGain?.mean ?? -.infinity)
                }) {
                    lines.append(
                        "\(name): rejected on quality: best stable gain "
                            + "\(v.psnrMuGain.map { ReportText.signedDecibels($0.mean) } ?? "n/a")\(at(g)).")
                    continue
                }
                // Never stable: the first failure in point order.
                let (g, v) = finished[0]
                if let d = v.divergedRuns.first?.diverged {
                    lines.append("\(name): rejected: diverged at step \(d.step)\(at(g)) (\(d.reason)).")
                } else if v.saturated {
                    lines.append(
                        "\(name): rejected: saturated\(at(g)), \(percent(v.saturationRate!.mean)) of tanh outputs over "
                            + "the last 10% of steps" + (v.learnableScale.map { ", scale \(sig($0.mean))" } ?? "") + "."
                    )
                } else {
                    let first = v.runs.compactMap(\.firstIncidentStep).min().map { " from step \($0)" } ?? ""
                    lines.append(
                        "\(name): rejected: overflow\(first)\(at(g)), "
                            + "\(v.incidentsPer1000.map { sig($0.mean) } ?? "n/a") incidents per 1000 patches."
                    )
                }
            }
            return (title, lines)
        }
    }

    /// "0 of 2", or "1 of 2 (seed 1 at step 50)".
    static func divergedText(_ v: VariantSummary) -> String {
        let d = v.divergedRuns
        var s = "\(d.count) of \(v.runs.count)"
        if !d.isEmpty {
            s += " (" + d.map { "seed \($0.seed) at step \($0.diverged!.step)" }.joined(separator: ", ") + ")"
        }
        return s
    }

    /// Every term any variant logged, sorted; a variant without the term shows "-".
    static func termNames(_ table: [VariantSummary]) -> [String] {
        Set(table.flatMap { $0.valTerms.map(\.name) }).sorted()
    }

    static func termRows(_ table: [VariantSummary]) -> [[String]] {
        let names = termNames(table)
        return table.map { v in
            let terms = Dictionary(v.valTerms.map { ($0.name, $0.stats) }, uniquingKeysWith: { a, _ in a })
            return [v.variant] + names.map { terms[$0].map { stat($0) } ?? "-" }
        }
    }

    /// Reductions as percentages, differences in the measure's unit.
    static func effectFormat(_ cl: Claim) -> (Double) -> String {
        cl.spec.effect == .reduction ? { percent($0) } : { ReportText.number($0, digits: 3) }
    }

    /// "90% +- 3.7%", or "90% (one seed)"; "not measured" when the point did not allow the comparison.
    static func effect(_ cl: Claim) -> String {
        guard let m = cl.measured else { return "not measured" }
        return m.std == nil ? effectFormat(cl)(m.mean) + " (one seed)" : stat(m, effectFormat(cl))
    }

    package static func claimMeasured(_ cl: Claim) -> String {
        guard let m = cl.measured else { return "not measured" }
        let format = effectFormat(cl)
        return "\(stat(m, format)) (n = \(m.n)); per seed: " + cl.perSeed.map(format).joined(separator: ", ")
    }

    /// One claim over the sweep in a sentence: each verdict with the points it holds at and the effect there,
    /// then where it could not be measured and why (points with the same reason together). Without tasks and
    /// axes (one unnamed point) the point names go.
    package static func claimSummary(_ a: ClaimAcrossPoints) -> String {
        let named = a.points.contains { !$0.title.isEmpty }
        let measurable = a.measurable
        var unmeasurable: [(reason: String, titles: [String])] = []
        for p in a.points where p.claim.verdict == .notMeasurable {
            if let i = unmeasurable.firstIndex(where: { $0.reason == p.claim.note }) {
                unmeasurable[i].titles.append(p.title)
            } else {
                unmeasurable.append((p.claim.note, [p.title]))
            }
        }
        let why = unmeasurable.map { named ? $0.titles.joined(separator: " and ") + ": " + $0.reason : $0.reason }
            .joined(separator: "; ")
        guard !measurable.isEmpty else {
            return (named ? "Not measurable at any of the \(a.points.count) points (" : "Not measurable (") + why + ")."
        }
        var parts: [String] = []
        for v in Claim.Verdict.allCases where v != .notMeasurable {
            let these = measurable.filter { $0.claim.verdict == v }
            guard !these.isEmpty else { continue }
            let effects = these.map { named ? "\($0.title): \(effect($0.claim))" : effect($0.claim) }
            parts.append(
                v.rawValue + (named ? " at \(these.count)" : "") + " (" + effects.joined(separator: "; ") + ")")
        }
        var s =
            named
            ? "At the \(measurable.count) of \(a.points.count) points where it is measurable: " : ""
        s += parts.joined(separator: "; ") + "."
        if !named { s = s.prefix(1).uppercased() + s.dropFirst() }
        let n = unmeasurable.reduce(0) { $0 + $1.titles.count }
        if n > 0 { s += " Not measurable at \(n) (" + why + ")." }
        return s
    }

    static let claimPointHeader = ["Point", "Verdict", "Effect", "Per seed", "Note"]

    static func claimPointRows(_ a: ClaimAcrossPoints) -> [[String]] {
        a.points.map { p in
            let format = effectFormat(p.claim)
            return [
                p.title.isEmpty ? "all runs" : p.title, p.claim.verdict.rawValue, effect(p.claim),
                p.claim.perSeed.map(format).joined(separator: ", "), p.claim.note
            ]
        }
    }

    static let runHeader = ["Variant", "Seed", "Status", "Directory"]

    static func runRows(_ c: AblationComparison) -> [[String]] {
        c.runs.map { r in
            let status: String
            switch r.status {
            case .finished: status = "finished"
            case .failed(let e): status = "failed: " + e
            case .missing: status = "missing"
            }
            return [r.variant, String(r.seed), status, r.dir]
        }
    }

    static let definitions = [
        "Mean +- sample std (n - 1) over finished seeds; std n/a with one seed. The at-a-glance tables show the "
            + "means only, with 3 significant digits (dB with 2 decimals); the full tables and the CSV have the spread.",
        "Validation: each run's last val record. Gains are model minus identity on the same patches.",
        "Overflow: training monitor summed over all steps; per 1000 patches = 1000 x total / patches seen.",
        "Clamp-hit and saturation: mean over the last 10% of steps. Learnable scale: the last step's (fixed when not learnable).",
        "Wall time: the last train record's; steps/s = its step / its wall time.",
        "Diverged: a non-finite training loss, or a validation PSNR-mu more than monitor.divergence_margin_db below "
            + "the identity's. Saturated: at least 90% of tanh outputs saturated over the last 10% of steps (mean over "
            + "seeds): the residual is switched off, the output is the input. Stability map: per sweep point, diverged "
            + "runs, PSNR-mu gain over the identity, saturation, and overflow incidents per 1000 patches (means over "
            + "seeds) with the first step with an incident. Stable (for the recommendation): no diverged run, not "
            + "saturated, no overflow incident.",
        "Verdicts at a point: supported when every seed's effect lies in the claimed range; above the claimed range "
            + "when the mean lies above it and so do all but at most one seed (the direction holds, the size does "
            + "not); not supported likewise below it; otherwise inconclusive. Effects are paired by seed when both "
            + "variants finished the same seeds. Direction-only claims (effect > 0): helps / hurts / inconclusive by "
            + "the same rule.",
        "Where a claim is measurable: both variants have finished runs; a reduction needs a baseline above 0 (the "
            + "overflow claim is measured where the baseline overflows); a validation measure needs both variants "
            + "without a diverged run and not saturated (the quality of a diverged run, or of a residual switched "
            + "off, is no quality). Over the sweep: the verdict of "
            + "the measurable points when they agree, \"depends on the point\" when they do not, \"not measured\" "
            + "when no point allows the comparison."
    ]

    static func markdown(_ c: AblationComparison) -> String {
        var s = "# Ablation comparison\n\n"
        let claims = c.claimsAcrossPoints
        if !claims.isEmpty {
            s += "## Claims\n\n"
            s += claims.map { "- **\($0.name): \($0.verdict.rawValue).** " + claimSummary($0) }.joined(separator: "\n")
            s += "\n\n"
        }
        let maps = stabilityMaps(c)
        let recommendations = recommendations(c)
        for (i, glance) in glance(c).enumerated() {
            s += "## \(glance.title)\n\n" + ReportText.markdownTable(glance.header, glance.rows) + "\n\n"
            if let map = maps.first(where: { $0.task == c.tasks[i] }) {
                s += "## \(map.title)\n\n" + ReportText.markdownTable(map.header, map.rows) + "\n\n"
            }
            let r = recommendations[i]
            s += "## \(r.title)\n\n" + r.lines.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        }
        if !claims.isEmpty { s += "## Claims in detail\n\n" }
        for a in claims {
            s += "### \(a.name): **\(a.verdict.rawValue)**\n\n\(a.points[0].claim.statement)\n\n"
            s += ReportText.markdownTable(claimPointHeader, claimPointRows(a)) + "\n\n"
        }
        for g in c.groups {
            s += "## " + (g.title.isEmpty ? "All numbers" : "All numbers: \(g.title)") + "\n\n"
            s += ReportText.markdownTable(tableHeader(region: region(g.table)), tableRows(g.table)) + "\n\n"
            if !termNames(g.table).isEmpty {
                s +=
                    "### Final validation loss terms\n\n"
                    + ReportText.markdownTable(["Variant"] + termNames(g.table), termRows(g.table)) + "\n\n"
            }
        }
        s += "## Runs\n\n" + ReportText.markdownTable(runHeader, runRows(c)) + "\n\n"
        s += "## Definitions\n\n" + definitions.map { "- " + $0 }.joined(separator: "\n") + "\n"
        return s
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Full precision (Swift's shortest round-trip form) so a spreadsheet recomputes exactly what the page shows.
    static func csvColumns(_ table: [VariantSummary]) -> [(name: String, value: (VariantSummary) -> SeedStats?)] {
        var cols: [(name: String, value: (VariantSummary) -> SeedStats?)] = [
            ("val_log_l1", \.valLogL1), ("val_loss", \.valLoss), ("val_psnr_mu_db", \.psnrMu),
            ("val_psnr_mu_gain_db", \.psnrMuGain), ("val_pu21_psnr_db", \.pu21Psnr),
            ("val_pu21_psnr_gain_db", \.pu21PsnrGain), ("val_psnr_mu_clip_gain_db", \.psnrMuClipGain),
            ("val_pu21_psnr_clip_gain_db", \.pu21PsnrClipGain), ("val_log_corr_clip", \.logCorrClip),
            ("overflow_incidents_total", \.overflowIncidents),
            ("overflow_incidents_per_1000_patches", \.incidentsPer1000),
            ("overflow_pixels_total", \.overflowPixels), ("overflow_pixels_per_1000_patches", \.pixelsPer1000),
            ("clamp_hit_rate_fraction", \.clampHitRate), ("saturation_rate_fraction", \.saturationRate),
            ("learnable_scale", \.learnableScale), ("wall_seconds", \.wallSeconds),
            ("steps_per_second", \.stepsPerSecond)
        ]
        for n in termNames(table) {
            cols.append(("val_term_\(n)", { v in v.valTerms.first { $0.name == n }?.stats }))
        }
        return cols
    }

    static func csv(_ c: AblationComparison) -> String {
        let cols = csvColumns(c.groups.flatMap(\.table))
        var header = ["task", "point", "variant", "finished_runs", "failed_runs", "missing_runs", "diverged_runs"]
        for col in cols { header += [col.name + "_mean", col.name + "_std"] }
        var lines = [header.map(csvField).joined(separator: ",")]
        for g in c.groups {
            for v in g.table {
                var row = [
                    g.task ?? "", g.point.label, v.variant, String(v.runs.count), String(v.failed.count),
                    String(v.missingSeeds.count), String(v.divergedRuns.count)
                ]
                for col in cols {
                    let s = col.value(v)
                    row += [s.map { "\($0.mean)" } ?? "n/a", s?.std.map { "\($0)" } ?? "n/a"]
                }
                lines.append(row.map(csvField).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
