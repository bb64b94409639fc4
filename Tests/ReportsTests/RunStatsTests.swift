// The verdict's numbers and wording on a run whose every count is known (SyntheticRun).
import Foundation
import Reports
import RunFiles
import TestSupport
import Testing

struct RunStatsTests {
    static func stats(validation: Bool = true, endCollapse: Double = 0.05) throws -> RunStats {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path, validation: validation, endCollapse: endCollapse)
        return RunStats(try RunLogReader.read(dir: dir.path))
    }

    @Test func verdictStatesCountsEarlyShareSourcesSkipsValidationAndEndRates() throws {
        let v = try Self.stats().verdict
        #expect(
            v == [
                "122 overflow incidents (3,074 overflow pixels) in 300 steps, 98% of them in the first 30 steps.",
                "By pair file: sunrise.exr 98%, lake <&>.exr 1.6%.",
                "2 steps skipped for non-finite values (1 non-finite loss, 1 non-finite gradient recorded).",
                "At the last validation (step 300) the model beats the identity baseline: PSNR-mu 32.50 vs 28.40 dB (+4.10 dB), "
                    + "PU21-PSNR 42.00 vs 39.00 dB (+3.00 dB), log-L1 0.08 vs 0.12 (33% lower).",
                "No collapse: the collapse indicator reached 0.05 over the last 10% of steps.",
                "Over the last 10% of steps 0.12% of delta elements hit the clamp and 3.4% of tanh outputs were saturated."
            ])
    }

    /// With the data set's manifest, the verdict names source images: two pairs cut from one image are one source.
    @Test func incidentsAreAttributedToSourceImagesWhenTheManifestIsKnown() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path, validation: true, endCollapse: 0.05)
        let run = try RunLogReader.read(dir: dir.path)
        let one = RunStats(run, sourceImages: ["sunrise.exr": "kloppenheim.exr", "lake <&>.exr": "kloppenheim.exr"])
        #expect(one.bySourceImage && one.overflowByFile.map(\.count) == [122])
        #expect(one.verdict.contains("All recorded overflow incidents come from source image kloppenheim.exr."))
        let two = RunStats(run, sourceImages: ["sunrise.exr": "a.exr", "lake <&>.exr": "b.exr"])
        #expect(two.verdict.contains("By source image: a.exr 98%, b.exr 1.6%."))
    }

    @Test func collapseWarningWhenTheIndicatorStaysNearZero() throws {
        let v = try Self.stats(endCollapse: 2e-5).verdict
        #expect(
            v.contains(
                "Warning: the collapse indicator stayed below 0.001 over the last 10% of steps (max 2.000e-05): "
                    + "the network may be ignoring its input."))
    }

    /// Validation records that say `weights: ema` (a run with `train.ema`) make the verdict and the validation
    /// section say the EMA of the weights was scored; records without the field (older runs) read as raw.
    @Test func theValidatedWeightsAreStated() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path, validation: true, endCollapse: 0.05)
        var run = try RunLogReader.read(dir: dir.path)
        #expect(RunStats(run).validatedWeights == "raw")
        for i in run.metrics.indices where run.metrics[i].kind == "val" { run.metrics[i].weights = "ema" }
        let s = RunStats(run)
        #expect(s.validatedWeights == "ema")
        #expect(
            s.verdict.contains {
                $0.hasPrefix("At the last validation (step 300) the model (the EMA of its weights) beats")
            })
        let report = RunReport(run)
        #expect(
            report.markdown().contains(
                "The model is validated with the EMA of its weights (train.ema); best.safetensors was chosen by it."))
    }

    @Test func noValidationYetIsSaid() throws {
        let s = try Self.stats(validation: false)
        #expect(s.validations.isEmpty)
        #expect(s.verdict.contains("No validation yet."))
    }

    @Test func bestValidationIsTheHighestModelPSNRMu() throws {
        let s = try Self.stats()
        #expect(s.bestValidation?.step == 300)
        #expect(s.steps == 300 && s.firstStep == 1 && s.lastStep == 300 && s.earlyLimit == 31)
        #expect(s.stepsPerSecond == 4)
    }
}
