// Runs an ablation plan's (variant, seed) runs as child `hdrpatch train` processes, N at a time: finished runs are
// skipped, interrupted ones resumed from their latest checkpoint, a failed run is recorded and the others go on.
import Foundation
import RunFiles
import Synchronization

package final class AblationScheduler: Sendable {
    /// What happened, for the caller to print.
    package enum Event: Sendable {
        /// Runs whose latest checkpoint already holds the full step budget.
        case skipped(count: Int)
        case resuming(AblationPlan.Run, fromStep: Int)
        case finished(AblationPlan.Run, seconds: Double, done: Int, total: Int)
        /// `why` is the last `error:` line of the run's train.log (else its last line, else the exit status).
        case failed(AblationPlan.Run, seconds: Double, why: String, done: Int, total: Int)
    }

    /// Where a run stands, from its latest checkpoint's step.
    package enum RunState: Equatable, Sendable {
        case finished
        case resumable(step: Int)
        case fresh
    }

    package let runs: [AblationPlan.Run]
    package let budget: Int
    package let jobs: Int
    /// The `hdrpatch` binary the runs are started with.
    package let executable: String
    private let stop = Atomic<Bool>(false)

    /// - Parameters: as `AblationPlan.runs(out:quick:seedCount:)`; `jobs` runs at a time share the cores.
    package init(plan: AblationPlan, out: String, quick: Bool, seedCount: Int?, jobs: Int, executable: String) {
        runs = plan.runs(out: out, quick: quick, seedCount: seedCount)
        budget = quick ? plan.quickSteps : plan.steps
        self.jobs = max(1, jobs)
        self.executable = executable
    }

    /// Asks `run` to start nothing new and return once the running children exit (they stop at their own SIGINT,
    /// which the terminal sends them too, after saving a checkpoint). Safe from a signal handler's thread.
    /// With `forwarding`, also sends that signal to every running child: a signal only this process received (Slurm's
    /// `--signal=B:USR1@SECONDS` goes to the batch script's process alone; SIGTERM from `kill`) makes the children
    /// checkpoint and stop too. Ctrl-C reaches the children from the terminal already, and is not forwarded (a second
    /// signal would make them quit without their checkpoint).
    package func requestStop(forwarding signal: Int32? = nil) {
        stop.store(true, ordering: .relaxed)
        guard let signal else { return }
        for pid in children.withLock({ Array($0) }) { kill(pid, signal) }
    }

    /// Process ids of the running children.
    private let children = Mutex<Set<Int32>>([])
    package var stopRequested: Bool { stop.load(ordering: .relaxed) }

    /// Runs every pending run and returns each run's status, in plan order.
    package func run(_ report: (Event) -> Void) -> [AblationRun] {
        // Share the cores between the jobs rather than oversubscribe them.
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / jobs)
        var statuses: [String: AblationRun.Status] = [:]
        var pending: [AblationPlan.Run] = []
        for r in runs {
            if Self.state(of: r, budget: budget) == .finished { statuses[r.dir] = .finished } else { pending.append(r) }
        }
        if !statuses.isEmpty { report(.skipped(count: statuses.count)) }
        var running: [(run: AblationPlan.Run, process: Process, started: Date)] = []
        var done = statuses.count
        while !pending.isEmpty || !running.isEmpty {
            while running.count < jobs, !pending.isEmpty, !stopRequested {
                let r = pending.removeFirst()
                if let why = Self.held(r) {
                    done += 1
                    statuses[r.dir] = .failed(why)
                    report(.failed(r, seconds: 0, why: why, done: done, total: runs.count))
                    continue
                }
                if case .resumable(let step) = Self.state(of: r, budget: budget) {
                    report(.resuming(r, fromStep: step))
                }
                do {
                    running.append((r, try launch(r, threads: threads), Date()))
                } catch {
                    done += 1
                    statuses[r.dir] = .failed("could not start: \(error)")
                    report(.failed(r, seconds: 0, why: "could not start: \(error)", done: done, total: runs.count))
                }
            }
            if stopRequested && running.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.2)
            for (i, job) in running.enumerated().reversed() where !job.process.isRunning {
                reaped(job.process)
                running.remove(at: i)
                done += 1
                let (status, event) = Self.ended(job.run, job.process, started: job.started, done: done, of: runs.count)
                statuses[job.run.dir] = status
                report(event)
            }
        }
        return runs.map { r in
            AblationRun(
                variant: r.variant, seed: r.seed, dir: r.dir, status: statuses[r.dir] ?? .missing, task: r.task,
                point: r.point)
        }
    }

    /// Why `r` is skipped when another process (a second `ablate`, a Slurm task, a `train --resume`) trains its
    /// directory now: nothing of it is touched, not even a directory without a checkpoint yet.
    static func held(_ r: AblationPlan.Run) -> String? {
        RunLock.holder(of: r.dir).map { "skipped: \(r.dir) is being trained by \($0)" }
    }

    /// A finished child's status and event.
    static func ended(
        _ r: AblationPlan.Run, _ process: Process, started: Date, done: Int, of total: Int
    ) -> (AblationRun.Status, Event) {
        let code = process.terminationStatus
        let took = Date().timeIntervalSince(started)
        if code == 0 { return (.finished, .finished(r, seconds: took, done: done, total: total)) }
        let why = Self.lastLine(ofLog: RunDirectory(r.dir).trainLog) ?? "exit status \(code)"
        // Stopped by a signal (Ctrl-C, SIGTERM, SIGUSR1: 128 + it) after saving its checkpoint.
        let stopped = [128 + SIGINT, 128 + SIGTERM, 128 + SIGUSR1].contains(code)
        return (
            stopped ? .failed("interrupted (resume with the same command)") : .failed(why),
            .failed(r, seconds: took, why: why, done: done, total: total)
        )
    }

    /// Runs `runs[index]` alone and waits for it: one task of a Slurm job array (`ablate --task-index`). A finished
    /// run is left as it is, an interrupted one resumed, exactly as `run` treats it; `threads` compute threads.
    package func runOne(_ index: Int, threads: Int, _ report: (Event) -> Void) -> AblationRun.Status {
        let r = runs[index]
        if let why = Self.held(r) {
            report(.failed(r, seconds: 0, why: why, done: 1, total: 1))
            return .failed(why)
        }
        switch Self.state(of: r, budget: budget) {
        case .finished:
            report(.skipped(count: 1))
            return .finished
        case .resumable(let step):
            report(.resuming(r, fromStep: step))
        case .fresh:
            break
        }
        let started = Date()
        do {
            let p = try launch(r, threads: threads)
            p.waitUntilExit()
            reaped(p)
            let (status, event) = Self.ended(r, p, started: started, done: 1, of: 1)
            report(event)
            return status
        } catch {
            report(.failed(r, seconds: 0, why: "could not start: \(error)", done: 1, total: 1))
            return .failed("could not start: \(error)")
        }
    }

    /// Every run's status from what is on disk, starting nothing (`ablate --collect`): finished runs, and the
    /// others as missing with where each stands (nil: never started).
    package func collect() -> (runs: [AblationRun], unfinished: [(AblationPlan.Run, step: Int?)]) {
        var unfinished: [(AblationPlan.Run, step: Int?)] = []
        let statuses = runs.map { r -> AblationRun in
            let state = Self.state(of: r, budget: budget)
            switch state {
            case .finished: break
            case .resumable(let step): unfinished.append((r, step))
            case .fresh: unfinished.append((r, nil))
            }
            return AblationRun(
                variant: r.variant, seed: r.seed, dir: r.dir, status: state == .finished ? .finished : .missing,
                task: r.task, point: r.point)
        }
        return (statuses, unfinished)
    }

    /// Finished when the latest checkpoint has the full step budget, or when the run stopped at its divergence
    /// (monitor.on_divergence: stop: a "diverged" record with `stopped`); resumable when a checkpoint exists.
    package static func state(of r: AblationPlan.Run, budget: Int) -> RunState {
        let run = RunDirectory(r.dir)
        if let metrics = try? RunLogReader.metrics(path: run.metrics),
            metrics.contains(where: { $0.kind == "diverged" && $0.stopped == true })
        {
            return .finished
        }
        let weights = run.latestWeights
        guard FileManager.default.fileExists(atPath: weights),
            let step = (try? SafetensorsFile.read(path: weights))?.metadata["step"].flatMap(Int.init)
        else { return .fresh }
        return step >= budget ? .finished : .resumable(step: step)
    }

    func launch(_ r: AblationPlan.Run, threads: Int) throws -> Process {
        let fm = FileManager.default
        var args: [String]
        if case .resumable = Self.state(of: r, budget: budget) {
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
        children.withLock { _ = $0.insert(p.processIdentifier) }
        return p
    }

    /// Forgets an exited child.
    private func reaped(_ p: Process) { children.withLock { _ = $0.remove(p.processIdentifier) } }

    static func lastLine(ofLog path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("error:") }).map(String.init)
            ?? text.split(whereSeparator: \.isNewline).last.map(String.init)
    }
}
