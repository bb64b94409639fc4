// The ablation comparison on synthetic runs whose every number is known by construction: table, claims and
// verdicts, missing and failed runs, the three files, determinism.
import EXRIO
import Foundation
import Reports
import RunFiles
import TestSupport
import Testing

@testable import Ablation

/// One synthetic run: 10 steps of 100 patches (1,000 patches, so incidents per 1000 patches = total incidents),
/// all `incidents` at step 1 with 3 pixels each; clamp-hit 0.5 and saturation 0.25 except at step 10 (the last 10%),
/// where they are `clamp` and 0.1; train records at steps 5 and 10 (wall 2.5 s and 5 s: 2 steps/s);
/// val at 5 (log-L1 1, never final) and 10 (log-L1 `logL1`, PSNR-mu `psnr` vs identity 30, PU21 40 vs 38).
struct SyntheticAblationRun {
    var variant: String
    var seed: Int
    var incidents = 0
    var logL1 = 0.1
    var psnr = 32.0
    var clamp = 0.01
    var scale: Double? = nil
    var endSaturation = 0.1

    func write(under root: String) throws -> AblationRun {
        let dir = "\(root)/\(variant)-\(seed)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        func lines<T: Encodable>(_ xs: [T]) throws -> String {
            try xs.map { String(decoding: try enc.encode($0), as: UTF8.self) + "\n" }.joined()
        }
        var monitor: [MonitorRecord] = []
        for step in 1...10 {
            let inc = step == 1 ? incidents : 0
            monitor.append(
                MonitorRecord(
                    step: step, patches: 100, overflowPixels: 3 * inc, overflowIncidents: inc,
                    clampHitRate: step == 10 ? clamp : 0.5, saturationRate: step == 10 ? endSaturation : 0.25,
                    deltaMin: -1, deltaMax: 1, deltaPercentiles: [:], denomMean: 8, denomStd: 1,
                    denomCV: 0.125, denomMin: 6, denomMax: 10, learnableScale: scale, gradNorm: 1,
                    collapse: 0.1, skipped: false))
        }
        func val(_ step: Int, _ l: Double) -> MetricsRecord {
            let model = EvalMetrics(
                psnrMu: psnr, pu21Psnr: 40, logL1: l, terms: ["l1": 2 * l, "sparsity": 0.5], loss: 2 * l + 0.05,
                overflowPixels: 0, overflowIncidents: 0, patches: 64, logCorrClip: psnr / 100)
            let identity = EvalMetrics(
                psnrMu: 30, pu21Psnr: 38, logL1: 0.5, terms: [:], loss: 1, overflowPixels: 0,
                overflowIncidents: 0, patches: 64)
            return MetricsRecord(
                kind: "val", step: step, epoch: 0, wallSeconds: Double(step) / 2 + 0.1, model: model, identity: identity
            )
        }
        let metrics = [
            MetricsRecord(
                kind: "train", step: 5, epoch: 0, wallSeconds: 2.5, lr: 1e-3, loss: 0.4, terms: [:], stepsPerSecond: 2),
            val(5, 1),
            MetricsRecord(
                kind: "train", step: 10, epoch: 0, wallSeconds: 5, lr: 1e-3, loss: 0.2, terms: [:], stepsPerSecond: 2),
            val(10, logL1)
        ]
        try lines(metrics).write(toFile: dir + "/metrics.jsonl", atomically: false, encoding: .utf8)
        try lines(monitor).write(toFile: dir + "/monitor.jsonl", atomically: false, encoding: .utf8)
        try (Incident.csvHeader + "\n").write(toFile: dir + "/incidents.csv", atomically: false, encoding: .utf8)
        return AblationRun(variant: variant, seed: seed, dir: dir, status: .finished)
    }
}

struct AblationReportTests {
    static let order = ["legacy_mode_a", "phase1", "learnable", "phase3_histogram", "phase3_moment", "phase3_sparsity"]

    /// legacy 40 / 80 incidents, phase1 4 / 12 (reductions 90% and 85%); phase1 log-L1 0.1 / 0.2,
    /// learnable 0.092 / 0.186 (8% and 7% lower); Phase 3: sparsity lower, moment higher, histogram mixed.
    static func specs() -> [SyntheticAblationRun] {
        [
            SyntheticAblationRun(variant: "legacy_mode_a", seed: 1, incidents: 40, logL1: 0.3, psnr: 31, clamp: 0),
            SyntheticAblationRun(variant: "legacy_mode_a", seed: 2, incidents: 80, logL1: 0.4, psnr: 30.5, clamp: 0),
            SyntheticAblationRun(variant: "phase1", seed: 1, incidents: 4, logL1: 0.1, psnr: 32, clamp: 0.02),
            SyntheticAblationRun(variant: "phase1", seed: 2, incidents: 12, logL1: 0.2, psnr: 31, clamp: 0.04),
            SyntheticAblationRun(variant: "learnable", seed: 1, logL1: 0.092, psnr: 33, scale: 5.5),
            SyntheticAblationRun(variant: "learnable", seed: 2, logL1: 0.186, psnr: 32, scale: 6.5)
        ]
    }

