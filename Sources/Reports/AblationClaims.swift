// The strategy's claims (docs/conventions.md, "The residual-scaling strategy"), each checked against the ablation
// table with its spread over seeds and a plain verdict.
import Foundation

public struct Claim: Sendable {
    public enum Verdict: String, Sendable, Equatable {
        case supported = "supported"
        case notSupported = "not supported"
        case inconclusive = "inconclusive"
        /// Phase 3 losses make no numeric claim ("may help further"): only a direction.
        case helps = "helps"
        case hurts = "hurts"
    }

    public var name: String
    /// What the strategy claims, and on which measure it is checked.
    public var statement: String
    /// The effect over seeds (a fraction for reductions); nil when it could not be measured.
    public var measured: SeedStats?
    /// Each seed's effect, in seed order (paired) or the treated variant's seed order (unpaired).
    public var perSeed: [Double]
    public var verdict: Verdict
    /// Why the verdict is what it is: paired or not, missing runs, weak evidence.
    public var note: String
}

/// Verdict rule, one for every claim, for an effect claimed to lie in `range` (open ends for direction-only claims):
/// - supported: every seed's effect lies in the range;
/// - not supported: the mean lies outside the range and at least all but one seed's effect too
///   (with a single seed that is the one seed: the evidence is weak, and the note says so);
/// - otherwise inconclusive.
/// Effects are per-seed paired differences when both variants finished the same seeds; otherwise each treated
/// seed is compared with the baseline's mean over its seeds (unpaired), and the note says so.
enum ClaimRule {
    static func verdict(_ effects: [Double], in range: ClosedRange<Double>) -> Claim.Verdict {
        guard let s = SeedStats(effects) else { return .inconclusive }
        if effects.allSatisfy(range.contains) { return .supported }
        let outside = effects.filter { !range.contains($0) }.count
        if !range.contains(s.mean) && outside >= effects.count - 1 { return .notSupported }
        return .inconclusive
    }

    /// Per-seed effects `effect(treated, baseline)`; nil effects (a value a run lacks) are dropped.
    static func effects(
        _ treated: VariantSummary, _ baseline: VariantSummary,
        _ value: (AblationRunNumbers) -> Double?, _ effect: (Double, Double) -> Double?
    )
        -> (values: [Double], paired: Bool)
    {
        if treated.seeds == baseline.seeds {
            let v = zip(treated.runs, baseline.runs).compactMap { t, b in
                value(t).flatMap { tv in value(b).flatMap { effect(tv, $0) } }
            }
            return (v, true)
        }
        guard let base = baseline.stat(value)?.mean else { return ([], false) }
        return (treated.runs.compactMap { t in value(t).flatMap { effect($0, base) } }, false)
    }
}

enum AblationClaims {
    static let legacy = "legacy_mode_a", phase1 = "phase1", learnable = "learnable"

    static func all(_ table: [VariantSummary]) -> [Claim] {
        let byName = Dictionary(table.map { ($0.variant, $0) }, uniquingKeysWith: { a, _ in a })
        var claims = [overflow(byName[phase1], byName[legacy]), validationLoss(byName[learnable], byName[phase1])]
        let phase3 = table.map(\.variant).filter { $0.hasPrefix("phase3_") }
        if phase3.isEmpty {
            claims.append(
                Claim(
                    name: "Phase 3 losses", statement: "Phase 3 losses (histogram, moment, sparsity) may help further.",
                    measured: nil, perSeed: [], verdict: .inconclusive, note: "no phase3_* variant in the ablation"))
        }
        for v in phase3 { claims.append(phase3Loss(byName[v]!, byName[learnable])) }
        return claims
    }

    /// "missing: phase1 (no finished run)" when a side has nothing to compare.
    static func missing(_ pairs: [(String, VariantSummary?)]) -> String? {
        let gone = pairs.filter { $0.1?.runs.isEmpty ?? true }.map { name, v -> String in
            guard let v else { return "\(name) (not in the ablation)" }
            var why: [String] = []
            if !v.failed.isEmpty {
                why.append("failed seeds \(v.failed.map { String($0.seed) }.joined(separator: ", "))")
            }
            if !v.missingSeeds.isEmpty {
                why.append("missing seeds \(v.missingSeeds.map(String.init).joined(separator: ", "))")
            }
            return "\(name) (no finished run\(why.isEmpty ? "" : ": " + why.joined(separator: "; ")))"
        }
        return gone.isEmpty ? nil : "missing runs: " + gone.joined(separator: ", ")
    }

