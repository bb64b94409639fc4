// `hdrpatch ablate`: runs every variant and seed as ordinary runs, skips finished ones, survives a failing one.
import Foundation
import RunFiles
import TestSupport
import Testing

struct AblateCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func files(_ dir: ScratchDir) throws -> String {
        let base = """
            name: tiny
            seed: 0
            data: {train: \(repo)/data/sample/train, val: \(repo)/data/sample/val, patch_size: 32, batch_size: 4, workers: 1}
            model: {arch: plain, depth: 2, width: 4}
            residual: {mode: learnable, clamp: 8}
            loss:
              - {type: huber, weight: 2.0}
            optim: {type: adamw, lr: 3.0e-3}
            train: {steps: 8, log_every: 2, val_every: 4, checkpoint_every: 4, grad_clip: 1.0}
            """
        try base.write(toFile: dir.file("base.yaml"), atomically: true, encoding: .utf8)
        let broken = """
              - {name: broken-vs-phase1, treated: broken, baseline: phase1, measure: val_log_l1, effect: reduction,
                 range: [0.05, 0.1]}
            """
        let ablation = Self.plan(
            dir, name: "t", extraVariant: "  - {name: broken, set: [\"data.train=\(dir.file("nowhere"))\"]}",
            extraClaim: broken)
        try ablation.write(toFile: dir.file("ablation.yaml"), atomically: true, encoding: .utf8)
        return dir.file("ablation.yaml")
    }

    @Test func runsCompareSkipsFinishedAndReportsFailures() throws {
        let dir = ScratchDir()
        let file = try Self.files(dir)
        let out = dir.file("out")
        let r = try CLI.run(["ablate", "--config", file, "--jobs", "2", "--out", out], timeout: 300)
        #expect(r.status == 2, "a failed variant makes the exit status 2: \(r.stderr)")
        for v in ["legacy_mode_a", "phase1"] {
            for s in [0, 1] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(v)/seed-\(s)/report.html"), "\(v) seed \(s)")
            }
        }
        #expect(r.stdout.contains("broken seed 0: failed"))
        #expect(r.stdout.contains("error: config error: data.train: "))
        for f in ["comparison.md", "comparison.html", "comparison.csv"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f)")
        }
        // The file's claims, in its order: one measured over both seeds, one whose treated variant never finished.
        let claims = r.stdout.split(separator: "\n").filter { $0.hasPrefix("claim: ") }
        #expect(claims.count == 2, "\(r.stdout)")
        // Two seeds: a mean +- std; the broken variant's claim cannot be measured, and the line says why.
        #expect(claims.first?.hasPrefix("claim: quality: ") == true && claims.first?.contains(" dB") == false)
        #expect(claims.first?.contains(" +- ") == true, "\(claims)")
        let broken =
            "claim: broken-vs-phase1: not measured. Not measurable (missing runs: broken (no finished run: "
            + "failed seeds 0, 1))."
        #expect(claims.last.map(String.init) == broken)
        let md = try String(contentsOfFile: out + "/comparison.md", encoding: .utf8)
        #expect(md.contains("missing runs: broken (no finished run: failed seeds 0, 1)"))
        // Again: the four finished runs are skipped, only the broken ones run (and fail) again.
        let again = try CLI.run(["ablate", "--config", file, "--jobs", "2", "--out", out], timeout: 300)
        #expect(again.stdout.contains("4 run(s) already finished: skipped"))
    }

    /// A run killed mid-way (kill -9, after its first checkpoint) is resumed by the next `ablate`, from that
    /// checkpoint to the full budget, and its metrics continue without repeating a step.
    @Test func resumesARunKilledMidway() throws {
        let dir = ScratchDir()
        _ = try Self.files(dir)
        let ablation = """
            name: r
            base: \(dir.file("base.yaml"))
            seeds: [0]
            steps: 600
            set: ["train.checkpoint_every=20", "train.val_every=300", "train.log_every=20"]
            variants:
              - {name: phase1, set: ["residual={mode: fixed_cap, cap: 6, clamp: 8}"]}
            """
        try ablation.write(toFile: dir.file("resume.yaml"), atomically: true, encoding: .utf8)
        let out = dir.file("out")
        let run = out + "/phase1/seed-0"
        // The run as ablate starts it, killed once its first checkpoint is on disk.
        try FileManager.default.createDirectory(atPath: out + "/phase1", withIntermediateDirectories: true)
        let child = try CLI.start([
            "train", "--config", dir.file("base.yaml"), "--run-dir", run,
            "--set", "train.checkpoint_every=20", "--set", "train.val_every=300",
            "--set", "train.log_every=20", "--set", "residual={mode: fixed_cap, cap: 6, clamp: 8}",
            "--set", "seed=0", "--set", "train.steps=600"
        ])
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: run + "/checkpoints/latest.safetensors"), child.isRunning,
            Date() < deadline
        {
            Thread.sleep(forTimeInterval: 0.005)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal, "killed before it could finish 600 steps")

        let r = try CLI.run(["ablate", "--config", dir.file("resume.yaml"), "--out", out], timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("phase1 seed 0: resuming from step "), "\(r.stdout)")
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        let steps = metrics.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains("\"kind\":\"train\""), let range = line.range(of: "\"step\":") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(steps.last == 600)
        #expect(steps == steps.sorted() && Set(steps).count == steps.count, "train steps logged once each: \(steps)")
        // Finished now: a third call skips it.
        let again = try CLI.run(["ablate", "--config", dir.file("resume.yaml"), "--out", out], timeout: 300)
        #expect(again.stdout.contains("1 run(s) already finished: skipped"))
    }

    /// `sweep.yaml`: phase1 on the tiny base config, one seed, 8 steps, swept over `axis` (`key: [values]`).
    static func sweepFile(_ dir: ScratchDir, axis: String) throws {
        _ = try files(dir)
        let ablation = """
            name: t
            base: \(dir.file("base.yaml"))
            seeds: [0]
            steps: 8
            variants:
              - {name: phase1, set: ["residual={mode: fixed_cap, cap: 6, clamp: 8}"]}
            axes:
              \(axis)
            """
        try ablation.write(toFile: dir.file("sweep.yaml"), atomically: true, encoding: .utf8)
    }

    /// A typo in a swept key (or anywhere in a run's config) stops the ablation before any run starts.
    @Test func anUnknownAxisKeyFailsBeforeAnyRun() throws {
        let dir = ScratchDir()
        try Self.sweepFile(dir, axis: "optim.lrr: [1.0e-2, 2.0e-2]")
        let out = dir.file("out")
        let r = try CLI.run(["ablate", "--config", dir.file("sweep.yaml"), "--out", out], timeout: 60)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: \(dir.file("sweep.yaml")): run \(out)/phase1/optim.lrr=1.0e-2/seed-0: "))
        #expect(r.stderr.contains("optim.lrr: unknown key (did you mean 'lr'?)"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A sweep (two points of an axis) runs every point as its own run directory, and a second call skips them all.
    @Test func aSweepRunsEveryPointAndResumesBySkipping() throws {
        let dir = ScratchDir()
        try Self.sweepFile(dir, axis: "optim.lr: [1.0e-3, 3.0e-3]")
        let out = dir.file("out")
        let r = try CLI.run(["ablate", "--config", dir.file("sweep.yaml"), "--out", out, "--jobs", "2"], timeout: 300)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("1 variants x 2 sweep points x 1 seed(s) = 2 runs"), "\(r.stdout)")
        // Each point's resolved config (JSON) carries its learning rate.
        for (label, written) in [("1.0e-3", "0.001"), ("3.0e-3", "0.003")] {
            let config = try String(
                contentsOfFile: "\(out)/phase1/optim.lr=\(label)/seed-0/config.yaml", encoding: .utf8)
            #expect(config.contains("\"lr\" : \(written),"), "\(label)")
        }
        let md = try String(contentsOfFile: out + "/comparison.md", encoding: .utf8)
        #expect(md.contains("## Stability map") && md.contains("| phase1 |"))
        let again = try CLI.run(["ablate", "--config", dir.file("sweep.yaml"), "--out", out], timeout: 120)
        #expect(again.status == 0 && again.stdout.contains("2 run(s) already finished: skipped"), "\(again.stdout)")
    }

    /// `--slurm` writes a job array with one task per run; its tasks, run as Slurm would run them (bash, with
    /// SLURM_ARRAY_TASK_ID set), then `--collect`, give the comparison `--jobs` gives; `--collect` lists what has
    /// not finished yet.
    @Test func aSlurmArrayOfTheRunsGivesTheComparisonOfJobs() throws {
        let dir = ScratchDir()
        _ = try Self.files(dir)
        let plan = try Self.twoVariants(dir)
        let (slurmOut, jobsOut, script) = (dir.file("array"), dir.file("jobs"), dir.file("two.sbatch"))
        let wrote = try CLI.run(
            ["ablate", "--config", plan, "--out", slurmOut, "--slurm", script, "--max-parallel", "2"])
        #expect(wrote.status == 0, "\(wrote.stderr)")
        #expect(wrote.stdout.contains("a job array of 4 runs, at most 2 at once"))
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(text.hasPrefix("#!/bin/bash\n"))
        for line in [
            "#SBATCH --array=0-3%2", "#SBATCH --cpus-per-task=2", "#SBATCH --output=\(slurmOut)/slurm/%A_%a.out",
            "#SBATCH --requeue", "#SBATCH --signal=B:USR1@120",
            "exec \(CLI.executable) ablate --config \(plan) --out \(slurmOut) --task-index \"$SLURM_ARRAY_TASK_ID\""
        ] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "missing line: \(line)\n\(text)")
        }
        #expect(try CLI.run(["-n", script], program: "/bin/bash").status == 0, "bash syntax")

        func task(_ i: Int) throws {
            // One CPU per task, as --jobs 2 below gives each run: the same threads, so the same numbers bit for bit
            // (across thread counts a run's values differ in the last bits).
            let r = try CLI.run(
                [script], timeout: 240, program: "/bin/bash",
                environment: ["SLURM_ARRAY_TASK_ID": "\(i)", "SLURM_CPUS_PER_TASK": "1"])
            #expect(r.status == 0, "task \(i): \(r.stdout)\(r.stderr)")
        }
        let collect = ["ablate", "--config", plan, "--out", slurmOut, "--collect"]
        try task(0)
        try task(2)
        let partial = try CLI.run(collect)
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(partial.stdout.contains("collect: 2 of 4 runs finished"))
        #expect(partial.stdout.contains("not finished: \(slurmOut)/legacy_mode_a/seed-1 (not started)"))
        #expect(partial.stdout.contains("not finished: \(slurmOut)/phase1/seed-1 (not started)"))
        try task(1)
        try task(3)
        try task(3)  // a task run again (a requeued array task) leaves its finished run as it is
        let full = try CLI.run(collect)
        #expect(full.stdout.contains("collect: 4 of 4 runs finished") && !full.stdout.contains("not finished"))

        let jobs = try CLI.run(
            ["ablate", "--config", plan, "--out", jobsOut, "--jobs", "2"], timeout: 300,
            environment: ["HDRPATCH_THREADS": "1"])
        #expect(jobs.status == 0, "\(jobs.stderr)")
        // Every column but the timings (wall_seconds, steps_per_second) is the same.
        func table(_ out: String) throws -> [[String]] {
            let rows = try String(contentsOfFile: out + "/comparison.csv", encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let keep = rows[0].indices.filter { !rows[0][$0].hasPrefix("wall_") && !rows[0][$0].hasPrefix("steps_") }
            return rows.map { row in keep.map { row[$0] } }
        }
        let (a, b) = (try table(slurmOut), try table(jobsOut))
        #expect(a.count == 3 && a == b, "\(a)\n\(b)")
        let claim = { (r: CLIResult) in r.stdout.split(separator: "\n").filter { $0.hasPrefix("claim: ") } }
        #expect(claim(full) == claim(jobs) && claim(full).count == 1)

        let outside = try CLI.run(["ablate", "--config", plan, "--out", slurmOut, "--task-index", "4"])
        #expect(outside.status == 1)
        #expect(outside.stderr == "error: --task-index 4: the plan of \(plan) has runs 0-3\n")
    }

    /// Two variants x two seeds on `files(dir)`'s base config: 4 runs that all finish.
    /// Slurm's early warning (`--signal=B:USR1@120`) reaches only the array task's own process, `hdrpatch ablate
    /// --task-index`: it passes the signal to its training, which checkpoints and stops; the task run again resumes
    /// and finishes the run.
    @Test func aSignalToAnArrayTaskReachesItsTrainingAndTheTaskResumes() throws {
        let dir = ScratchDir()
        _ = try Self.files(dir)
        let path = dir.file("long.yaml")
        try Self.plan(dir, name: "long").replacingOccurrences(of: "steps: 8", with: "steps: 400")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let out = dir.file("out")
        let run = out + "/legacy_mode_a/seed-0"
        let p = try CLI.start(["ablate", "--config", path, "--out", out, "--task-index", "0"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline,
            ((try? String(contentsOfFile: run + "/monitor.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0)
                < 5
        {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(p.processIdentifier, SIGUSR1)
        p.waitUntilExit()
        #expect(p.terminationStatus == 2)  // the task's run did not finish
        let log = try String(contentsOfFile: run + "/train.log", encoding: .utf8)
        #expect(log.contains("asked to stop (SIGUSR1): saving a checkpoint after this step"), "\(log)")
        let step = try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors").metadata["step"].flatMap(
            Int.init)
        #expect(step != nil && step! > 0 && step! < 400, "\(String(describing: step))")
        let again = try CLI.run(["ablate", "--config", path, "--out", out, "--task-index", "0"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("resuming from step \(step!) of 400"), "\(again.stdout)")
    }

    static func twoVariants(_ dir: ScratchDir) throws -> String {
        let path = dir.file("two.yaml")
        try plan(dir, name: "two").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An ablation file on `files(dir)`'s base.yaml: legacy_mode_a and phase1 (plus `extraVariant`), seeds 0 and 1,
    /// 8 steps, the quality claim (plus `extraClaim`).
    static func plan(_ dir: ScratchDir, name: String, extraVariant: String? = nil, extraClaim: String? = nil) -> String
    {
        """
        name: \(name)
        base: \(dir.file("base.yaml"))
        seeds: [0, 1]
        steps: 8
        variants:
          - {name: legacy_mode_a, set: ["residual={mode: fixed_cap, cap: 16, alpha: 1.2, clamp: null}"]}
          - {name: phase1, set: ["residual={mode: fixed_cap, cap: 6, clamp: 8}"]}
        \(extraVariant.map { $0 + "\n" } ?? "")claims:
          - {name: quality, treated: phase1, baseline: legacy_mode_a, measure: val_psnr_mu, effect: difference,
             direction: positive}
        \(extraClaim ?? "")
        """
    }

    /// The job array submitted for real: a single-node Slurm (Debian's slurmctld, slurmd and munge, started by
    /// tools/slurm/start_slurm.sh in a scratch directory, on ports of its own), `sbatch --wait` of the script
    /// `--slurm` wrote, then `--collect`. `make setup` installs Slurm: without it this fails, it does not skip.
    @Test func theJobArrayRunsUnderARealSlurm() throws {
        let sbatch = try #require(
            ["/usr/bin/sbatch", "/usr/local/bin/sbatch"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "sbatch not found: make setup installs slurmctld, slurmd, slurm-client and munge")
        let dir = ScratchDir()
        _ = try Self.files(dir)
        let plan = try Self.twoVariants(dir)
        let base = dir.file("slurm")
        let tools = Self.repo + "/tools/slurm"
        let ports = ["SLURM_CTLD_PORT": "17817", "SLURM_D_PORT": "17818"]
        let started = try CLI.run(
            [tools + "/start_slurm.sh", base], timeout: 90, program: "/bin/bash", environment: ports)
        defer { _ = try? CLI.run([tools + "/stop_slurm.sh", base], timeout: 60, program: "/bin/bash") }
        #expect(started.status == 0, "\(started.stderr)")
        let env = ["SLURM_CONF": base + "/etc/slurm.conf"]

        let (out, script) = (dir.file("array"), dir.file("two.sbatch"))
        let wrote = try CLI.run(
            ["ablate", "--config", plan, "--out", out, "--slurm", script, "--max-parallel", "2", "--cpus-per-task", "1"]
        )
        #expect(wrote.status == 0, "\(wrote.stderr)")
        let submitted = try CLI.run(["--wait", script], timeout: 240, program: sbatch, environment: env)
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
        #expect(submitted.stdout.hasPrefix("Submitted batch job "))
        let logs = try FileManager.default.contentsOfDirectory(atPath: out + "/slurm").filter { $0.hasSuffix(".out") }
        #expect(logs.count == 4, "one output file per array task: \(logs)")
        let collected = try CLI.run(["ablate", "--config", plan, "--out", out, "--collect"])
        #expect(collected.status == 0, "\(collected.stderr)")
        #expect(collected.stdout.contains("collect: 4 of 4 runs finished"), "\(collected.stdout)")
    }
}