    static func phase3() -> [SyntheticAblationRun] {
        [
            SyntheticAblationRun(variant: "phase3_sparsity", seed: 1, logL1: 0.0874, scale: 6),
            SyntheticAblationRun(variant: "phase3_sparsity", seed: 2, logL1: 0.1767, scale: 6),
            SyntheticAblationRun(variant: "phase3_moment", seed: 1, logL1: 0.1, scale: 6),
            SyntheticAblationRun(variant: "phase3_moment", seed: 2, logL1: 0.2, scale: 6),
            SyntheticAblationRun(variant: "phase3_histogram", seed: 1, logL1: 0.0874, scale: 6),
            SyntheticAblationRun(variant: "phase3_histogram", seed: 2, logL1: 0.19, scale: 6)
        ]
    }

    /// The shipped ablation file's claims: what `make ablate` checks is what these tests check.
    static let claims = try! AblationPlan.load(path: AblationPlanTests.repo + "/configs/ablation.yaml").claims

    static func compare(
        _ specs: [SyntheticAblationRun], extra: [AblationRun] = [], order: [String] = order,
        claims: [ClaimSpec] = claims
    )
        throws -> (AblationComparison, ScratchDir)
    {
        let dir = ScratchDir()
        let runs = try specs.map { try $0.write(under: dir.path) } + extra
        return (try AblationComparison(runs: runs, variantOrder: order, claims: claims), dir)
    }

