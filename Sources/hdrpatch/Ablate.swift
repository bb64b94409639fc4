// `hdrpatch ablate`: every (variant, seed) of an ablation file as an ordinary training run, N at a time, then
// the comparison of the variants and the strategy's claims.
import ArgumentParser
import Foundation
import Reports
import RunFiles
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
        let plan: AblationPlan
        do { plan = try AblationPlan.load(path: config) } catch {
            printError("\(config): \(error)")
            throw ExitCode(1)
        }
        let outDir = out ?? "runs/ablation-\(plan.name)" + (quick ? "-quick" : "")
        let runs = plan.runs(out: outDir, quick: quick, seedCount: seeds)
        let budget = quick ? plan.quickSteps : plan.steps
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        // Share the cores between the jobs rather than oversubscribe them.
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / jobs)
        say(
            "ablation \(plan.name): \(plan.variants.count) variants x \(runs.count / max(1, plan.variants.count)) seed(s), "
                + "\(budget) steps each, \(jobs) at a time -> \(outDir)")

        var statuses: [String: AblationRun.Status] = [:]
        var pending: [AblationPlan.Run] = []
        for r in runs {
            switch Self.state(of: r, budget: budget) {
            case .finished: statuses[r.dir] = .finished
            case .resumable, .fresh: pending.append(r)
            }
        }
        let skipped = statuses.count
        if skipped > 0 { say("\(skipped) run(s) already finished: skipped") }

        var running: [(run: AblationPlan.Run, process: Process, started: Date)] = []
        var done = skipped
        let interrupted = Mutexed(false)
        let handler = InterruptHandler { interrupted.set(true) }
        while !pending.isEmpty || !running.isEmpty {
            while running.count < jobs, !pending.isEmpty, !interrupted.get() {
                let r = pending.removeFirst()
                if case .resumable(let step) = Self.state(of: r, budget: budget) {
                    say("\(r.variant) seed \(r.seed): resuming from step \(step) of \(budget)")
                }
                do {
                    running.append(
                        (r, try Self.launch(r, executable: executable, threads: threads, budget: budget), Date()))
                } catch {
                    statuses[r.dir] = .failed("could not start: \(error)")
                    done += 1
                }
            }
            if interrupted.get() && running.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.2)
            for (i, job) in running.enumerated().reversed() where !job.process.isRunning {
                running.remove(at: i)
                done += 1
                let code = job.process.terminationStatus
                let took = ProgressDisplay.duration(Date().timeIntervalSince(job.started))
                if code == 0 {
                    statuses[job.run.dir] = .finished
                    say("[\(done)/\(runs.count)] \(job.run.variant) seed \(job.run.seed): finished in \(took)")
                } else {
                    let why = Self.lastLine(ofLog: RunDirectory(job.run.dir).trainLog) ?? "exit status \(code)"
                    statuses[job.run.dir] =
                        code == 130 ? .failed("interrupted (resume with the same command)") : .failed(why)
                    say("[\(done)/\(runs.count)] \(job.run.variant) seed \(job.run.seed): failed after \(took): \(why)")
                }
            }
        }
        withExtendedLifetime(handler) {}
        let results = runs.map { r in
            AblationRun(variant: r.variant, seed: r.seed, dir: r.dir, status: statuses[r.dir] ?? .missing)
        }
        do {
            let comparison = try AblationComparison(runs: results, variantOrder: plan.variants.map(\.name))
            let paths = try comparison.write(to: outDir)
            say("comparison: \(paths.markdown)\ncomparison: \(paths.html)\ncomparison: \(paths.csv)")
            for claim in comparison.claims {
                let measured =
                    claim.measured.map { m in
                        String(format: "%.3g", m.mean) + (m.std.map { String(format: " +- %.2g", $0) } ?? "")
                            + " (n=\(m.n))"
                    } ?? "not measured"
                say("claim: \(claim.name): \(claim.verdict.rawValue); measured \(measured)")
            }
        } catch {
            printError("\(outDir): \(error)")
            throw ExitCode(1)
        }
        if interrupted.get() { throw ExitCode(130) }
        if results.contains(where: { if case .failed = $0.status { return true } else { return false } }) {
            throw ExitCode(2)
        }
    }

    enum RunState: Equatable {
        case finished
        case resumable(step: Int)
        case fresh
    }

    /// Finished when the latest checkpoint has the full step budget; resumable when a checkpoint exists.
    static func state(of r: AblationPlan.Run, budget: Int) -> RunState {
        let weights = RunDirectory(r.dir).latestWeights
        guard FileManager.default.fileExists(atPath: weights),
            let step = (try? SafetensorsFile.read(path: weights))?.metadata["step"].flatMap(Int.init)
        else { return .fresh }
        return step >= budget ? .finished : .resumable(step: step)
    }

    static func launch(_ r: AblationPlan.Run, executable: String, threads: Int, budget: Int) throws -> Process {
        let fm = FileManager.default
        var args: [String]
        if case .resumable = state(of: r, budget: budget) {
            args = ["train", "--resume", r.dir]
        } else {
            // Started before but killed ahead of its first checkpoint: nothing to keep.
            if fm.fileExists(atPath: r.dir) { try fm.removeItem(atPath: r.dir) }
            args = ["train", "--config", r.config, "--run-dir", r.dir] + r.overrides.flatMap { ["--set", $0] }
        }
        try fm.createDirectory(atPath: r.dir, withIntermediateDirectories: true)
        let logPath = RunDirectory(r.dir).trainLog
        if !fm.fileExists(atPath: logPath) { _ = fm.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args + ["--workers", "1"]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = String(threads)
        p.environment = env
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func lastLine(ofLog path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("error:") }).map(String.init)
            ?? text.split(whereSeparator: \.isNewline).last.map(String.init)
    }

    private func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

/// A flag shared with the signal handler.
final class Mutexed<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func get() -> T {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
    func set(_ v: T) {
        lock.lock()
        value = v
        lock.unlock()
    }
}