    /// A mean beyond the range's top beats the claim's number yet contradicts it: the rule says so, the note says which.
    static func note(paired: Bool, n: Int, mean: Double? = nil, range: ClosedRange<Double>? = nil) -> String {
        var s = paired ? "paired by seed" : "unpaired: seeds differ, each seed against the baseline's mean"
        if n == 1 { s += "; one seed only, the evidence is weak" }
        if let mean, let range, mean > range.upperBound {
            s += "; the mean is above the claimed range (a larger effect than claimed)"
        }
        return s
    }

    static func overflow(_ p1: VariantSummary?, _ legacy: VariantSummary?) -> Claim {
        let statement =
            "Phase 1 has 80-95% fewer overflow incidents than legacy Mode A "
            + "(reduction = 1 - incidents per 1000 patches of phase1 / of legacy_mode_a, training monitor)."
        var c = Claim(
            name: "Overflow incidents: phase1 vs legacy_mode_a", statement: statement, measured: nil, perSeed: [],
            verdict: .inconclusive, note: "")
        if let m = missing([(phase1, p1), (Self.legacy, legacy)]) {
            c.note = m
            return c
        }
        let (p1, legacy) = (p1!, legacy!)
        if legacy.runs.contains(where: { ($0.incidentsPer1000 ?? 0) == 0 }) {
            c.note =
                "no incidents to reduce: legacy_mode_a had 0 overflow incidents in "
                + (legacy.runs.allSatisfy { ($0.incidentsPer1000 ?? 0) == 0 } ? "every run" : "some runs")
            return c
        }
        let e = ClaimRule.effects(p1, legacy, \.incidentsPer1000) { t, b in 1 - t / b }
        c.perSeed = e.values
        c.measured = SeedStats(e.values)
        c.verdict = ClaimRule.verdict(e.values, in: 0.80...0.95)
        c.note = note(paired: e.paired, n: e.values.count, mean: c.measured?.mean, range: 0.80...0.95)
        return c
    }

    static func validationLoss(_ learn: VariantSummary?, _ p1: VariantSummary?) -> Claim {
        let statement =
            "A learnable output scale gives 5-10% lower validation loss than Phase 1. Loss totals differ "
            + "by their terms, so the common measure is validation log-L1: change = 1 - log_l1(learnable) / log_l1(phase1)."
        var c = Claim(
            name: "Validation loss: learnable vs phase1", statement: statement, measured: nil, perSeed: [],
            verdict: .inconclusive, note: "")
        if let m = missing([(learnable, learn), (phase1, p1)]) {
            c.note = m
            return c
        }
        let e = ClaimRule.effects(learn!, p1!, { $0.finalModel?.logL1 }) { t, b in b > 0 ? 1 - t / b : nil }
        c.perSeed = e.values
        c.measured = SeedStats(e.values)
        c.verdict = ClaimRule.verdict(e.values, in: 0.05...0.10)
        c.note =
            note(paired: e.paired, n: e.values.count, mean: c.measured?.mean, range: 0.05...0.10)
            + psnrNote(learn!, p1!)
        return c
    }

    /// Direction only: "helps" when every seed lowers log-L1, "hurts" by the not-supported rule, else inconclusive.
    static func phase3Loss(_ v: VariantSummary, _ learn: VariantSummary?) -> Claim {
        let statement =
            "\(v.variant) may help further: validation log-L1 reduction vs learnable "
            + "(1 - log_l1(\(v.variant)) / log_l1(learnable)) is > 0."
        var c = Claim(
            name: "Phase 3: \(v.variant) vs learnable", statement: statement, measured: nil, perSeed: [],
            verdict: .inconclusive, note: "")
        if let m = missing([(v.variant, v), (learnable, learn)]) {
            c.note = m
            return c
        }
        let e = ClaimRule.effects(v, learn!, { $0.finalModel?.logL1 }) { t, b in b > 0 ? 1 - t / b : nil }
        c.perSeed = e.values
        c.measured = SeedStats(e.values)
        switch ClaimRule.verdict(e.values, in: Double.leastNonzeroMagnitude...Double.infinity) {
        case .supported: c.verdict = .helps
        case .notSupported: c.verdict = .hurts
        default: c.verdict = .inconclusive
        }
        c.note = note(paired: e.paired, n: e.values.count) + psnrNote(v, learn!)
        return c
    }

    /// PSNR-mu difference alongside: log-L1 decides, PSNR-mu shows whether the perceptual measure agrees.
    static func psnrNote(_ t: VariantSummary, _ b: VariantSummary) -> String {
        let e = ClaimRule.effects(t, b, { $0.finalModel?.psnrMu }) { $0 - $1 }
        guard let s = SeedStats(e.values) else { return "" }
        return "; PSNR-mu difference \(ReportText.signedDecibels(s.mean))"
            + (s.std.map { " +- " + String(format: "%.2f dB", $0) } ?? "")
    }
}