    /// The record `train` appends when a run diverges and `monitor.on_divergence: stop` ends it.
    static func appendDiverged(to dir: String, step: Int) throws {
        let line =
            #"{"epoch":0,"kind":"diverged","reason":"validation PSNR-mu 18.00 dB, 12.00 dB below the identity"#
            + #" (margin 10 dB)","step":\#(step),"stopped":true,"wall_seconds":5}"# + "\n"
        let h = try #require(FileHandle(forWritingAtPath: dir + "/metrics.jsonl"))
        h.seekToEndOfFile()
        h.write(Data(line.utf8))
        h.closeFile()
    }

    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) <= 1e-12 * max(1, abs(b)) } ?? false }

    @Test func tableHasMeansAndSampleStds() throws {
        let (c, _) = try Self.compare(Self.specs(), order: ["legacy_mode_a", "phase1", "learnable"])
        #expect(c.table.map(\.variant) == ["legacy_mode_a", "phase1", "learnable"])
        let legacy = c.table[0]
        let p1 = c.table[1]
        let learn = c.table[2]
        #expect(legacy.seeds == [1, 2])
        #expect(legacy.overflowIncidents?.mean == 60 && legacy.overflowIncidents?.n == 2)
        #expect(legacy.overflowIncidents?.std == 800.0.squareRoot())
        #expect(legacy.incidentsPer1000?.mean == 60)
        #expect(legacy.overflowPixels?.mean == 180)
        #expect(legacy.pixelsPer1000?.mean == 180)
        #expect(close(legacy.valLogL1?.mean, 0.35))
        #expect(close(legacy.valLogL1?.std, 0.1 / 2.0.squareRoot()))
        #expect(legacy.psnrMu?.mean == 30.75)
        #expect(legacy.psnrMuGain?.mean == 0.75)
        #expect(legacy.pu21PsnrGain == SeedStats(mean: 2, std: 0, n: 2))
        // Only the last 10% of steps (step 10) counts: the 0.5 of steps 1...9 must not show.
        #expect(close(p1.clampHitRate?.mean, 0.03))
        #expect(p1.saturationRate?.mean == 0.1)
        #expect(legacy.learnableScale == nil)
        #expect(learn.learnableScale == SeedStats(mean: 6, std: 0.5.squareRoot(), n: 2))
        #expect(learn.wallSeconds == SeedStats(mean: 5, std: 0, n: 2))
        #expect(learn.stepsPerSecond?.mean == 2)
        #expect(close(p1.valLoss?.mean, 0.35))
        #expect(p1.valTerms.map(\.name) == ["l1", "sparsity"])
        #expect(close(p1.valTerms[0].stats.mean, 0.3))
    }

    @Test func supportedClaimsWithExactNumbers() throws {
        let (c, _) = try Self.compare(Self.specs() + Self.phase3())
        let overflow = c.claims[0]
        #expect(overflow.verdict == .supported)
        #expect(close(overflow.perSeed[0], 0.9) && close(overflow.perSeed[1], 0.85))
        #expect(close(overflow.measured?.mean, 0.875))
        #expect(close(overflow.measured?.std, 0.05 / 2.0.squareRoot()))
        #expect(overflow.note.hasPrefix("paired by seed"))
        let loss = c.claims[1]
        #expect(loss.verdict == .supported)
        #expect(close(loss.perSeed[0], 0.08) && close(loss.perSeed[1], 0.07))
        #expect(loss.statement.contains("log-L1"))
        #expect(loss.note.contains("PSNR-mu difference +1.00 dB +- 0.00 dB"))
        let p3 = Dictionary(c.claims.dropFirst(2).map { ($0.name, $0.verdict) }, uniquingKeysWith: { a, _ in a })
        #expect(
            p3 == [
                "Phase 3: phase3_histogram vs learnable": .inconclusive, "Phase 3: phase3_moment vs learnable": .hurts,
                "Phase 3: phase3_sparsity vs learnable": .helps
            ])
    }

    @Test func notSupportedAndInconclusiveVerdicts() throws {
        var specs = Self.specs()
        specs[4].logL1 = 0.099
        specs[5].logL1 = 0.198  // 1% and 1% lower: both outside 5-10%
        #expect(try Self.compare(specs).0.claims[1].verdict == .notSupported)
        specs[4].logL1 = 0.088
        specs[5].logL1 = 0.194  // 12% and 3%: mean 7.5% inside, no seed inside
        let inconclusive = try Self.compare(specs).0.claims[1]
        #expect(inconclusive.verdict == .inconclusive)
        #expect(close(inconclusive.measured?.mean, 0.075))
        specs[2].incidents = 39
        specs[3].incidents = 80  // reductions 2.5% and 0%
        #expect(try Self.compare(specs).0.claims[0].verdict == .notSupported)
        specs[2].incidents = 0
        specs[3].incidents = 0  // 100% fewer: beyond the claimed 80-95%, a larger effect than claimed
        let beyond = try Self.compare(specs).0.claims[0]
        #expect(beyond.verdict == .aboveRange && beyond.perSeed == [1, 1])
        specs[2].incidents = 2
        specs[3].incidents = 12  // 95% and 85%: back inside
        #expect(try Self.compare(specs).0.claims[0].verdict == .supported)
        specs[2].incidents = 0  // 100% and 85%: mean 92.5% inside, one seed above: neither
        #expect(try Self.compare(specs).0.claims[0].verdict == .inconclusive)
    }

    @Test func oneSeedIsWeakEvidenceAndUnequalSeedsUnpaired() throws {
        let one = try Self.compare(Array(Self.specs().filter { $0.seed == 1 })).0.claims[0]
        #expect(one.verdict == .supported)
        #expect(one.measured == SeedStats(mean: 0.9, std: nil, n: 1))
        #expect(one.note.contains("one seed only, the evidence is weak"))
        // phase1 seed 1 only against legacy's mean of 60 incidents: 1 - 4/60.
        let unpaired = try Self.compare(Self.specs().filter { !($0.variant == "phase1" && $0.seed == 2) }).0.claims[0]
        #expect(unpaired.note.hasPrefix("unpaired"))
        #expect(close(unpaired.perSeed.first, 1 - 4.0 / 60))
        #expect(unpaired.verdict == .supported)
    }

    @Test func zeroIncidentLegacyIsNotMeasurableAndAZeroSeedIsNotCounted() throws {
        var specs = Self.specs()
        specs[0].incidents = 0
        let one = try Self.compare(specs).0.claims[0]
        // Seed 1 has nothing to reduce; seed 2 alone: 1 - 12/80 = 85%.
        #expect(one.verdict == .supported && one.perSeed.count == 1 && close(one.perSeed[0], 0.85))
        #expect(one.note.contains("legacy_mode_a had 0 in 1 of 2 runs, not counted"))
        specs[1].incidents = 0
        let claim = try Self.compare(specs).0.claims[0]
        #expect(claim.verdict == .notMeasurable)
        #expect(claim.measured == nil)
        #expect(claim.note == "nothing to reduce: legacy_mode_a had incidents_per_1000 = 0 in every run")
    }

    /// A validation measure compares stable runs only: a diverged run makes the quality claim not measurable
    /// at that point, while the overflow claim (a training-monitor measure) is still measured there.
    @Test func aDivergedRunMakesAQualityClaimNotMeasurable() throws {
        let dir = ScratchDir()
        let runs = try Self.specs().map { try $0.write(under: dir.path) }
        try Self.appendDiverged(to: runs[2].dir, step: 10)  // phase1 seed 1
        let c = try AblationComparison(runs: runs, variantOrder: Self.order, claims: Self.claims)
        #expect(c.claims[0].verdict == .supported)
        #expect(c.claims[1].verdict == .notMeasurable && c.claims[1].measured == nil)
        #expect(c.claims[1].note == "not stable: phase1 diverged in 1 of 2 runs")
    }

    @Test func missingAndFailedRunsAreNamed() throws {
        let extra = [
            AblationRun(variant: "phase1", seed: 1, dir: "/nowhere/p1-1", status: .failed("bad <tag> & \"oom\"")),
            AblationRun(variant: "phase1", seed: 2, dir: "/nowhere/p1-2", status: .missing)
        ]
        let (c, dir) = try Self.compare(
            Self.specs().filter { $0.variant != "phase1" && $0.variant != "learnable" }, extra: extra)
        #expect(c.table[1].failed.map(\.seed) == [1] && c.table[1].missingSeeds == [2])
        #expect(c.claims[0].verdict == .notMeasurable)
        #expect(c.claims[0].note == "missing runs: phase1 (no finished run: failed seeds 1; missing seeds 2)")
        #expect(c.claims[1].note.contains("learnable (no finished run)"))
        #expect(c.claims[1].note.contains("phase1 (no finished run"))
        let paths = try c.write(to: dir.path + "/out")
        let md = try String(contentsOfFile: paths.markdown, encoding: .utf8)
        #expect(md.contains("| phase1 | 1 | failed: bad <tag> & \"oom\" | /nowhere/p1-1 |"))
        #expect(md.contains("| phase1 | 2 | missing | /nowhere/p1-2 |"))
        let html = try String(contentsOfFile: paths.html, encoding: .utf8)
        #expect(html.contains("failed: bad &lt;tag&gt; &amp; &quot;oom&quot;"))
        #expect(!html.contains("<tag>"))
    }

    @Test func finishedRunWithoutLogsThrows() throws {
        let run = AblationRun(variant: "phase1", seed: 1, dir: "/nowhere/at/all", status: .finished)
        #expect(throws: FileError.self) { try AblationComparison(runs: [run], variantOrder: ["phase1"], claims: []) }
    }

    @Test func csvHeaderAndRows() throws {
        let (c, _) = try Self.compare(Self.specs(), order: ["legacy_mode_a", "phase1", "learnable"])
        let lines = c.csv().split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(
            Array(header.prefix(11)) == [
                "task", "point", "variant", "finished_runs", "failed_runs", "missing_runs", "diverged_runs",
                "val_log_l1_mean", "val_log_l1_std", "val_loss_mean", "val_loss_std"
            ])
        #expect(
            header.suffix(4) == [
                "val_term_l1_mean", "val_term_l1_std", "val_term_sparsity_mean", "val_term_sparsity_std"
            ])
        let legacy = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let col = { (name: String) in legacy[header.firstIndex(of: name)!] }
        #expect(legacy[0...6] == ["", "", "legacy_mode_a", "2", "0", "0", "0"])
        #expect(col("overflow_incidents_total_mean") == "60.0")
        #expect(col("overflow_incidents_per_1000_patches_std") == "\(800.0.squareRoot())")
        #expect(col("learnable_scale_mean") == "n/a")
        #expect(col("steps_per_second_mean") == "2.0")
        // The shape in clip, the model's alone (the identity's is 0 by construction): psnr / 100 per seed here.
        #expect(close(Double(col("val_log_corr_clip_mean")), (0.31 + 0.305) / 2))
        #expect(c.markdown().contains("Shape in clip (r)"))
        #expect(lines[3].hasPrefix(",,learnable,2,0,0,0,"))
    }

    @Test func htmlIsSelfContainedAndClosed() throws {
        let (c, _) = try Self.compare(Self.specs() + Self.phase3())
        let html = c.html()
        #expect(!html.contains("http") && !html.contains("<script") && !html.contains("src="))
        let opened = html.components(separatedBy: "<svg").count - 1
        #expect(opened == 3 && html.components(separatedBy: "</svg>").count - 1 == opened)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        // Verdicts in words, not colour alone.
        #expect(html.contains("Overflow incidents: phase1 vs legacy_mode_a: supported</strong>"))
        #expect(html.contains("class=\"claim hurts\""))
    }

    @Test func sameInputSameBytes() throws {
        let dir = ScratchDir()
        let runs = try (Self.specs() + Self.phase3()).map { try $0.write(under: dir.path) }
        let a = try AblationComparison(runs: runs, variantOrder: Self.order, claims: Self.claims)
        let b = try AblationComparison(runs: runs.reversed(), variantOrder: Self.order, claims: Self.claims)
        let pa = try a.write(to: dir.path + "/a")
        let pb = try b.write(to: dir.path + "/b")
        for (x, y) in [(pa.markdown, pb.markdown), (pa.html, pb.html), (pa.csv, pb.csv)] {
            #expect(FileManager.default.contents(atPath: x) == FileManager.default.contents(atPath: y))
        }
        #expect(!FileManager.default.fileExists(atPath: pa.html + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"))
    }

    @Test func chartCurvesAreMeansOverSeedsAndBinned() throws {
        let (c, _) = try Self.compare(Self.specs(), order: ["legacy_mode_a", "phase1", "learnable"])
        let legacy = c.table[0].runs
        #expect(AblationHTML.binWidth(c) == 1)
        // Step 1 holds 40 and 80 incidents: mean 60 per step; in bins of 5 steps that is 12 per step, then 0.
        #expect(AblationHTML.binnedIncidents(legacy, width: 1).prefix(2) == [ChartPoint(1, 60), ChartPoint(2, 0)])
        #expect(AblationHTML.binnedIncidents(legacy, width: 5) == [ChartPoint(5, 12), ChartPoint(10, 0)])
        #expect(AblationHTML.meanCurve(legacy.map(\.valPsnrMu)) == [ChartPoint(5, 30.75), ChartPoint(10, 30.75)])
        #expect(AblationHTML.meanCurve(legacy.map(\.trainLoss)) == [ChartPoint(5, 0.4), ChartPoint(10, 0.2)])
    }

    @Test func aDifferenceClaimOnAnyMeasureAndVariantNames() throws {
        // Claims are data: any two variants, any measure. PSNR-mu gain of learnable over phase1: seeds 1 and 2
        // have PSNR-mu 33 vs 32 and 32 vs 31 (identity 30 for all): +1 dB each.
        let gain = ClaimSpec(
            name: "gain", treated: "learnable", baseline: "phase1", measure: .valPsnrMuGain, effect: .difference,
            claimed: .range(0.5...1.5))
        let small = ClaimSpec(
            name: "small", treated: "learnable", baseline: "phase1", measure: .valPsnrMu, effect: .difference,
            claimed: .range(0...0.5))
        let large = ClaimSpec(
            name: "large", treated: "learnable", baseline: "phase1", measure: .valPsnrMu, effect: .difference,
            claimed: .range(1.5...2))
        let (c, _) = try Self.compare(Self.specs(), claims: [gain, small, large])
        #expect(c.claims.map(\.verdict) == [.supported, .aboveRange, .notSupported])
        #expect(c.claims[0].perSeed == [1, 1] && c.claims[0].measured == SeedStats(mean: 1, std: 0, n: 2))
        #expect(c.claims[0].statement.hasSuffix("Effect: val_psnr_mu_gain(learnable) - val_psnr_mu_gain(phase1)."))
        #expect(AblationText.claimMeasured(c.claims[0]) == "1 +- 0 (n = 2); per seed: 1, 1")
        // A claim naming a variant no run has (the plan refuses such files; a comparison built by hand can too).
        let gone = ClaimSpec(
            name: "gone", treated: "phase_one", baseline: "phase1", measure: .valLoss, effect: .reduction,
            claimed: .positive)
        let missing = try Self.compare(Self.specs(), claims: [gone]).0.claims[0]
        #expect(missing.verdict == .notMeasurable && missing.note == "missing runs: phase_one (not in the ablation)")
    }

    @Test func sweepPointsAndTasksAreGroupsWithTheirOwnClaims() throws {
        // The same specs at two points of one task: at lr=0.01 as given, at lr=0.02 phase1's incidents doubled
        // (reductions 80% and 70%: the mean, 75%, and all but one seed lie outside 80-95%: not supported there).
        let dir = ScratchDir()
        let low = AblationPlan.Point(settings: [.init(key: "optim.lr", value: "0.01")], index: 0)
        let high = AblationPlan.Point(settings: [.init(key: "optim.lr", value: "0.02")], index: 1)
        var runs: [AblationRun] = []
        for (point, factor) in [(high, 2), (low, 1)] {
            for var spec in Self.specs() {
                if spec.variant == "phase1" { spec.incidents *= factor }
                let r = try spec.write(under: dir.path + "/" + point.label)
                runs.append(
                    AblationRun(
                        variant: r.variant, seed: r.seed, dir: r.dir, status: r.status, task: "hdr_warp", point: point))
            }
        }
        let c = try AblationComparison(runs: runs, variantOrder: Self.order, claims: Self.claims)
        #expect(c.groups.map(\.title) == ["task hdr_warp, optim.lr=0.01", "task hdr_warp, optim.lr=0.02"])
        #expect(c.groups[0].claims[0].verdict == .supported)
        #expect(c.groups[1].claims[0].verdict == .notSupported)
        #expect(c.groups[1].claims[0].perSeed.map { ($0 * 100).rounded() } == [80, 70])
        let md = c.markdown()
        #expect(
            md.contains("## All numbers: task hdr_warp, optim.lr=0.01")
                && md.contains("## All numbers: task hdr_warp, optim.lr=0.02"))
        // The stability map: variants x points; phase1's incidents per 1000 patches are 8 then 16 (means), from step 1.
        let maps = AblationText.stabilityMaps(c)
        #expect(maps.count == 1 && maps[0].title == "Stability map: task hdr_warp")
        #expect(maps[0].header == ["Variant", "optim.lr=0.01", "optim.lr=0.02"])
        let phase1 = try #require(maps[0].rows.first { $0[0] == "phase1" })
        #expect(phase1[1] == "+1.50 dB, 8 inc/1000 from step 1" && phase1[2] == "+1.50 dB, 16 inc/1000 from step 1")
        #expect(md.contains("## Stability map: task hdr_warp"))
        // No variant is free of incidents except learnable (and the Phase 3 ones, absent here): it is recommended,
        // at its best point; legacy and phase1 are rejected on overflow, with the first step and the rate.
        let rec = try #require(AblationText.recommendations(c).first)
        #expect(rec.title == "Recommendation: task hdr_warp")
        #expect(
            rec.lines.first
                == "Use **learnable** at optim.lr=0.01: PSNR-mu gain +2.50 dB over the identity, no divergence, no "
                + "saturation, no overflow incident; stable at optim.lr=0.01, optim.lr=0.02.")
        #expect(
            rec.lines.contains(
                "legacy_mode_a: rejected: overflow from step 1 at optim.lr=0.01, 60 incidents per 1000 patches."))
        #expect(
            rec.lines.contains("phase1: rejected: overflow from step 1 at optim.lr=0.01, 8 incidents per 1000 patches.")
        )
        #expect(c.html().contains("<li>Use <strong>learnable</strong> at optim.lr=0.01"))
        let csv = c.csv().split(separator: "\n")
        #expect(csv.count == 1 + 2 * Self.order.count)
        #expect(csv[1].hasPrefix("hdr_warp,optim.lr=0.01,legacy_mode_a,2,"))
    }

    @Test func aDivergedRunIsCountedAndAStoppedOneIsFinishedForTheScheduler() throws {
        let dir = ScratchDir()
        var runs = try Self.specs().map { try $0.write(under: dir.path) }
        // legacy seed 2 stopped at its divergence at step 10.
        try Self.appendDiverged(to: runs[1].dir, step: 10)
        let c = try AblationComparison(runs: runs, variantOrder: Self.order, claims: [])
        #expect(c.table[0].divergedRuns.map(\.seed) == [2] && c.table[1].divergedRuns.isEmpty)
        #expect(AblationText.divergedText(c.table[0]) == "1 of 2 (seed 2 at step 10)")
        let plan = AblationPlan.Run(variant: "legacy_mode_a", seed: 2, dir: runs[1].dir, config: "", overrides: [])
        #expect(AblationScheduler.state(of: plan, budget: 1000) == .finished)
        runs[0].status = .finished
        let fresh = AblationPlan.Run(variant: "legacy_mode_a", seed: 1, dir: runs[0].dir, config: "", overrides: [])
        #expect(AblationScheduler.state(of: fresh, budget: 1000) == .fresh, "no checkpoint, no stop: start over")
    }
}

