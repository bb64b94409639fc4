import Ablation
// `hdrpatch ablate`: every (variant, seed) of an ablation file as an ordinary training run, N at a time, then
// the comparison of the variants and the strategy's claims.
import ArgumentParser
import Config
import EXRIO
import Foundation
import Numerics
import Training

struct Ablate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every variant of an ablation file with every seed, then compare them and test the claims.",
        discussion: """
            Each (variant, seed) is a run directory <out>/<variant>/seed-<seed> made by `hdrpatch train` in a \
            child process (its output in train.log there), so `hdrpatch report` works on each. Running again \
            skips finished runs and resumes interrupted ones; a failed run is reported and the others go on. \
            Writes comparison.md, comparison.html and comparison.csv into <out>. On a Slurm cluster: --slurm FILE \
            writes an sbatch job array with one task per run (task i runs `ablate ... --task-index i`), and \
            --collect builds the comparison from the runs that finished, listing those that did not.
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

    @Option(help: "Write a Slurm sbatch script: a job array with one task per run; submit it with sbatch.")
    var slurm: String?

    @Option(help: "With --slurm: at most K array tasks at once (#SBATCH --array=0-(R-1)%K).")
    var maxParallel: Int?

    @Option(help: "With --slurm: CPUs (training threads) per array task.")
    var cpusPerTask: Int = 2

    @Option(help: "Train only run I of the plan (0-based; a Slurm array task's $SLURM_ARRAY_TASK_ID).")
    var taskIndex: Int?

    @Flag(help: "Start nothing: build the comparison from the runs that finished and list those that did not.")
    var collect = false

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if [slurm != nil, taskIndex != nil, collect].filter({ $0 }).count > 1 {
            throw ValidationError("--slurm, --task-index and --collect exclude each other")
        }
        if maxParallel != nil && slurm == nil { throw ValidationError("--max-parallel goes with --slurm") }
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        if cpusPerTask < 1 { throw ValidationError("--cpus-per-task must be at least 1") }
        if let taskIndex, taskIndex < 0 { throw ValidationError("--task-index must be >= 0") }
    }

    func run() throws {
        let plan = try withOneLineErrors(file: config) { try AblationPlan.load(path: config) }
        let outDir = out ?? "runs/ablation-\(plan.name)" + (quick ? "-quick" : "")
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let scheduler = AblationScheduler(
            plan: plan, out: outDir, quick: quick, seedCount: seeds, jobs: jobs, executable: executable)
        if let taskIndex, taskIndex >= scheduler.runs.count {
            printError("--task-index \(taskIndex): the plan of \(config) has runs 0-\(scheduler.runs.count - 1)")
            throw ExitCode(1)
        }
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
        if let slurm {
            return try writeSlurm(slurm, plan: plan, scheduler: scheduler, out: outDir, executable: executable)
        }
        if let taskIndex { return try runTask(taskIndex, scheduler: scheduler) }
        if collect {
            return try compare(scheduler.collect().runs, plan: plan, out: outDir, stopped: false, listing: scheduler)
        }
        let seedCount =
            scheduler.runs.count / max(1, plan.variants.count * plan.points.count * max(1, plan.tasks.count))
        say(
            "ablation \(plan.name): \(plan.variants.count) variants x "
                + (plan.tasks.isEmpty ? "" : "\(plan.tasks.count) tasks x ")
                + (plan.axes.isEmpty ? "" : "\(plan.points.count) sweep points x ")
                + "\(seedCount) seed(s) = \(scheduler.runs.count) runs, "
                + "\(scheduler.budget) steps each, \(jobs) at a time -> \(outDir)")
        let handler = InterruptHandler { sig in scheduler.requestStop(forwarding: sig == SIGINT ? nil : sig) }
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
        try compare(results, plan: plan, out: outDir, stopped: scheduler.stopRequested)
    }

    /// Writes the comparison of `results`; with `listing`, first names the runs that have not finished.
    private func compare(
        _ results: [AblationRun], plan: AblationPlan, out outDir: String, stopped: Bool,
        listing: AblationScheduler? = nil
    ) throws {
        if let listing {
            let unfinished = listing.collect().unfinished
            say("collect: \(results.count - unfinished.count) of \(results.count) runs finished")
            for (r, step) in unfinished {
                say(
                    "not finished: \(r.dir) "
                        + (step.map { "(checkpoint at step \($0) of \(listing.budget))" } ?? "(not started)"))
            }
        }
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
        if stopped { throw ExitCode(130) }
        if results.contains(where: { if case .failed = $0.status { return true } else { return false } }) {
            throw ExitCode(2)
        }
    }

    /// --slurm: the sbatch script, with absolute paths (a batch job starts elsewhere).
    private func writeSlurm(
        _ path: String, plan: AblationPlan, scheduler: AblationScheduler, out outDir: String, executable: String
    ) throws {
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : cwd + "/" + p }
        let job = AblationSlurm.Job(
            executable: absolute(executable), config: absolute(config), out: absolute(outDir), quick: quick,
            seeds: seeds, runs: scheduler.runs.count, maxParallel: maxParallel, cpusPerTask: cpusPerTask,
            name: plan.name)
        try withOneLineErrors(file: path) {
            try FileManager.default.createDirectory(atPath: job.out + "/slurm", withIntermediateDirectories: true)
            try FileBytes.atomicWrite(path, text: AblationSlurm.script(job))
        }
        say(
            "slurm: \(path): a job array of \(scheduler.runs.count) runs"
                + (maxParallel.map { ", at most \($0) at once" } ?? "") + ", \(cpusPerTask) CPUs each\n"
                + "submit: sbatch \(path)\nthen: \(job.executable) ablate "
                + job.selection.map(AblationSlurm.quote).joined(separator: " ") + " --collect")
    }

    /// --task-index: one run of the plan, in this process's allocation (a Slurm array task).
    private func runTask(_ index: Int, scheduler: AblationScheduler) throws {
        let threads = Parallel.threads
        let r = scheduler.runs[index]
        say("task \(index) of \(scheduler.runs.count): \(r.dir)")
        let handler = InterruptHandler { sig in scheduler.requestStop(forwarding: sig == SIGINT ? nil : sig) }
        let status = scheduler.runOne(index, threads: threads) { event in
            switch event {
            case .skipped: say("\(r.dir): already finished")
            case .resuming(_, let step): say("\(r.dir): resuming from step \(step) of \(scheduler.budget)")
            case .finished(_, let seconds, _, _): say("\(r.dir): finished in \(ProgressDisplay.duration(seconds))")
            case .failed(_, let seconds, let why, _, _):
                say("\(r.dir): failed after \(ProgressDisplay.duration(seconds)): \(why)")
            }
        }
        withExtendedLifetime(handler) {}
        if case .failed = status { throw ExitCode(2) }
    }

    private func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
