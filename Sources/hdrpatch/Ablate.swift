import Ablation
// `hdrpatch ablate`: every (variant, seed) of an ablation file as an ordinary training run, N at a time, then
// the comparison of the variants and the strategy's claims.
import ArgumentParser
import Config
import EXRIO
import Foundation
import Training

struct Ablate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every variant of an ablation file with every seed, then compare them and test the claims.",
        discussion: """
            Each (variant, seed) is a run directory <out>/<variant>/seed-<seed> made by `hdrpatch train` in a \
            child process (its output in train.log there), so `hdrpatch report` works on each. Running again \
            skips finished runs and resumes interrupted ones; a failed run is reported and the others go on. \
            Writes comparison.md, comparison.html and comparison.csv into <out>.
            """
    )

    @Option(help: "Ablation file (YAML): base config, variants, seeds, steps.")
    var config: String

    @Option(help: "Runs at a time.")
    var jobs: Int = 1

    @Option(help: "Use only the first K seeds of the file.")
    var seeds: Int?

    @Flag(help: "Shrink every run to the file's quick_steps: a demonstration that ends in minutes.")
    var quick = false

    @Option(help: "Output directory (default: runs/ablation-<name>, or ...-quick).")
    var out: String?

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
    }

    func run() throws {
        let plan = try withOneLineErrors(file: config) { try AblationPlan.load(path: config) }
        let outDir = out ?? "runs/ablation-\(plan.name)" + (quick ? "-quick" : "")
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let scheduler = AblationScheduler(
            plan: plan, out: outDir, quick: quick, seedCount: seeds, jobs: jobs, executable: executable)
        // Every run's config is read before any run starts: an unknown key (a typo in an axis, a task or a variant)
        // fails here and not after an hour of sweeping. Data paths are left to the runs (a set may be built later).
        try withOneLineErrors(file: config) {
            try ConfigPathChecks.$enabled.withValue(false) {
                for r in scheduler.runs {
                    do { _ = try TrainConfig.load(path: r.config, overrides: r.overrides) } catch let e as ConfigError {
                        throw FileError(path: config, reason: "run \(r.dir): \(e.file.map { "\($0): " } ?? "")\(e)")
                    }
                }
            }
        }
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let seedCount =
            scheduler.runs.count / max(1, plan.variants.count * plan.points.count * max(1, plan.tasks.count))
        say(
            "ablation \(plan.name): \(plan.variants.count) variants x "
                + (plan.tasks.isEmpty ? "" : "\(plan.tasks.count) tasks x ")
                + (plan.axes.isEmpty ? "" : "\(plan.points.count) sweep points x ")
                + "\(seedCount) seed(s) = \(scheduler.runs.count) runs, "
                + "\(scheduler.budget) steps each, \(jobs) at a time -> \(outDir)")
        let handler = InterruptHandler { scheduler.requestStop() }
        /// "phase1 seed 0", with the task and sweep point when the plan has them.
        func name(_ r: AblationPlan.Run) -> String {
            let at = [r.task, r.point.settings.isEmpty ? nil : r.point.label].compactMap { $0 }
            return r.variant + (at.isEmpty ? "" : " [\(at.joined(separator: ", "))]") + " seed \(r.seed)"
        }
        let results = scheduler.run { event in
            switch event {
            case .skipped(let n): say("\(n) run(s) already finished: skipped")
            case .resuming(let r, let step):
                say("\(name(r)): resuming from step \(step) of \(scheduler.budget)")
            case .finished(let r, let seconds, let done, let total):
                say("[\(done)/\(total)] \(name(r)): finished in \(ProgressDisplay.duration(seconds))")
            case .failed(let r, let seconds, let why, let done, let total):
                say(
                    "[\(done)/\(total)] \(name(r)): failed after "
                        + "\(ProgressDisplay.duration(seconds)): \(why)")
            }
        }
        withExtendedLifetime(handler) {}
        do {
            let comparison = try AblationComparison(
                runs: results, variantOrder: plan.variants.map(\.name), claims: plan.claims)
            let paths = try comparison.write(to: outDir)
            say("comparison: \(paths.markdown)\ncomparison: \(paths.html)\ncomparison: \(paths.csv)")
            for a in comparison.claimsAcrossPoints {
                say("claim: \(a.name): \(a.verdict.rawValue). \(AblationText.claimSummary(a))")
            }
        } catch {
            printError("\(outDir): \(error)")
            throw ExitCode(1)
        }
        if scheduler.stopRequested { throw ExitCode(130) }
        if results.contains(where: { if case .failed = $0.status { return true } else { return false } }) {
            throw ExitCode(2)
        }
    }

    private func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