/// One claim over a sweep: measured only where the point allows it, one verdict over the measurable points, and
/// "not measured" with the reasons where no point does; the lead table and the stability chart of the same sweep.
struct AblationSweepClaimTests {
    typealias R = AblationReportTests

    /// Task t at three rates: at 0.01 legacy never overflows, at 0.02 the specs as given (90% and 85% fewer),
    /// at 0.05 phase1's incidents doubled (80% and 70%); phase1 seed 1 diverged at step 10 everywhere.
    static func sweep(learnableSaturation: Double = 0.1) throws -> (AblationComparison, ScratchDir) {
        let dir = ScratchDir()
        var runs: [AblationRun] = []
        for (i, lr) in ["0.01", "0.02", "0.05"].enumerated() {
            let point = AblationPlan.Point(settings: [.init(key: "optim.lr", value: lr)], index: i)
            for var spec in R.specs() {
                if spec.variant == "legacy_mode_a" && i == 0 { spec.incidents = 0 }
                if spec.variant == "phase1" && i == 2 { spec.incidents *= 2 }
                if spec.variant == "learnable" { spec.endSaturation = learnableSaturation }
                let r = try spec.write(under: dir.path + "/" + lr)
                if spec.variant == "phase1" && spec.seed == 1 { try R.appendDiverged(to: r.dir, step: 10) }
                runs.append(
                    AblationRun(variant: r.variant, seed: r.seed, dir: r.dir, status: r.status, task: "t", point: point)
                )
            }
        }
        let order = ["legacy_mode_a", "phase1", "learnable"]
        return (try AblationComparison(runs: runs, variantOrder: order, claims: Array(R.claims.prefix(2))), dir)
    }

