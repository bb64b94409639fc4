// Claims as data: the ablation file lists each claim (treated and baseline variant, measure, effect, claimed range
// or direction); this checks each against the ablation table with its spread over seeds and a plain verdict.
import Config
import Foundation
import Reports

/// One claim of the ablation file's `claims:` list, checked when the file is read: its variants must be variants
/// of the file, so renaming a variant without its claims is an error naming the claim, not a silent "not measured".
/// ```yaml
/// claims:
///   - name: "Overflow incidents: phase1 vs legacy_mode_a"
///     statement: "Phase 1 has 80-95% fewer overflow incidents than legacy Mode A."   # optional
///     treated: phase1
///     baseline: legacy_mode_a
///     measure: incidents_per_1000      # see ClaimSpec.Measure
///     effect: reduction                # reduction: 1 - treated / baseline; difference: treated - baseline
///     range: [0.80, 0.95]              # the claimed effect, or instead:
///   # direction: positive              # the effect is > 0 ("may help"): verdicts helps / hurts / inconclusive
/// ```
package struct ClaimSpec: Sendable, Equatable {
    /// A per-run number of the ablation table (`AblationRunNumbers`).
    package enum Measure: String, Sendable, CaseIterable {
        case incidentsPer1000 = "incidents_per_1000"
        case pixelsPer1000 = "overflow_pixels_per_1000"
        case valLogL1 = "val_log_l1"
        case valLoss = "val_loss"
        case valPsnrMu = "val_psnr_mu"
        case valPsnrMuGain = "val_psnr_mu_gain"
        case valPu21Psnr = "val_pu21_psnr"

        /// How the measure reads in a sentence.
        package var label: String {
            switch self {
            case .incidentsPer1000: "overflow incidents per 1000 patches (training monitor)"
            case .pixelsPer1000: "overflow pixels per 1000 patches (training monitor)"
            case .valLogL1: "validation log-L1"
            case .valLoss: "validation loss"
            case .valPsnrMu: "validation PSNR-mu"
            case .valPsnrMuGain: "validation PSNR-mu gain over the identity"
            case .valPu21Psnr: "validation PU21-PSNR"
            }
        }

        func value(_ r: AblationRunNumbers) -> Double? {
            switch self {
            case .incidentsPer1000: r.incidentsPer1000
            case .pixelsPer1000: r.pixelsPer1000
            case .valLogL1: r.finalModel?.logL1
            case .valLoss: r.finalModel?.loss
            case .valPsnrMu: r.finalModel?.psnrMu
            case .valPsnrMuGain: r.finalModel.flatMap { m in r.finalIdentity.map { m.psnrMu - $0.psnrMu } }
            case .valPu21Psnr: r.finalModel?.pu21Psnr
            }
        }

        /// Validation quality measures get the PSNR-mu difference alongside (does the perceptual measure agree?).
        var notesPSNR: Bool { self == .valLogL1 || self == .valLoss }

        /// Measured on the validation set: comparable only between runs that did not diverge.
        var isValidation: Bool { self != .incidentsPer1000 && self != .pixelsPer1000 }
    }

    package enum Effect: String, Sendable, CaseIterable {
        /// 1 - treated / baseline: a fraction, positive when the treated variant is lower.
        case reduction
        /// treated - baseline, in the measure's unit.
        case difference

        func of(_ treated: Double, _ baseline: Double) -> Double? {
            switch self {
            case .reduction: baseline != 0 ? 1 - treated / baseline : nil
            case .difference: treated - baseline
            }
        }

        func formula(_ m: Measure, _ t: String, _ b: String) -> String {
            switch self {
            case .reduction: "1 - \(m.rawValue)(\(t)) / \(m.rawValue)(\(b))"
            case .difference: "\(m.rawValue)(\(t)) - \(m.rawValue)(\(b))"
            }
        }
    }

    package enum Claimed: Sendable, Equatable {
        /// The effect lies in this range: supported / not supported / inconclusive.
        case range(ClosedRange<Double>)
        /// The effect is > 0: helps / hurts / inconclusive.
        case positive
    }

    package var name: String
    package var statement: String
    package var treated: String
    package var baseline: String
    package var measure: Measure
    package var effect: Effect
    package var claimed: Claimed

    package init(
        name: String, statement: String? = nil, treated: String, baseline: String, measure: Measure,
        effect: Effect, claimed: Claimed
    ) {
        self.name = name
        self.treated = treated
        self.baseline = baseline
        self.measure = measure
        self.effect = effect
        self.claimed = claimed
        self.statement = statement ?? Self.defaultStatement(treated, baseline, measure, effect, claimed)
    }

    static func defaultStatement(_ t: String, _ b: String, _ m: Measure, _ e: Effect, _ c: Claimed) -> String {
        let what = "\(t) vs \(b) on \(m.label)"
        switch c {
        case .range(let r): return "\(what): the \(e.rawValue) lies in [\(r.lowerBound), \(r.upperBound)]."
        case .positive: return "\(what): the \(e.rawValue) is > 0."
        }
    }

    /// Reads one entry of `claims:`; `variants` are the file's variant names.
    init(config c: ConfigMapping, variants: [String]) throws {
        let name: String = try c.required("name")
        func variant(_ key: String) throws -> String {
            let v: String = try c.required(key)
            guard variants.contains(v) else {
                throw c.error(key, "no variant '\(v)' in this file (variants: \(variants.joined(separator: ", ")))")
            }
            return v
        }
        let treated = try variant("treated")
        let baseline = try variant("baseline")
        guard treated != baseline else { throw c.error("baseline", "is the treated variant itself") }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws -> T
        where T.RawValue == String {
            let raw: String = try c.required(key)
            guard let v = T(rawValue: raw) else {
                throw c.error(
                    key, "unknown \(key) '\(raw)' (known: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return v
        }
        let measure = try choice("measure", Measure.self)
        let effect = try choice("effect", Effect.self)
        let claimed: Claimed
        switch (c.contains("range"), c.contains("direction")) {
        case (true, false):
            let r = try c.values("range", Double.self)
            guard r.count == 2, r[0].isFinite, r[1].isFinite, r[0] <= r[1] else {
                throw c.error("range", "give [low, high] with low <= high")
            }
            claimed = .range(r[0]...r[1])
        case (false, true):
            let d: String = try c.required("direction")
            guard d == "positive" else { throw c.error("direction", "unknown direction '\(d)' (known: positive)") }
            claimed = .positive
        default:
            throw c.error("range", "give exactly one of `range: [low, high]` and `direction: positive`")
        }
        let statement: String? = try c.optional("statement")
        try c.finish(known: ["name", "statement", "treated", "baseline", "measure", "effect", "range", "direction"])
        self.init(
            name: name, statement: statement, treated: treated, baseline: baseline, measure: measure, effect: effect,
            claimed: claimed)
    }
}

/// A claim checked against the table.
package struct Claim: Sendable {
    package enum Verdict: String, Sendable, Equatable, CaseIterable {
        case supported = "supported"
        /// The effect is larger than the claimed range's top: the direction holds, the claimed size does not.
        case aboveRange = "above the claimed range"
        case notSupported = "not supported"
        case inconclusive = "inconclusive"
        /// Direction-only claims ("may help further"): only a direction.
        case helps = "helps"
        case hurts = "hurts"
        /// This point does not allow the comparison (`note` says why): missing runs, nothing to reduce, or a
        /// validation measure where a variant diverged or saturated.
        case notMeasurable = "not measurable"
    }

    package var spec: ClaimSpec
    package var name: String { spec.name }
    /// What is claimed, and on which measure it is checked.
    package var statement: String
    /// The effect over seeds; nil when it could not be measured.
    package var measured: SeedStats?
    /// Each seed's effect, in seed order (paired) or the treated variant's seed order (unpaired).
    package var perSeed: [Double]
    package var verdict: Verdict
    /// Why the verdict is what it is: paired or not, missing runs, weak evidence.
    package var note: String

    /// Checks `spec` against the table's rows (by variant name).
    package init(_ spec: ClaimSpec, table: [VariantSummary]) {
        self.spec = spec
        statement =
            spec.statement + " Effect: " + spec.effect.formula(spec.measure, spec.treated, spec.baseline) + "."
        measured = nil
        perSeed = []
        note = ""
        let row = { (name: String) in table.first { $0.variant == name } }
        verdict = .notMeasurable
        if let m = ClaimRule.missing([(spec.treated, row(spec.treated)), (spec.baseline, row(spec.baseline))]) {
            note = m
            return
        }
        let (treated, baseline) = (row(spec.treated)!, row(spec.baseline)!)
        let measure = spec.measure
        var notes: [String] = []
        if measure.isValidation {
            // The quality of a diverged run is no quality, nor that of a residual switched off (saturated: the
            // output is the input): validation measures compare stable runs only.
            let unstable = [treated, baseline].compactMap { v -> String? in
                if !v.divergedRuns.isEmpty {
                    return "\(v.variant) diverged in \(v.divergedRuns.count) of \(v.runs.count) runs"
                }
                if v.saturated {
                    return "\(v.variant) saturated (\(ReportText.percent(v.saturationRate!.mean)) of tanh outputs)"
                }
                return nil
            }
            if !unstable.isEmpty {
                note = "not stable: " + unstable.joined(separator: ", ")
                return
            }
        }
        if spec.effect == .reduction {
            let zero = baseline.runs.filter { (measure.value($0) ?? 0) == 0 }.count
            if zero == baseline.runs.count {
                note = "nothing to reduce: \(spec.baseline) had \(measure.rawValue) = 0 in every run"
                return
            }
            if zero > 0 {
                notes.append("\(spec.baseline) had 0 in \(zero) of \(baseline.runs.count) runs, not counted")
            }
        }
        let e = ClaimRule.effects(treated, baseline, measure.value) { spec.effect.of($0, $1) }
        guard let stats = SeedStats(e.values) else {
            note = "no run of both variants has \(measure.rawValue)"
            return
        }
        perSeed = e.values
        measured = stats
        switch spec.claimed {
        case .range(let r):
            verdict = ClaimRule.verdict(e.values, in: r)
            note = ClaimRule.note(paired: e.paired, n: e.values.count)
        case .positive:
            switch ClaimRule.verdict(e.values, in: Double.leastNonzeroMagnitude...Double.infinity) {
            case .supported: verdict = .helps
            case .notSupported: verdict = .hurts
            default: verdict = .inconclusive
            }
            note = ClaimRule.note(paired: e.paired, n: e.values.count)
        }
        for n in notes { note += "; " + n }
        if measure.notesPSNR { note += ClaimRule.psnrNote(treated, baseline) }
    }
}

/// Verdict rule, one for every claim, for an effect claimed to lie in `range` (open ends for direction-only claims):
/// - supported: every seed's effect lies in the range;
/// - above the claimed range: the mean lies above the range and at least all but one seed's effect too
///   (a larger effect than claimed: the direction holds, the size does not);
/// - not supported: likewise below the range (with a single seed "all but one" is the one seed: the evidence is
///   weak, and the note says so);
/// - otherwise inconclusive.
/// Effects are per-seed paired differences when both variants finished the same seeds; otherwise each treated
/// seed is compared with the baseline's mean over its seeds (unpaired), and the note says so.
enum ClaimRule {
    static func verdict(_ effects: [Double], in range: ClosedRange<Double>) -> Claim.Verdict {
        guard let s = SeedStats(effects) else { return .notMeasurable }
        if effects.allSatisfy(range.contains) { return .supported }
        let above = effects.filter { $0 > range.upperBound }.count
        let below = effects.filter { $0 < range.lowerBound }.count
        if s.mean > range.upperBound && above >= effects.count - 1 { return .aboveRange }
        if s.mean < range.lowerBound && below >= effects.count - 1 { return .notSupported }
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

    /// "missing runs: phase1 (no finished run)" when a side has nothing to compare.
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

    static func note(paired: Bool, n: Int) -> String {
        var s = paired ? "paired by seed" : "unpaired: seeds differ, each seed against the baseline's mean"
        if n == 1 { s += "; one seed only, the evidence is weak" }
        return s
    }

    /// PSNR-mu difference alongside: log-L1 decides, PSNR-mu shows whether the perceptual measure agrees.
    static func psnrNote(_ t: VariantSummary, _ b: VariantSummary) -> String {
        let e = effects(t, b, { $0.finalModel?.psnrMu }) { $0 - $1 }
        guard let s = SeedStats(e.values) else { return "" }
        return "; PSNR-mu difference \(ReportText.signedDecibels(s.mean))"
            + (s.std.map { " +- " + String(format: "%.2f dB", $0) } ?? "")
    }
}
