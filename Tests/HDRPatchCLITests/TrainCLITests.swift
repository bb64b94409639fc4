// `hdrpatch train` as a user runs it: config errors, a full small run, Ctrl-C, kill -9 and --resume.
import Foundation
import RunFiles
import TestSupport
import Testing
import Training

struct TrainCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A run of `steps` tiny steps on the committed sample set.
    static func writeConfig(
        _ dir: ScratchDir, steps: Int = 24, checkpointEvery: Int = 4, ema: Double? = nil, logEvery: Int = 2
    ) throws -> String {
        let yaml = """
            name: tiny
            seed: 5
            data: {train: \(repo)/data/sample/train, val: \(repo)/data/sample/val, patch_size: 32, batch_size: 4, workers: 1}
            model: {arch: plain, depth: 2, width: 4}
            residual: {mode: learnable, clamp: 8}
            loss:
              - {type: huber, weight: 2.0}
            optim: {type: adamw, lr: 3.0e-3}
            schedule: {type: cosine, warmup_steps: 2}
            train: {steps: \(steps), log_every: \(logEvery), val_every: 8, checkpoint_every: \(checkpointEvery), grad_clip: 1.0\(ema.map { ", ema: \($0)" } ?? "")}
            """
        let path = dir.file("tiny.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `data.val_mode: images` validates on every image restored whole: the run's last validation is what `evaluate`
    /// prints for the checkpoint of that step; with `tiles` (the sample's 64-pixel images cut into four 32-pixel tiles
    /// each) it is not. An unknown mode is one error line naming the key.
    @Test func validationOnWholeImagesIsWhatEvaluatePrints() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 8, checkpointEvery: 8)
        for mode in ["images", "tiles"] {
            let run = dir.file("run-\(mode)")
            let r = try CLI.run(
                ["train", "--config", config, "--run-dir", run, "--set", "data.val_mode=\(mode)"], timeout: 240)
            #expect(r.status == 0, "\(r.stderr)")
            let val = try #require(try RunLogReader.read(dir: run).metrics.last { $0.kind == "val" })
            #expect(val.step == 8)
            let e = try CLI.run([
                "evaluate", "--checkpoint", run + "/checkpoints/latest.safetensors", "--data",
                Self.repo + "/data/sample/val", "--json"
            ])
            #expect(e.status == 0, "\(e.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: [String: Any]]
            let evaluated = try #require(object?["model"]?["psnr_mu"] as? Double)
            let evaluatedIdentity = try #require(object?["identity"]?["psnr_mu"] as? Double)
            let validated = try #require(val.model?.psnrMu)
            let identity = try #require(val.identity?.psnrMu)
            if mode == "images" {
                #expect(abs(validated - evaluated) < 1e-9, "validation \(validated), evaluate \(evaluated)")
                #expect(abs(identity - evaluatedIdentity) < 1e-9)
            } else {
                #expect(abs(validated - evaluated) > 1e-3, "tiles scored like whole images: \(validated)")
            }
        }
        try Self.expectOneLineError(
            config, dir, set: "data.val_mode=whole", "data.val_mode: unknown validation mode 'whole'")
    }

    /// `train --set <set>` on `config` exits non-zero with one line on stderr that holds `message`.
    static func expectOneLineError(_ config: String, _ dir: ScratchDir, set: String, _ message: String) throws {
        let bad = try CLI.run(["train", "--config", config, "--run-dir", dir.file("bad"), "--set", set])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains(message) && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    /// `train.val_self_ensemble` validates with its passes per patch while the checkpoint keeps
    /// `model.self_ensemble`'s: the last validation is `evaluate --self-ensemble 1`'s score of that step's
    /// checkpoint, not `evaluate`'s eight-pass one. A count other than 1, 2, 4 or 8 is one error line naming the key.
    @Test func validationPassesAreTrainValSelfEnsembles() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 8, checkpointEvery: 8)
        let run = dir.file("run")
        let r = try CLI.run(
            [
                "train", "--config", config, "--run-dir", run, "--set", "data.val_mode=images", "--set",
                "model.self_ensemble=8", "--set", "train.val_self_ensemble=1"
            ], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(", validating with 1 pass(es) per patch (restoring with 8)"), "\(r.stdout)")
        let val = try #require(try RunLogReader.read(dir: run).metrics.last { $0.kind == "val" })
        #expect(val.step == 8)
        let validated = try #require(val.model?.psnrMu)
        func evaluated(_ passes: [String]) throws -> Double {
            let e = try CLI.run(
                [
                    "evaluate", "--checkpoint", run + "/checkpoints/latest.safetensors", "--data",
                    Self.repo + "/data/sample/val", "--json"
                ] + passes)
            #expect(e.status == 0, "\(e.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: [String: Any]]
            return try #require(object?["model"]?["psnr_mu"] as? Double)
        }
        let one = try evaluated(["--self-ensemble", "1"])
        let eight = try evaluated([])
        #expect(abs(validated - one) < 1e-9, "validation \(validated), evaluate with one pass \(one)")
        #expect(abs(validated - eight) > 1e-6, "validated as with eight passes: \(validated) vs \(eight)")
        let report = try String(contentsOfFile: run + "/report.md", encoding: .utf8)
        #expect(report.contains("Each validation restored the images with 1 pass per patch (train.val_self_ensemble)"))
        let saved = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        #expect(saved.contains(#""val_self_ensemble":1"#) || saved.contains(#""val_self_ensemble" : 1"#), "\(saved)")
        try Self.expectOneLineError(
            config, dir, set: "train.val_self_ensemble=3", "train.val_self_ensemble: must be 1, 2, 4 or 8 (got 3)")
    }

    /// `train.compute_threads` runs the steps on that many threads and validates on the program's: a run with it at 1
    /// trains bit for bit as a run with `HDRPATCH_THREADS=1` and scores the same validations, and its first lines
    /// say both counts. `HDRPATCH_THREADS`, when set, holds for the steps too. (An empty variable is an unset one.)
    @Test func computeThreadsRunTheStepsAndTheEnvironmentOverridesThem() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 8, checkpointEvery: 8)
        func train(_ name: String, _ environment: [String: String], _ set: [String]) throws -> (String, String) {
            let run = dir.file(name)
            let r = try CLI.run(
                ["train", "--config", config, "--run-dir", run] + set.flatMap { ["--set", $0] }, timeout: 240,
                environment: environment)
            #expect(r.status == 0, "\(r.stderr)")
            return (r.stdout, run)
        }
        let unset = ["HDRPATCH_THREADS": "", "OPENBLAS_NUM_THREADS": ""]
        let (line, stepsOnOne) = try train("steps-on-one", unset, ["train.compute_threads=1"])
        let (_, allOnOne) = try train("all-on-one", ["HDRPATCH_THREADS": "1"], [])
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if cores >= 2 {
            #expect(
                line.contains(
                    ", 1 compute thread(s) for the steps (train.compute_threads), \(cores) for validation\n"),
                "\(line)")
        }
        // The tensors of a safetensors file: what follows its 8-byte length and JSON header (whose metadata holds
        // the config and the wall time, which differ).
        func tensors(_ path: String) throws -> Data {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            return bytes.dropFirst(8 + length)
        }
        for file in ["latest.safetensors", "latest.state.safetensors"] {
            let a = try tensors(stepsOnOne + "/checkpoints/" + file)
            let b = try tensors(allOnOne + "/checkpoints/" + file)
            #expect(a.count > 100 && a == b, "\(file) differs")
        }
        let validations = { (run: String) in
            try RunLogReader.read(dir: run).metrics.filter { $0.kind == "val" }.map { $0.model?.psnrMu }
        }
        let (one, all) = (try validations(stepsOnOne), try validations(allOnOne))
        #expect(one.count == 1 && one == all)
        let (overridden, _) = try train("overridden", ["HDRPATCH_THREADS": "2"], ["train.compute_threads=1"])
        #expect(overridden.contains(", 2 thread(s)\n") && !overridden.contains("compute thread"), "\(overridden)")
    }

    @Test func aSmallRunWritesEverythingAndAReport() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir)
        let run = dir.file("run")
        let r = try CLI.run(["train", "--config", config, "--run-dir", run], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        for f in [
            "config.yaml", "metrics.jsonl", "monitor.jsonl", "incidents.csv", "report.html", "report.md",
            "checkpoints/latest.safetensors", "checkpoints/latest.state.safetensors", "checkpoints/best.safetensors"
        ] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + f), "missing \(f)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: run)
        #expect(files.contains { $0.hasPrefix("events.out.tfevents.") })
        #expect(r.stdout.contains("report: \(run)/report.html"))
        #expect(r.stdout.contains("step 24, val PSNR-mu "))
        let log = try RunLogReader.read(dir: run)
        #expect(log.monitor.map(\.step) == Array(1...24))
        #expect(log.metrics.filter { $0.kind == "val" }.map(\.step) == [8, 16, 24])
        #expect(log.metrics.filter { $0.kind == "val" }.allSatisfy { $0.weights == "raw" })
        // The same directory again is refused: a run is continued with --resume, never overwritten.
        let again = try CLI.run(["train", "--config", config, "--run-dir", run])
        #expect(again.status == 1 && again.stderr.contains("already holds a run; continue it with --resume"))
    }

    /// data.test: scored once at the end with the best checkpoint, each image whole, exactly as `evaluate` scores it;
    /// in metrics.jsonl, the report and the last stdout line. A missing test directory stops the run before step 1.
    @Test func aHeldOutTestSetIsScoredAtTheEndAsEvaluateScoresIt() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 16)
        let run = dir.file("run")
        let test = "\(Self.repo)/data/sample/val"
        let r = try CLI.run(["train", "--config", config, "--set", "data.test=\(test)", "--run-dir", run], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        let records = try RunLogReader.read(dir: run).metrics.filter { $0.kind == "test" }
        #expect(records.count == 1)
        let t = try #require(records.first)
        #expect(t.data == test && t.checkpoint == run + "/checkpoints/best.safetensors" && t.model?.patches == 8)
        // Pictures: the first 5 validation images, and one held-out image per source image (the manifest's: the
        // sample set's 8 pairs come from one procedural scene, so one); evaluate --images: one per image.
        let pictures = try FileManager.default.contentsOfDirectory(atPath: run + "/images").sorted()
        #expect(
            pictures.filter { $0.hasPrefix("val-") }.count == 5
                && pictures.filter { $0.hasPrefix("test-") } == ["test-000000.png"])
        let pictureDir = dir.file("pictures")
        let eval = try CLI.run([
            "evaluate", "--checkpoint", run + "/checkpoints/best.safetensors", "--data", test, "--json", "--images",
            pictureDir
        ])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: pictureDir).filter { $0.hasSuffix(".png") }.count == 8)
        #expect(eval.status == 0, "\(eval.stderr)")
        struct Scores: Decodable {
            var model: EvalMetrics
            var identity: EvalMetrics
        }
        let e = try JSONDecoder().decode(Scores.self, from: Data(eval.stdout.utf8))
        #expect(e.model == t.model && e.identity == t.identity)
        let m = try #require(t.model)
        let i = try #require(t.identity)
        let line = String(
            format: "held-out test (%@): PSNR-mu %.2f dB (identity %.2f, %+.2f), ", test, m.psnrMu, i.psnrMu,
            m.psnrMu - i.psnrMu)
        #expect(r.stdout.contains(line), "\(r.stdout)")
        let md = try String(contentsOfFile: run + "/report.md", encoding: .utf8)
        #expect(md.contains("## Held-out test\n\n\(test): 8 held-out images, each restored whole with "))
        #expect(
            md.contains(
                String(
                    format: "| PSNR-mu, NTIRE (dB) | %.2f | %.2f | %+.2f dB |", m.psnrMu, i.psnrMu, m.psnrMu - i.psnrMu)
            ))
        // Every held-out image scored alone: in the set's order, the set's numbers their means, and in the report
        // by source photograph (the sample set's 8 pairs come from one procedural scene: one row of all 8).
        let images = t.images ?? []
        #expect(images.map(\.name) == (0..<8).map { String(format: "%06d.exr", $0) })
        #expect(images.allSatisfy { $0.model.patches == 1 && $0.source == images.first?.source && $0.source != nil })
        let psnrMean = images.map(\.model.psnrMu).reduce(0, +) / Double(max(images.count, 1))
        #expect(abs(psnrMean - m.psnrMu) <= 1e-9 * m.psnrMu, "\(psnrMean) \(m.psnrMu)")
        let identityMean = images.map(\.identity.psnrMu).reduce(0, +) / Double(max(images.count, 1))
        let source = ((images.first?.source ?? "") as NSString).lastPathComponent
        #expect(
            md.contains(String(format: "| %@ | 8 | %+.2f dB |", source, psnrMean - identityMean)), "\(md)")
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(html.contains("<h2>Held-out test</h2>"))
        #expect(html.contains("By source photograph"))
        let missing = try CLI.run(
            ["train", "--config", config, "--set", "data.test=\(dir.file("nowhere"))", "--run-dir", dir.file("run2")])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: config error: data.test: no such directory '\(dir.file("nowhere"))'\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("run2") + "/metrics.jsonl"))
    }

    /// A run with overflow incidents (a low overflow limit, Mode A from the default init) pictures the training
    /// patches of its worst incidents, one per pair file, at most 3, and the report embeds them.
    @Test func theWorstOverflowPatchesArePictured() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 8)
        let run = dir.file("run")
        let r = try CLI.run(
            [
                "train", "--config", config, "--run-dir", run, "--set",
                "residual={mode: fixed_cap, cap: 16, alpha: 1.2, clamp: null}",
                "--set", "train.zero_init_output=false", "--set", "monitor.overflow_limit=1.0"
            ], timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        let incidents = try RunLogReader.read(dir: run).incidents.filter { $0.kind == .overflow }
        try #require(!incidents.isEmpty, "the run must overflow for this test")
        let pictures = try FileManager.default.contentsOfDirectory(atPath: run + "/images").filter {
            $0.hasPrefix("overflow-")
        }
        let files = Set(incidents.map(\.file))
        #expect(pictures.count == min(3, files.count))
        // The worst incident (most overflow pixels) is among them, named by its step and pair.
        let worst = try #require(incidents.max { ($0.value, -$0.step) < ($1.value, -$1.step) })
        let name = (worst.file as NSString).deletingPathExtension
        #expect(pictures.contains("overflow-step\(worst.step)-\(name).png"), "\(pictures)")
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(html.contains("<img alt=\"overflow-step\(worst.step)-\(name).png\""))
    }

    @Test func configErrorsAreOneLineAndNothingRuns() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir)
        let r = try CLI.run(["train", "--config", config, "--set", "residual.k=0.9", "--run-dir", dir.file("run")])
        #expect(r.status == 1)
        #expect(
            r.stderr == "error: config error: residual.k: not used by mode learnable (it belongs to mode adaptive)\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("run")))
        let typo = try CLI.run(["train", "--config", config, "--set", "trian.steps=3"])
        #expect(typo.status == 1 && typo.stderr.contains("trian: unknown key (did you mean 'train'?)"))
        // hole_l1 weighs region masks: a set without a mask/ directory is refused before the first step.
        let holes = try CLI.run([
            "train", "--config", config, "--set", "loss=[{type: l1, weight: 1.0}, {type: hole_l1, weight: 4.0}]",
            "--run-dir", dir.file("holes")
        ])
        #expect(holes.status == 1)
        let plane = try CLI.run([
            "train", "--config", config, "--set", "model.inputs=[log_norm, hole_mask]", "--run-dir", dir.file("plane")
        ])
        #expect(
            plane.status == 1
                && plane.stderr
                    == "error: config error: model.inputs: hole_mask needs region masks, and data.train (\(Self.repo)/data/sample/train) has no mask/ directory\n"
        )
        #expect(
            holes.stderr
                == "error: config error: loss.1: hole_l1 needs region masks, and data.train (\(Self.repo)/data/sample/train) has no mask/ directory\n"
        )
    }

    /// Errors about a file as a whole name the file: a missing config, a directory that is not a run.
    @Test func missingConfigAndNonRunDirectoryNameThePath() throws {
        let dir = ScratchDir()
        let missing = dir.file("missing.yaml")
        let r = try CLI.run(["train", "--config", missing])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(missing): config error: No such file or directory\n")
        try FileManager.default.createDirectory(atPath: dir.file("notarun"), withIntermediateDirectories: true)
        let resume = try CLI.run(["train", "--resume", dir.file("notarun")])
        #expect(resume.status == 1)
        #expect(resume.stderr == "error: \(dir.file("notarun")): not a run directory (no config.yaml to resume from)\n")
        let ablate = try CLI.run(["ablate", "--config", missing])
        #expect(ablate.status == 1)
        #expect(ablate.stderr == "error: \(missing): config error: No such file or directory\n")
    }

    /// Kill -9 at random moments (checkpoints are written every step), resume each time: the final weights and
    /// their EMA (`train.ema` is on) equal those of a run never interrupted, and the logs hold every step exactly
    /// once.
    @Test func killNineAtAnyMomentLeavesAResumableRun() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 30, checkpointEvery: 1, ema: 0.9)
        let clean = dir.file("clean")
        #expect(try CLI.run(["train", "--config", config, "--run-dir", clean], timeout: 240).status == 0)

        let run = dir.file("killed")
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        var started = false
        for _ in 0..<8 {
            let args = started ? ["train", "--resume", run] : ["train", "--config", config, "--run-dir", run]
            let p = try CLI.start(args)
            Thread.sleep(forTimeInterval: Double.random(in: 0.3...1.5, using: &rng))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
            if FileManager.default.fileExists(atPath: run + "/checkpoints/latest.safetensors") {
                started = true
            } else {
                try? FileManager.default.removeItem(atPath: run)  // killed before the first checkpoint: start over
            }
        }
        let final = try CLI.run(
            started ? ["train", "--resume", run] : ["train", "--config", config, "--run-dir", run], timeout: 240)
        #expect(final.status == 0, "\(final.stderr)")
        let a = try SafetensorsFile.read(path: clean + "/checkpoints/latest.safetensors")
        let b = try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors")
        #expect(a.metadata["step"] == "30" && b.metadata["step"] == "30")
        #expect(a.tensors.filter { $0.name.hasPrefix("ema.") }.count * 2 == a.tensors.count)
        #expect(b.tensors.map(\.name) == a.tensors.map(\.name))
        for t in a.tensors {
            #expect(a.floats(t) == b.floats(b.tensor(named: t.name)!), "\(t.name) differs after \(kills) kill(s)")
        }
        let log = try RunLogReader.read(dir: run)
        #expect(log.monitor.map(\.step) == Array(1...30))
        print("kill -9: \(kills) kill(s), final weights identical to the uninterrupted run")
    }

    /// Starts `train` and returns once it is under way (a few monitor lines written).
    static func startTraining(config: String, run: String) throws -> Process {
        let p = try CLI.start(["train", "--config", config, "--run-dir", run])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline,
            ((try? String(contentsOfFile: run + "/monitor.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0)
                < 5
        {
            Thread.sleep(forTimeInterval: 0.05)
        }
        return p
    }

    /// A run directory being trained is locked: a second `train --resume` on it is refused at once with one line
    /// naming the holder (exit 75) and touches nothing; the lock ends with the process, so a lock file left behind
    /// (here: by a run stopped with SIGTERM) does not block the next resume.
    @Test func aRunBeingTrainedIsLockedAndALeftoverLockFileIsNot() throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 400, checkpointEvery: 1000)
        let run = dir.file("run")
        let p = try Self.startTraining(config: config, run: run)
        let monitorBefore = try String(contentsOfFile: run + "/monitor.jsonl", encoding: .utf8).count
        let second = try CLI.run(["train", "--resume", run])
        #expect(second.status == 75)
        #expect(
            second.stderr.hasPrefix("error: \(run): being trained by pid \(p.processIdentifier) on ")
                && second.stderr.hasSuffix("; not started (the lock is \(run)/train.lock)\n"), "\(second.stderr)")
        #expect(second.stdout.isEmpty)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 143)
        #expect(try String(contentsOfFile: run + "/monitor.jsonl", encoding: .utf8).count >= monitorBefore)
        #expect(FileManager.default.fileExists(atPath: run + "/train.lock"))
        let resumed = try CLI.run(["train", "--resume", run, "--workers", "0"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    /// Ctrl-C, SIGTERM (Slurm's time limit, scancel, preemption, docker stop) and SIGUSR1 (Slurm's early warning)
    /// each save a checkpoint at the current step, write the report and exit with 128 + the signal.
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGUSR1, Int32(138))])
    func aStopSignalSavesACheckpointAndExitsWithItsStatus(signal: Int32, status: Int32) throws {
        let dir = ScratchDir()
        let config = try Self.writeConfig(dir, steps: 400, checkpointEvery: 1000)
        let run = dir.file("run")
        let p = try Self.startTraining(config: config, run: run)
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        #expect(p.terminationStatus == status)
        let step = try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors").metadata["step"].flatMap(
            Int.init)
        #expect(step != nil && step! > 0 && step! < 400)
        #expect(FileManager.default.fileExists(atPath: run + "/report.html"))
        let refused = try CLI.run(["train", "--resume", run, "--set", "train.steps=10"])
        #expect(refused.status == 64)  // --resume takes the run's own config
        // What a requeued job does after SIGTERM: resume, and finish the run from the saved step.
        guard signal == SIGTERM else { return }
        let resumed = try CLI.run(["train", "--resume", run])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let last = try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors").metadata["step"]
        #expect(last == "400")
    }

    /// The checkpoint files `pid` has open while it writes them (`<name>.tmp-<pid>-<n>` beside the checkpoint).
    static func checkpointWrites(of pid: Int32, in run: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            .filter { $0.hasPrefix(run + "/checkpoints/") && $0.contains(".tmp-") }
    }

    /// SIGTERM that arrives while a checkpoint is being written (the process caught, stopped, with a temporary
    /// checkpoint file open) tears nothing: the write completes, the run saves at the step it stops at, exits 143,
    /// leaves no temporary file, and its weights and state agree on the step and resume.
    @Test func sigtermDuringACheckpointWriteTearsNothing() throws {
        let dir = ScratchDir()
        // A checkpoint every step, of a network large enough that writing it is a good share of each step.
        let config = try Self.writeConfig(dir, steps: 150, checkpointEvery: 1)
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "{arch: plain, depth: 2, width: 4}", with: "{arch: plain, depth: 4, width: 48}")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let run = dir.file("run")
        let p = try Self.startTraining(config: config, run: run)
        let pid = p.processIdentifier
        var caught: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while caught.isEmpty && p.isRunning && Date() < deadline {
            kill(pid, SIGSTOP)
            caught = Self.checkpointWrites(of: pid, in: run)
            if !caught.isEmpty { kill(pid, SIGTERM) }
            kill(pid, SIGCONT)
            if caught.isEmpty { usleep(UInt32.random(in: 200...3000)) }
        }
        #expect(!caught.isEmpty, "never caught the run writing a checkpoint")
        p.waitUntilExit()
        #expect(p.terminationStatus == 143)
        let files = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")
        #expect(!files.contains { $0.contains(".tmp-") }, "\(files)")
        let weights = try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors").metadata["step"]
        let state = try SafetensorsFile.read(path: run + "/checkpoints/latest.state.safetensors")
        #expect(weights != nil && state.metadata["resume.step"] == weights, "\(state.metadata)")
        let records = try String(contentsOfFile: run + "/monitor.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(String(records.count) == weights, "stopped at the step of its last record")
        let resumed = try CLI.run(["train", "--resume", run, "--workers", "0"], timeout: 240)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming at step \(weights ?? "?")"))
    }
}