    @Test func eachClaimIsDecidedWhereItIsMeasurable() throws {
        let (c, _) = try Self.sweep()
        let across = c.claimsAcrossPoints
        #expect(across.map(\.name) == R.claims.prefix(2).map(\.name))
        let overflow = across[0]
        #expect(overflow.points.map(\.claim.verdict) == [.notMeasurable, .supported, .notSupported])
        #expect(overflow.measurable.count == 2 && overflow.verdict == .dependsOnThePoint)
        #expect(
            AblationText.claimSummary(overflow)
                == "At the 2 of 3 points where it is measurable: supported at 1 (task t, optim.lr=0.02: 88% +- 3.5%); "
                + "not supported at 1 (task t, optim.lr=0.05: 75% +- 7.1%). Not measurable at 1 (task t, "
                + "optim.lr=0.01: nothing to reduce: legacy_mode_a had incidents_per_1000 = 0 in every run).")
        // The quality claim: phase1 diverged at every point, so no point allows it, and the summary says why once.
        let quality = across[1]
        #expect(quality.measurable.isEmpty && quality.verdict == .notMeasured)
        #expect(
            AblationText.claimSummary(quality)
                == "Not measurable at any of the 3 points (task t, optim.lr=0.01 and task t, optim.lr=0.02 and "
                + "task t, optim.lr=0.05: not stable: phase1 diverged in 1 of 2 runs).")
        let md = c.markdown()
        #expect(md.contains("- **Overflow incidents: phase1 vs legacy_mode_a: depends on the point.** At the 2 of 3"))
        #expect(md.contains("| task t, optim.lr=0.05 | not supported | 75% +- 7.1% | 80%, 70% | paired by seed |"))
        #expect(md.contains("| task t, optim.lr=0.01 | not measurable | not measured |  | nothing to reduce: "))
    }

    @Test func allMeasurablePointsAgreeingGiveTheirVerdict() throws {
        let dir = ScratchDir()
        var runs: [AblationRun] = []
        for (i, lr) in ["0.01", "0.02"].enumerated() {
            let point = AblationPlan.Point(settings: [.init(key: "optim.lr", value: lr)], index: i)
            for spec in R.specs() {
                let r = try spec.write(under: dir.path + "/" + lr)
                runs.append(
                    AblationRun(variant: r.variant, seed: r.seed, dir: r.dir, status: r.status, task: nil, point: point)
                )
            }
        }
        let c = try AblationComparison(runs: runs, variantOrder: R.order, claims: R.claims)
        #expect(
            c.claimsAcrossPoints.map(\.verdict) == [
                .agreed(.supported), .agreed(.supported), .notMeasured, .notMeasured, .notMeasured
            ])
        // Without tasks and axes there is one unnamed point: the summary names no point.
        let one = try R.compare(R.specs()).0
        #expect(AblationText.claimSummary(one.claimsAcrossPoints[0]) == "Supported (88% +- 3.5%).")
        let oneSeed = try R.compare(R.specs().filter { $0.seed == 1 }).0
        #expect(AblationText.claimSummary(oneSeed.claimsAcrossPoints[0]) == "Supported (90% (one seed)).")
        #expect(
            AblationText.claimSummary(one.claimsAcrossPoints[2])
                == "Not measurable (missing runs: phase3_histogram (no finished run)).")
    }

    @Test func theLeadTableHasKeyColumnsWithThreeSignificantDigits() throws {
        let (c, _) = try Self.sweep()
        let glance = try #require(AblationText.glance(c).first)
        #expect(glance.title == "At a glance: task t")
        #expect(
            glance.header == [
                "Variant", "optim.lr", "PSNR-mu gain, NTIRE (dB)", "PU21 gain (dB)", "PSNR-mu gain in clip (dB)",
                "Val log-L1", "Incidents / 1000 patches", "First incident step", "Diverged"
            ])
        #expect(
            glance.rows.count == 9
                && glance.rows.map { $0[0] }.prefix(3) == ["legacy_mode_a", "legacy_mode_a", "legacy_mode_a"])
        // The synthetic validations have no in-clip metrics (as a task whose inputs never clip): n/a.
        #expect(glance.rows[0] == ["legacy_mode_a", "0.01", "+0.75", "+2.00", "n/a", "0.35", "0", "-", "no"])
        #expect(glance.rows[1] == ["legacy_mode_a", "0.02", "+0.75", "+2.00", "n/a", "0.35", "60", "1", "no"])
        // phase1 at 0.05: 8 and 24 incidents, mean 16; log-L1 0.15; seed 1 diverged at step 10.
        #expect(
            glance.rows[5] == ["phase1", "0.05", "+1.50", "+2.00", "n/a", "0.15", "16", "1", "1 of 2, from step 10"])
        #expect(ReportText.number(0.094412, digits: 3) == "0.0944" && ReportText.number(211.2, digits: 3) == "211")
        #expect(c.markdown().contains("## At a glance: task t\n\n| Variant | optim.lr | PSNR-mu gain, NTIRE (dB) |"))
    }

    @Test func theStabilityChartShowsEveryCellInWordsAndColour() throws {
        let (c, _) = try Self.sweep()
        let grid = try #require(AblationText.stabilityGrids(c).first)
        #expect(grid.variants == ["legacy_mode_a", "phase1", "learnable"] && grid.points.count == 3)
        let svg = AblationHTML.stabilityChart(grid)
        // 9 cells and 5 legend swatches.
        #expect(svg.components(separatedBy: "<rect").count - 1 == 9 + AblationHTML.CellState.allCases.count)
        let fills = { (s: AblationHTML.CellState) in svg.components(separatedBy: "fill=\"\(s.fill)\"").count - 1 }
        // legacy: stable at 0.01, incidents at 0.02 and 0.05; phase1 diverged in some seeds at every point;
        // learnable stable everywhere. Each state once more for its legend swatch.
        #expect(fills(.stable) == 1 + 3 + 1 && fills(.incidents) == 2 + 1 && fills(.someDiverged) == 3 + 1)
        #expect(fills(.diverged) == 1 && fills(.saturated) == 1 && fills(.none) == 1)
        #expect(AblationHTML.cellLines(grid.cells[0][1]) == ["+0.75 dB", "no divergence", "60 inc/1000 from step 1"])
        #expect(
            AblationHTML.cellLines(grid.cells[1][0]) == [
                "+1.50 dB", "diverged 1 of 2 from step 10", "8 inc/1000 from step 1"
            ])
        #expect(AblationHTML.cellLines(grid.cells[2][0]) == ["+2.50 dB", "no divergence", "no incident"])
        let html = c.html()
        #expect(html.contains(svg) && !html.contains("http"))
    }

    /// A residual switched off (every tanh output saturated, a learnable scale near 0) is neither a divergence nor
    /// stable: the map says so, and the recommendation rejects it with the numbers.
    @Test func aSaturatedVariantIsNotStable() throws {
        let (c, _) = try Self.sweep(learnableSaturation: 0.95)
        let grid = try #require(AblationText.stabilityGrids(c).first)
        #expect(
            AblationHTML.cellLines(grid.cells[2][0]) == ["+2.50 dB", "no divergence", "saturated 95%", "no incident"])
        #expect(AblationHTML.CellState(grid.cells[2][0]) == .saturated)
        #expect(AblationText.stabilityCell(grid.cells[2][0]!) == "+2.50 dB, saturated 95%, 0 inc/1000")
        // The quality claim learnable vs phase1 compares stable runs only: phase1 diverged, learnable saturated.
        #expect(
            c.groups[0].claims[1].note
                == "not stable: learnable saturated (95% of tanh outputs), phase1 diverged in 1 of 2 runs")
        let rec = try #require(AblationText.recommendations(c).first)
        // legacy is stable at 0.01 (no incident there) and is recommended; learnable is rejected on its saturation.
        #expect(rec.lines.first?.hasPrefix("Use **legacy_mode_a** at optim.lr=0.01: PSNR-mu gain +0.75 dB") == true)
        let saturated =
            "learnable: rejected: saturated at optim.lr=0.01, 95% of tanh outputs over the last 10% of steps, scale 6."
        #expect(rec.lines.contains(saturated), "\(rec.lines)")
        let (healthy, _) = try Self.sweep()
        #expect(
            AblationText.recommendations(healthy)[0].lines.first?.hasPrefix("Use **learnable** at optim.lr=0.01")
                == true)
        #expect(AblationHTML.CellState(AblationText.stabilityGrids(healthy)[0].cells[2][0]) == .stable)
    }
}
