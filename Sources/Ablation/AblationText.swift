// comparison.md and comparison.csv, and the table rows comparison.html shares with the Markdown.
import Foundation
import Reports

public enum AblationText {
    /// "0.08 +- 0.01"; std "n/a" with one seed, "n/a" overall when no finished run has the value.
    static func stat(_ s: SeedStats?, _ format: (Double) -> String = ReportText.number) -> String {
        guard let s else { return "n/a" }
        return format(s.mean) + " +- " + (s.std.map(format) ?? "n/a")
    }

    static func db(_ v: Double) -> String { String(format: "%.2f", v) }
    static func percent(_ v: Double) -> String { ReportText.percent(v) }

    static let tableHeader = [
        "Variant", "Seeds", "Val log-L1", "Val loss", "PSNR-mu (dB)", "PSNR-mu gain (dB)",
        "PU21-PSNR (dB)", "PU21 gain (dB)", "Overflow incidents", "Incidents / 1000 patches",
        "Overflow pixels", "Pixels / 1000 patches", "Clamp-hit (last 10%)",
        "Saturation (last 10%)", "Learnable scale", "Wall (s)", "Steps/s", "Diverged"
    ]

    static func tableRows(_ table: [VariantSummary]) -> [[String]] {
        table.map { v in
            [
                v.variant, v.runs.isEmpty ? "none" : v.seeds.map(String.init).joined(separator: ", "),
                stat(v.valLogL1), stat(v.valLoss), stat(v.psnrMu, db), stat(v.psnrMuGain, db), stat(v.pu21Psnr, db),
                stat(v.pu21PsnrGain, db), stat(v.overflowIncidents), stat(v.incidentsPer1000), stat(v.overflowPixels),
                stat(v.pixelsPer1000), stat(v.clampHitRate, percent), stat(v.saturationRate, percent),
                v.learnableScale == nil ? "fixed" : stat(v.learnableScale), stat(v.wallSeconds), stat(v.stepsPerSecond),
                divergedText(v)
            ]
        }
    }

    /// Per task with more than one sweep point: rows are variants, columns the points, in plan order.
    static func stabilityMaps(_ c: AblationComparison) -> [(title: String, header: [String], rows: [[String]])] {
        return c.tasks.compactMap { task in
            let groups = c.groups.filter { $0.task == task }
            guard groups.count > 1 else { return nil }
            let variants = groups[0].table.map(\.variant)
            let rows = variants.map { v in
                [v] + groups.map { g in g.table.first { $0.variant == v }.map(stabilityCell) ?? "-" }
            }
            return (
                "Stability map" + (task.map { ": task \($0)" } ?? ""), ["Variant"] + groups.map(\.point.label), rows
            )
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
        if let inc = v.incidentsPer1000?.mean {
            var s = "\(ReportText.number(inc)) inc/1000"
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
                !v.runs.isEmpty && v.divergedRuns.isEmpty && (v.overflowIncidents?.mean ?? 0) == 0
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
                return (title, ["No variant stayed stable (no divergence, no overflow incident) at any point."])
            }
            let stablePoints = groups.filter { g in g.table.first { $0.variant == best.variant }.map(stable) ?? false }
            var lines = [
                "Use **\(best.variant)**\(at(best.group)): PSNR-mu gain \(ReportText.signedDecibels(best.gain)) over the "
                    + "identity, no divergence, no overflow incident"
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
                } else {
                    let first = v.runs.compactMap(\.firstIncidentStep).min().map { " from step \($0)" } ?? ""
                    lines.append(
                        "\(name): rejected: overflow\(first)\(at(g)), "
                            + "\(v.incidentsPer1000.map { ReportText.number($0.mean) } ?? "n/a") incidents per 1000 patches."
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
    public static func claimMeasured(_ cl: Claim) -> String {
        guard let m = cl.measured else { return "not measured" }
        let asPercent = cl.spec.effect == .reduction
        let format = { (v: Double) -> String in asPercent ? percent(v) : ReportText.number(v) }
        return "\(stat(m, format)) (n = \(m.n)); per seed: " + cl.perSeed.map(format).joined(separator: ", ")
    }

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
        "Mean +- sample std (n - 1) over finished seeds; std n/a with one seed.",
        "Validation: each run's last val record. Gains are model minus identity on the same patches.",
        "Overflow: training monitor summed over all steps; per 1000 patches = 1000 x total / patches seen.",
        "Clamp-hit and saturation: mean over the last 10% of steps. Learnable scale: the last step's (fixed when not learnable).",
        "Wall time: the last train record's; steps/s = its step / its wall time.",
        "Diverged: a non-finite training loss, or a validation PSNR-mu more than monitor.divergence_margin_db below "
            + "the identity's. Stability map: per sweep point, diverged runs, PSNR-mu gain over the identity and "
            + "overflow incidents per 1000 patches (means over seeds), and the first step with an incident.",
        "Verdicts: supported when every seed's effect lies in the claimed range; not supported when the mean lies "
            + "outside it and so do all but at most one seed; otherwise inconclusive. Effects are paired by seed when "
            + "both variants finished the same seeds. Direction-only claims (effect > 0): helps / hurts / inconclusive "
            + "by the same rule."
    ]

    static func markdown(_ c: AblationComparison) -> String {
        var s = "# Ablation comparison\n\n"
        for map in stabilityMaps(c) {
            s += "## \(map.title)\n\n" + ReportText.markdownTable(map.header, map.rows) + "\n\n"
        }
        for g in c.groups {
            // One group (no tasks, no axes) keeps the plain layout; several get a section each.
            let h = g.title.isEmpty ? "##" : "###"
            if !g.title.isEmpty { s += "## \(g.title)\n\n" }
            s += ReportText.markdownTable(tableHeader, tableRows(g.table)) + "\n\n"
            if !termNames(g.table).isEmpty {
                s +=
                    "\(h) Final validation loss terms\n\n"
                    + ReportText.markdownTable(["Variant"] + termNames(g.table), termRows(g.table)) + "\n\n"
            }
            if !g.claims.isEmpty { s += "\(h) Claims\n\n" }
            for cl in g.claims {
                s += "\(h)# \(cl.name): **\(cl.verdict.rawValue)**\n\n\(cl.statement)\n\n"
                s += "Measured: \(claimMeasured(cl))\(cl.note.isEmpty ? "" : " (" + cl.note + ")").\n\n"
            }
        }
        for r in recommendations(c) {
            s += "## \(r.title)\n\n" + r.lines.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        }
        s += "## Runs\n\n" + ReportText.markdownTable(["Variant", "Seed", "Status", "Directory"], runRows(c)) + "\n\n"
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
            ("val_pu21_psnr_gain_db", \.pu21PsnrGain),
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
