// `hdrpatch train`: a config-driven run into a run directory, with the monitor, checkpoints and a report.
import ArgumentParser
import Cluster
import Config
import Data
import EXRIO
import Foundation
import Losses
import Model
import Numerics
import Reports
import RunFiles
import Training

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a patch network from a YAML config; write metrics, monitor, checkpoints and a report.",
        discussion: """
            Writes the run directory (default runs/<name>-<timestamp>): config.yaml (the resolved config), \
            metrics.jsonl, monitor.jsonl, incidents.csv, a TensorBoard event file, checkpoints/latest.safetensors \
            (+ .state.safetensors), checkpoints/best.safetensors, report.html and report.md. --resume DIR continues \
            a run exactly where its last checkpoint left it. Ctrl-C, SIGTERM and SIGUSR1 save a checkpoint and exit \
            (status 130, 143, 138). A config may start from another with `base: FILE` and change only what differs; \
            --print-config shows the result. Config keys: configs/README.md.
            """
    )

    @Option(help: "Training config (YAML).")
    var config: String?

    @Option(name: .customLong("set"), help: "Override a config key: key.path=value (repeatable; list items by index).")
    var overrides: [String] = []

    @Option(help: "Run directory (default: runs/<name>-<timestamp>).")
    var runDir: String?

    @Option(help: "Continue the run in this directory from its latest checkpoint.")
    var resume: String?

    @Option(help: "Loader worker threads (overrides data.workers).")
    var workers: Int?

    @Flag(
        help: ArgumentHelp(
            "Print the resolved config and exit without training.",
            discussion:
                "Base files merged, --set applied, every default filled in: what the run's config.yaml would hold."))
    var printConfig = false

    func validate() throws {
        if resume == nil && config == nil { throw ValidationError("give --config FILE, or --resume RUN_DIR") }
        if printConfig && resume != nil { throw ValidationError("--print-config takes --config, not --resume") }
        if resume != nil && (config != nil || !overrides.isEmpty || runDir != nil) {
            throw ValidationError("--resume takes the run's own config: drop --config, --set and --run-dir")
        }
    }

    func run() throws {
        if printConfig {
            try withOneLineErrors(keyErrorsNameFile: false) {
                print(try TrainConfig.load(path: config!, overrides: overrides).resolvedJSONText)
            }
            return
        }
        // Under mpirun every rank runs this; an error on any rank ends the whole job (MPI_Abort) with the rank
        // and the reason on one line, rather than leaving the others waiting in a collective.
        var group = ProcessGroup.single
        do {
            try withOneLineErrors(keyErrorsNameFile: false) {
                group = try ProcessGroup.world()
                try execute(group)
            }
        } catch let e as ExitCode where e.rawValue != 1 || !group.usesMPI {
            ProcessGroup.finalize()
            throw e
        } catch {
            if group.usesMPI { group.abort(1) }
            throw error
        }
        ProcessGroup.finalize()
    }

    private func execute(_ group: ProcessGroup) throws {
        let cfg: TrainConfig
        let run: RunDirectory
        // Rank 0 holds the run directory while it trains it (flock on <dir>/train.lock): a second `train` on it, a
        // second `ablate` or a Slurm task that runs it too gets one line naming the holder, and exit status 75.
        var lock: RunLock?
        if let resume {
            run = RunDirectory(resume)
            guard run.exists else {
                throw TrainCLIError("\(resume): not a run directory (no \(RunDirectory.configName) to resume from)")
            }
            if group.isRoot { lock = try Self.lock(run.path, group: group) }
            cfg = try TrainConfig.load(path: run.config)
        } else {
            cfg = try TrainConfig.load(path: config!, overrides: overrides)
            // Rank 0's clock names the run directory for every rank; rank 0 alone creates it.
            run = RunDirectory(try group.broadcast(runDir ?? Self.defaultRunDir(name: cfg.name)))
            if group.isRoot {
                if run.exists {
                    throw TrainCLIError(
                        "\(run.path): already holds a run; continue it with --resume \(run.path) or choose another --run-dir"
                    )
                }
                try FileManager.default.createDirectory(atPath: run.checkpoints, withIntermediateDirectories: true)
                lock = try Self.lock(run.path, group: group)
                // Two processes started on one new directory at once: the one that got the lock second finds the
                // other's config.
                if run.exists {
                    throw TrainCLIError("\(run.path): already holds a run (started beside this one)")
                }
                try FileBytes.atomicWrite(run.config, text: cfg.resolvedJSONText + "\n")
            }
        }
        defer { withExtendedLifetime(lock) {} }
        let parallel = DataParallel(group: group, globalBatch: cfg.data.batchSize)
        if group.isDistributed && cfg.data.batchSize < group.size {
            throw TrainCLIError(
                "data.batch_size \(cfg.data.batchSize) is smaller than the \(group.size) ranks: it is the global batch, "
                    + "split over the ranks")
        }
        let dir = run.path
        let checkpoints = run.checkpoints
        let latest = run.latest
        var resumeStep: Int? = nil
        if resume != nil {
            guard latest.exists else { throw TrainCLIError("\(checkpoints): no latest checkpoint to resume from") }
            resumeStep = try SafetensorsFile.read(path: latest.weightsPath).metadata["step"].flatMap(Int.init)
        }

        let optimizer = cfg.makeOptimizer()
        let model = try cfg.makeModel(stateSlots: optimizer.stateSlots)
        var initLine = ""
        if resume == nil, let initFrom = cfg.train.initFrom {
            let weights = try cfg.train.initWeights(fileHoldsEMA: try WeightsFile.holdsEMA(path: initFrom))
            try WeightsFile.load(into: model.store, from: initFrom, weights: weights)
            initLine = ", starting from the \(weights.rawValue) weights of \(initFrom)"
        }
        let loaderConfig = cfg.loaderConfig(workers: workers)
        let warnings = WarningPrinter()
        let trainSet =
            try cfg.data.trainRecipe.map { recipe in
                try PairedDataset(
                    sources: cfg.data.train, recipe: try DegradationRecipe.load(path: recipe), recipeName: recipe,
                    config: loaderConfig, warn: warnings.closure)
            } ?? PairedDataset(root: cfg.data.train, config: loaderConfig, warn: warnings.closure)
        var valLoaderConfig = loaderConfig
        valLoaderConfig.cache = true
        let valSet = try PairedDataset(root: cfg.data.val, config: valLoaderConfig, warn: warnings.closure)
        // A hole_mask input reads the sets' region masks: both sets must have them.
        if model.inputs.usesRegions {
            for (key, set) in [("data.train", trainSet), ("data.val", valSet)] where !set.hasMasks {
                throw ConfigError(
                    keyPath: "model.inputs",
                    reason: "hole_mask needs region masks, and \(key) (\(set.root)) has no mask/ directory")
            }
            if let test = cfg.data.test, !PairedDataset.hasMaskDirectory(root: test) {
                throw ConfigError(
                    keyPath: "model.inputs",
                    reason: "hole_mask needs region masks, and data.test (\(test)) has no mask/ directory")
            }
        }
        // hole_l1 weighs the pixels of the sets' region masks: both sets must have them.
        if let i = cfg.loss.terms.firstIndex(where: { type(of: $0.term).type == HoleL1Loss.type }) {
            for (key, set) in [("data.train", trainSet), ("data.val", valSet)] where !set.hasMasks {
                throw ConfigError(
                    keyPath: "loss.\(i)",
                    reason: "hole_l1 needs region masks, and \(key) (\(set.root)) has no mask/ directory")
            }
        }
        let overflowLimit = Float(cfg.monitor.overflowLimit)
        // Data-parallel, each rank scores its share of the validation tiles (or images) and the sums are added up.
        // This rank's share, scored into an evaluator of the model being validated.
        let scoreShare: (Evaluator) throws -> Void
        switch cfg.data.valMode {
        case .tiles:
            let validation = try ValidationSet(dataset: valSet, batchSize: cfg.data.batchSize, mode: .tiles)
            let allValBatches = try validation.batches()
            let valBatches = Array(allValBatches[group.share(of: allValBatches.count)])
            scoreShare = { evaluator in for b in valBatches { evaluator.add(b) } }
        case .images:
            // Decoded once; each validation restores them whole, as the held-out scoring does.
            let images = try group.share(of: valSet.pairs.count).map { i in
                let (input, target) = try valSet.images(i)
                return (input: input, target: target, regions: try valSet.regions(i))
            }
            scoreShare = { evaluator in
                let restorer = try TiledRestore(model: evaluator.model)
                for image in images {
                    evaluator.restoreAndAdd(
                        input: image.input, target: image.target, regions: image.regions, restorer: restorer)
                }
            }
        }
        // The identity baseline does not change during the run: scored at the first validation (this rank's share,
        // before the ranks' sums are added) and reused by every later one.
        let identity = IdentityCache()
        // train.val_self_ensemble: the validations' passes per patch, in place of model.self_ensemble's.
        let valPasses = cfg.train.valSelfEnsemble
        let validate = { (m: PatchModel) -> (model: EvalMetrics, identity: EvalMetrics) in
            let restores = m.selfEnsemble
            if let valPasses { m.selfEnsemble = valPasses }
            defer { m.selfEnsemble = restores }
            let evaluator = Evaluator(model: m, loss: cfg.loss, eps: cfg.logNorm.eps, overflowLimit: overflowLimit)
            if let scores = identity.scores { evaluator.reuseIdentity(scores) }
            try scoreShare(evaluator)
            if identity.scores == nil { identity.scores = evaluator.identityScores }
            if group.isDistributed { try evaluator.combine { try group.sum(&$0) } }
            return evaluator.result()
        }

        // Rank 0 alone writes the run's records; the others train, validate and write nothing.
        let log = group.isRoot ? try RunLog.open(dir: dir, resumeFromStep: resumeStep) : nil
        defer { log?.close() }
        let share = group.isDistributed ? parallel.share : nil
        let trainer = Trainer(
            step: cfg.makeTrainingStep(model: model, optimizer: optimizer), settings: cfg.trainerSettings,
            config: cfg.resolved, checkpointDirectory: checkpoints, sink: log ?? SilentSink(),
            makeLoader: { epoch in
                try PrefetchLoader(dataset: trainSet, config: loaderConfig, startEpoch: epoch, share: share)
            },
            validate: validate, dataParallel: group.isDistributed ? parallel : nil)
        let display = ProgressDisplay(every: cfg.train.logEvery)
        if group.isRoot { trainer.progress = { display.update($0) } }
        let interrupt = InterruptHandler { _ in trainer.requestStop() }
        // Through FileHandle like the progress display, so the lines come out in order.
        let ranks =
            group.isDistributed
            ? ", \(group.size) ranks x \(Parallel.threads) thread(s), \(share!.count) of each batch of "
                + "\(cfg.data.batchSize) on rank 0" : ""
        if group.isRoot {
            FileHandle.standardOutput.write(
                Data(
                    ("run \(dir): \(cfg.name), "
                        + (trainSet.online.map {
                            "train pairs made on the fly from \(trainSet.pairs.count) sources with \($0.recipeName), "
                        } ?? "\(trainSet.pairs.count) train pairs, ")
                        + "\(valSet.pairs.count) val images, \(cfg.train.steps) steps" + ranks
                        + (resumeStep.map { ", resuming at step \($0)" } ?? "") + initLine
                        + (cfg.train.ema.map { ", validating the EMA of the weights (decay \($0))" } ?? "")
                        + (valPasses.map {
                            ", validating with \($0.count) pass(es) per patch (restoring with "
                                + "\(cfg.selfEnsemble.count))"
                        } ?? "") + "\n"
                        + MachineLine.describe(threads: Parallel.threads, stepThreads: cfg.train.stepThreads) + "\n")
                        .utf8))
        }
        let outcome = try trainer.run(resume: resume != nil)
        // The exit status of an interrupted run says which signal stopped it (130 SIGINT, 143 SIGTERM, 138 SIGUSR1;
        // a rank stopped because another rank was signalled: 130).
        let stopSignal = interrupt.signal == 0 ? SIGINT : interrupt.signal
        guard let log else { return try Self.exit(outcome, signal: stopSignal) }  // rank > 0: rank 0 writes the end up
        display.finish()
        var test: MetricsRecord?
        // Scored when the run came to its end (finished, or stopped at its divergence as asked); an interrupted or
        // failed run is not over yet.
        var ended = outcome.end == .finished
        if case .stoppedOnDivergence = outcome.end { ended = true }
        // Scored and pictured with the best checkpoint (the latest when no validation ran).
        if ended {
            let weights = FileManager.default.fileExists(atPath: run.best) ? run.best : run.latestWeights
            let loaded = try CheckpointModel.load(checkpoint: weights)
            let restorer = try TiledRestore(model: loaded.model)
            let pictures = Pictures(dir: run.images, eps: loaded.model.logNorm.eps)
            try pictures.write(
                valSet, indices: Array(valSet.pairs.indices.prefix(Self.picturesPerSet)), prefix: "val",
                restorer: restorer)
            if let testSet = cfg.data.test {
                let dataset = try PairedDataset(
                    root: testSet, config: LoaderConfig(patchSize: 1, batchSize: 1, workers: 0), warn: warnings.closure)
                let wall = outcome.lastValidation?.wallSeconds ?? 0
                let sources = Self.pairSources(root: testSet)
                test = try Self.scoreTestSet(
                    dataset, root: testSet, sources: sources, loaded: loaded, weights: weights, restorer: restorer,
                    wallSeconds: wall, pictures: pictures, picture: Set(Self.pictureIndices(dataset, sources: sources)))
                try log.append(test!)
            }
            try pictures.writeOverflowPatches(
                incidents: try RunLogReader.incidents(path: run.incidents), trainSet: trainSet,
                patch: cfg.data.patchSize, restorer: restorer)
        }
        log.sync()

        let report = try RunReport.load(dir)
        let paths = try report.write()
        FileHandle.standardOutput.write(
            Data("report: \(paths.html)\n\(Self.summary(outcome))\n\(test.map(Self.testSummary) ?? "")".utf8))
        switch outcome.end {
        case .stoppedOnNonfinite(let why):
            printError("\(dir): stopped: \(why); the last good checkpoint is \(latest.weightsPath)")
        case .stoppedOnDivergence(let why):
            // Asked for (monitor.on_divergence: stop): a result, not a failure.
            FileHandle.standardOutput.write(Data("stopped: \(why) (monitor.on_divergence: stop)\n".utf8))
        default:
            break
        }
        try Self.exit(outcome, signal: stopSignal)
    }

    /// The exit status of a run that ended (every rank's, data-parallel: they end at the same step).
    static func exit(_ outcome: TrainingOutcome, signal: Int32 = SIGINT) throws {
        switch outcome.end {
        case .finished, .stoppedOnDivergence: return
        case .interrupted: throw ExitCode(128 + signal)
        case .stoppedOnNonfinite: throw ExitCode(2)
        }
    }

    static func summary(_ o: TrainingOutcome) -> String {
        var parts = ["step \(o.step)"]
        if let d = o.divergedAt { parts.append("diverged at step \(d)") }
        if let v = o.lastValidation, let m = v.model, let id = v.identity {
            parts.append(
                String(format: "val PSNR-mu %.2f dB (identity %.2f, %+.2f)", m.psnrMu, id.psnrMu, m.psnrMu - id.psnrMu))
            parts.append(
                String(format: "PU21-PSNR %.2f dB (identity %.2f)", m.pu21Psnr, id.pu21Psnr) + clipSummary(m, id))
        }
        parts.append("\(o.overflowIncidents) overflow incident(s)")
        if o.skippedSteps > 0 { parts.append("\(o.skippedSteps) skipped step(s)") }
        return parts.joined(separator: ", ")
    }

    /// Pictures per set (validation, held-out test) written into `images/` when a run ends.
    static let picturesPerSet = 5

    /// The source image of each pair id (file name without extension) of the set at `root`, by its manifest
    /// (`hdrpatch synth` writes one); nil without a readable manifest.
    static func pairSources(root: String) -> [String: String]? {
        guard let manifest = try? SynthManifest.read(path: root + "/manifest.json") else { return nil }
        return Dictionary(manifest.pairs.map { ($0.id, $0.source) }, uniquingKeysWith: { a, _ in a })
    }

    /// Which pairs of a test set to picture: the first pair of each source image (`sources`, the set's manifest's,
    /// so every photograph shows once), up to `picturesPerSet`; pairs spread over the set without a manifest.
    static func pictureIndices(_ dataset: PairedDataset, sources: [String: String]?) -> [Int] {
        guard let sourceOf = sources else { return spread(dataset.pairs.count, picturesPerSet) }
        var seen = Set<String>()
        var out: [Int] = []
        for (i, pair) in dataset.pairs.enumerated() where out.count < picturesPerSet {
            let id = (pair.name as NSString).deletingPathExtension
            guard let source = sourceOf[id], seen.insert(source).inserted else { continue }
            out.append(i)
        }
        return out.isEmpty ? spread(dataset.pairs.count, picturesPerSet) : out
    }

    /// `k` indices spread evenly over 0..<n (all of them when n <= k).
    static func spread(_ n: Int, _ k: Int) -> [Int] {
        n <= k ? Array(0..<n) : (0..<k).map { $0 * n / k }
    }

    /// The held-out set scored once, each image restored whole exactly as `evaluate` does: the same numbers
    /// `hdrpatch evaluate` prints for that checkpoint. The pairs in `picture` are pictured from the same restore.
    static func scoreTestSet(
        _ dataset: PairedDataset, root: String, sources: [String: String]?, loaded: CheckpointModel.Loaded,
        weights: String, restorer: TiledRestore, wallSeconds: Double, pictures: Pictures, picture: Set<Int>
    ) throws -> MetricsRecord {
        FileHandle.standardOutput.write(
            Data("test: scoring \(weights) on \(root) (\(dataset.pairs.count) held-out images)\n".utf8))
        // Each image's own scores, with the photograph it was cut from (`sources`), for the report's table.
        var images: [ImageScore] = []
        let (model, identity) = try Evaluator.scoreImages(
            of: dataset, model: loaded.model, loss: loaded.loss, restorer: restorer
        ) { i, input, restored, target, scores in
            var score = scores
            score.source = sources?[(score.name as NSString).deletingPathExtension]
            images.append(score)
            guard picture.contains(i) else { return }
            try pictures.write("test-" + score.name, input: input, restored: restored, target: target)
        }
        return MetricsRecord(
            kind: "test", step: loaded.step ?? 0, epoch: 0, wallSeconds: wallSeconds, model: model,
            identity: identity, weights: loaded.weights.rawValue, data: root, checkpoint: weights, images: images)
    }

    /// The pictures of a run's `images/` (ComparisonPicture), with the model's LogNorm eps for the heat map.
    struct Pictures {
        let dir: String
        let eps: Float

        /// `<dir>/<name without extension>.png`.
        func write(_ name: String, input: HDRImage, restored: HDRImage, target: HDRImage) throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try ComparisonPicture.write(
                dir + "/" + (name as NSString).deletingPathExtension + ".png", input: input, restored: restored,
                target: target, eps: eps)
        }

        /// `<prefix>-<pair>.png` for each index, each image restored whole.
        func write(_ dataset: PairedDataset, indices: [Int], prefix: String, restorer: TiledRestore) throws {
            for i in indices {
                let (input, target) = try dataset.images(i)
                let out = restorer.restore(
                    Tensor(shape: [1, 3, input.height, input.width], storage: input.pixels),
                    regions: try dataset.regions(i))
                try write(
                    prefix + "-" + dataset.pairs[i].name, input: input,
                    restored: HDRImage(width: input.width, height: input.height, pixels: out.storage), target: target)
            }
        }

        /// The training patches of the worst overflow incidents (most overflow pixels first, at most 3, one per
        /// pair file): `overflow-step<step>-<pair>.png`, the patch at the incident's crop position (before
        /// augmentation), restored by the checkpoint the run ended with, not by the model of the incident's step.
        func writeOverflowPatches(
            incidents: [Incident], trainSet: PairedDataset, patch: Int, restorer: TiledRestore
        )
            throws
        {
            var seen = Set<String>()
            let worst = incidents.filter { $0.kind == .overflow }.sorted { ($0.value, -$0.step) > ($1.value, -$1.step) }
                .filter { seen.insert($0.file).inserted }
            for incident in worst.prefix(3) {
                guard let i = trainSet.pairs.firstIndex(where: { $0.name == incident.file }) else { continue }
                let (input, target) = try trainSet.images(i)
                let (w, h) = (min(patch, input.width), min(patch, input.height))
                let x0 = min(max(0, incident.x), input.width - w)
                let y0 = min(max(0, incident.y), input.height - h)
                func crop(_ img: HDRImage) -> Tensor {
                    restorer.crop(
                        Tensor(shape: [1, 3, img.height, img.width], storage: img.pixels), x: x0, y: y0, width: w,
                        height: h)
                }
                let (ci, ct) = (crop(input), crop(target))
                let regions = try trainSet.regions(i).map { restorer.crop($0, x: x0, y: y0, width: w, height: h) }
                try write(
                    "overflow-step\(incident.step)-" + incident.file,
                    input: HDRImage(width: w, height: h, pixels: ci.storage),
                    restored: HDRImage(width: w, height: h, pixels: restorer.restore(ci, regions: regions).storage),
                    target: HDRImage(width: w, height: h, pixels: ct.storage))
            }
        }
    }

    /// "held-out test (data/heldout/phone): PSNR-mu 31.20 dB (identity 29.80, +1.40), PU21-PSNR ... (+0.90)".
    static func testSummary(_ t: MetricsRecord) -> String {
        guard let m = t.model, let id = t.identity else { return "" }
        return "held-out test (\(t.data ?? "?")): "
            + String(format: "PSNR-mu %.2f dB (identity %.2f, %+.2f), ", m.psnrMu, id.psnrMu, m.psnrMu - id.psnrMu)
            + String(
                format: "PU21-PSNR %.2f dB (identity %.2f, %+.2f)", m.pu21Psnr, id.pu21Psnr, m.pu21Psnr - id.pu21Psnr)
            + clipSummary(m, id) + "\n"
    }

    /// ", in clip (4.1% of pixels): PSNR-mu +2.10 dB, PU21-PSNR +1.30 dB" over the identity ("in holes" for a
    /// set with region masks); "" when nothing clipped.
    static func clipSummary(_ m: EvalMetrics, _ id: EvalMetrics) -> String {
        guard let a = m.psnrMuClip, let b = id.psnrMuClip, let c = m.pu21PsnrClip, let d = id.pu21PsnrClip else {
            return ""
        }
        return ", in \(m.regionName)"
            + String(
                format: " (%.1f%% of pixels): PSNR-mu %+.2f dB, PU21-PSNR %+.2f dB", 100 * m.clipFraction, a - b, c - d)
            + (m.logCorrClip.map { String(format: ", shape r %.2f", $0) } ?? "")
    }

    static func defaultRunDir(name: String) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "runs/\(name)-\(f.string(from: Date()))"
    }

}

extension Train {
    /// Takes the run directory's lock; held by another process: its one line, exit status 75 (EX_TEMPFAIL: try
    /// later). Under mpirun the error ends the whole job instead (the other ranks would wait in a collective).
    static func lock(_ dir: String, group: ProcessGroup) throws -> RunLock {
        do {
            return try RunLock(dir: dir)
        } catch let held as RunLock.Held {
            if group.usesMPI { throw TrainCLIError(held.description) }
            printError(held.description)
            throw ExitCode(75)
        }
    }
}

struct TrainCLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The records of a data-parallel rank other than 0: nothing is written.
final class SilentSink: RunSink {
    func metrics(_ record: MetricsRecord) throws {}
    func monitor(_ record: MonitorRecord) throws {}
    func incident(_ incident: Incident) throws {}
    func scalars(step: Int, _ values: [String: Double], wallTime: Double) throws {}
}

/// Prints loader warnings (skipped pairs) on standard error as they come.
final class WarningPrinter: Sendable {
    var closure: @Sendable (String) -> Void { { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
}

/// The identity's validation scores of a run, kept from its first validation (the validation closure's state).
private final class IdentityCache: @unchecked Sendable {
    var scores: Evaluator.IdentityScores?
}
