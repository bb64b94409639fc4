// `hdrpatch bench`: timings measured side by side in one run (training step, EXR decoding, the loader).
import ArgumentParser
import CBLAS
import Data
import EXRIO
import Foundation
import Losses
import Model
import Numerics
import Training

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a training step (--what step), EXR decoding (--what exr) or the patch loader (--what loader).",
        discussion: """
            Timings are medians over repeats after a warm-up, measured in this one process; compare ratios \
            from the same run rather than absolute times across runs on a shared machine.
            """
    )

    enum What: String, ExpressibleByArgument, CaseIterable {
        case exr, loader, step
    }

    @Option(help: "What to time: \(What.allCases.map(\.rawValue).joined(separator: ", ")).")
    var what: What

    @Option(name: .customLong("file"), help: "EXR or .hdr file to decode (repeatable; --what exr).")
    var files: [String] = []

    @Option(help: "Paired data root with input/ and target/ (--what loader).")
    var data: String = "data/real/train"

    @Option(help: "Patch size (--what loader, step).")
    var patch: Int = 64

    @Option(help: "Batch size (--what loader, step).")
    var batch: Int = 16

    enum Arch: String, ExpressibleByArgument, CaseIterable {
        case plain, unet
    }

    @Option(help: "Network for --what step: \(Arch.allCases.map(\.rawValue).joined(separator: " or ")).")
    var arch: Arch = .plain

    @Option(help: "Layers of the plain network (--what step).")
    var depth: Int = 5

    @Option(help: "Channels of the network (--what step).")
    var width: Int = 32

    @Option(help: "U-Net levels (--what step).")
    var levels: Int = 2

    @Option(
        help: ArgumentHelp(
            "Time the step of this training config (--what step): its network, residual head, loss terms, optimizer, "
                + "gradient clipping, batch and patch size, and the monitor record every step writes.",
            discussion: "Replaces --arch, --depth, --width, --levels, --batch and --patch."))
    var config: String?

    @Option(name: .customLong("set"), help: "Override a key of --config: key.path=value (repeatable).")
    var overrides: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: "Convolution algorithms of the plain network to compare (--what step).")
    var conv: [Conv3x3Algorithm] = [.automatic]

    @Option(parsing: .upToNextOption, help: "Thread counts to compare, e.g. --threads 1 2.")
    var threads: [Int] = [1, 2]

    @Option(help: "Batches timed per thread count (--what loader), or reads per file (--what exr).")
    var repeats: Int = 100

    @Option(help: "Timed training steps (and forward passes) per thread count after 3 warm-up steps (--what step).")
    var steps: Int = 20

    @Flag(help: "Keep decoded images in memory (--what loader).")
    var cache = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard threads.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--threads must be >= 0") }
        if what == .exr && files.isEmpty { throw ValidationError("--what exr needs at least one --file") }
        if config != nil && what != .step {
            throw ValidationError("--config times a training step: use it with --what step")
        }
        if config == nil && !overrides.isEmpty {
            throw ValidationError("--set overrides keys of --config: give --config too")
        }
    }

    func run() throws {
        do {
            let rows: [Row]
            switch what {
            case .exr: rows = try exrRows()
            case .loader: rows = try loaderRows()
            case .step: rows = try stepRows()
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(
                    String(
                        decoding: try encoder.encode(["what": AnyRows.text(what.rawValue), "rows": .rows(rows)]),
                        as: UTF8.self))
            } else {
                for r in rows where !r.line.isEmpty { print(r.line) }
            }
        } catch let e as ExitCode {
            throw e
        } catch {
            // Bad files, data or config: one line naming what, and a non-zero exit.
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    struct Row: Encodable {
        var name: String
        var threads: Int
        var medianMs: Double
        var minMs: Double
        var maxMs: Double
        var perSecond: Double
        var unit: String
        var line: String
        /// Direct-convolution GFLOP per second at the median time, and its share of the sgemm peak (step rows).
        var gflops: Double? = nil
        var percentOfPeak: Double? = nil
        /// The plain network's convolution algorithm (step rows).
        var conv: String? = nil
        enum CodingKeys: String, CodingKey {
            case name, threads
            case medianMs = "median_ms"
            case minMs = "min_ms"
            case maxMs = "max_ms"
            case perSecond = "per_second"
            case unit
            case gflops = "gflop_per_s"
            case percentOfPeak = "percent_of_sgemm_peak"
            case conv
        }
    }

    enum AnyRows: Encodable {
        case text(String)
        case rows([Row])
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .rows(let r): try c.encode(r)
            }
        }
    }

    static func summary(_ times: [Double]) -> (median: Double, min: Double, max: Double) {
        let s = times.sorted()
        return (s[s.count / 2], s[0], s[s.count - 1])
    }

    /// Decode time per file from memory (file I/O excluded), for each thread count.
    func exrRows() throws -> [Row] {
        var rows: [Row] = []
        for path in files {
            let bytes =
                try FileManager.default.contents(atPath: path).map { Array($0) }
                ?? { throw ImageIOError(path: path, reason: "cannot read file") }()
            for t in threads {
                let options = ReadOptions(threads: t)
                let first = try ImageReader.read(bytes: bytes, path: path, options: options)
                var times: [Double] = []
                for _ in 0..<repeats {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try ImageReader.read(bytes: bytes, path: path, options: options)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                let s = Self.summary(times)
                let mpix = Double(first.image.planeCount) / 1e6
                let name = (path as NSString).lastPathComponent
                rows.append(
                    Row(
                        name: name, threads: t, medianMs: s.median, minMs: s.min, maxMs: s.max,
                        perSecond: mpix / (s.median / 1e3), unit: "Mpixel/s",
                        line: String(
                            format:
                                "exr  %@ %dx%d %@: %d thread(s): median %.2f ms (min %.2f, max %.2f), %.1f Mpixel/s, %.1f MB/s of file",
                            name, first.image.width, first.image.height, first.info.compression, t, s.median, s.min,
                            s.max,
                            mpix / (s.median / 1e3), Double(bytes.count) / 1e6 / (s.median / 1e3))))
            }
        }
        return rows
    }

    /// Patches per second delivered by the prefetching loader, for each worker count.
    func loaderRows() throws -> [Row] {
        let config = LoaderConfig(patchSize: patch, batchSize: batch, cache: cache, augment: .all)
        let openStart = DispatchTime.now().uptimeNanoseconds
        let dataset = try PairedDataset(root: data, config: config, readOptions: ReadOptions(), warn: nil)
        let openMs = Double(DispatchTime.now().uptimeNanoseconds - openStart) / 1e6
        if !json {
            print(
                String(
                    format: "loader %@: %d pairs, opened in %.0f ms; patch %d, batch %d, cache %@",
                    data, dataset.pairs.count, openMs, patch, batch, cache ? "on" : "off"))
        }
        var rows: [Row] = []
        for t in threads {
            var c = config
            c.workers = t
            c.samplesPerEpoch = max(dataset.pairs.count, batch * (repeats + 5))
            let loader = try PrefetchLoader(dataset: dataset, config: c)
            defer { loader.close() }
            for _ in 0..<5 { _ = try loader.next() }  // warm-up: threads started, first images decoded
            var times: [Double] = []
            let waitBefore = loader.waitSeconds
            let total = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try loader.next()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - total) / 1e9
            let s = Self.summary(times)
            let rate = Double(repeats * batch) / seconds
            rows.append(
                Row(
                    name: "loader", threads: t, medianMs: s.median, minMs: s.min, maxMs: s.max, perSecond: rate,
                    unit: "patches/s",
                    line: String(
                        format:
                            "loader %d worker(s): %.0f patches/s (%d batches in %.2f s; next() median %.2f ms, waited %.2f s)",
                        t, rate, repeats, seconds, s.median, loader.waitSeconds - waitBefore)))
        }
        return rows
    }

    /// The allocation counter of tools/alloc/libcount_alloc.so when it is preloaded (LD_PRELOAD), else nil.
    static let allocationCount: (@convention(c) () -> UInt)? = {
        guard let symbol = dlsym(nil, "hp_alloc_count") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) () -> UInt).self)
    }()

    /// OpenBLAS sgemm GFLOP/s on 2048 x 2048 x 2048 (best of 4 after 2 warm-up calls) with the current thread count: the peak the
    /// step's convolution FLOPs are compared with.
    static func sgemmPeak() -> (gflops: Double, ms: Double) {
        let n = 2048
        var rng = SeededRNG(seed: 3)
        let a = (0..<(n * n)).map { _ in Float(rng.uniform()) }
        let b = (0..<(n * n)).map { _ in Float(rng.uniform()) }
        var c = [Float](repeating: 0, count: n * n)
        func multiply() {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n), 1, a, blasint(n),
                b, blasint(n), 0, &c, blasint(n))
        }
        multiply()
        multiply()  // warm-up: OpenBLAS's buffers and threads, the pages of c
        var best = Double.infinity
        for _ in 0..<4 {
            let start = DispatchTime.now().uptimeNanoseconds
            multiply()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return (2 * Double(n * n * n) / (best / 1e3) / 1e9, best)
    }

    /// Direct-convolution FLOPs of one forward pass and of one training step (forward, d input of every layer
    /// but the first, d weight of every layer), counted from the network's weight shapes at full resolution
    /// (plain network; nil for the U-Net, whose layers run at several resolutions).
    func convolutionFLOPs(_ network: any PatchNetwork, batch: Int, patch: Int) -> (forward: Double, step: Double)? {
        guard network is PlainNet else { return nil }
        let layout = network.parameterLayout
        let perLayer = layout.filter { $0.name.hasSuffix(".weight") }.map { w in
            2 * Double(w.shape.reduce(1, *)) * Double(batch * patch * patch)
        }
        guard let first = perLayer.first else { return nil }
        let forward = perLayer.reduce(0, +)
        return (forward, 3 * forward - first)
    }

    /// What --what step times: the training step of --config (`TrainConfig.makeTrainingStep`, what `train` runs),
    /// or of --arch/--depth/--width with Huber loss and AdamW and no monitor (the PyTorch reference's step).
    struct StepSetup {
        let step: TrainingStep
        let batch: Int, patch: Int
        let name: String

        init(_ bench: Bench) throws {
            if let path = bench.config {
                let cfg = try TrainConfig.load(path: path, overrides: bench.overrides)
                let optimizer = cfg.makeOptimizer()
                step = cfg.makeTrainingStep(
                    model: try cfg.makeModel(stateSlots: optimizer.stateSlots, zeroOutput: false),
                    optimizer: optimizer)
                batch = cfg.data.batchSize
                patch = cfg.data.patchSize
                name = "config \(cfg.name)"
            } else {
                let unet = bench.arch == .unet
                let arch: ModelConfig =
                    unet
                    ? .unet(width: bench.width, levels: bench.levels)
                    : .plain(depth: bench.depth, width: bench.width)
                let optimizer = AdamW(lr: 1e-4)
                let model = try PatchModel(
                    model: arch, residual: ResidualConfig(mode: .learnable(initial: 6), clamp: 8),
                    logNorm: LogNorm(), stateSlots: optimizer.stateSlots, seed: 0)
                step = TrainingStep(
                    model: model, loss: try CompositeLoss.parse("loss:\n  - {type: huber, weight: 2.0}"),
                    optimizer: optimizer, totalSteps: Int.max, monitor: nil)
                batch = bench.batch
                patch = bench.patch
                name = unet ? "unet w\(bench.width) l\(bench.levels)" : "plain d\(bench.depth) w\(bench.width)"
            }
        }
    }

    /// Full training step (forward, loss, backward, optimizer) and forward alone on synthetic HDR patches,
    /// with the convolution kernels and OpenBLAS limited to each thread count in turn, for each --conv.
    /// FLOP rates count direct-convolution FLOPs: Winograd's are "direct-equivalent" and may pass the sgemm peak.
    func stepRows() throws -> [Row] {
        let setup = try StepSetup(self)
        let trainingStep = setup.step
        let pm = trainingStep.model
        let batch = setup.batch
        let patch = setup.patch
        let algorithms: [Conv3x3Algorithm] = pm.network is PlainNet ? conv : [.automatic]
        var rng = SeededRNG(seed: 1)
        let shape = [batch, 3, patch, patch]
        let count = shape.reduce(1, *)
        let input = Tensor(shape: shape, storage: (0..<count).map { _ in Float(exp(rng.normal() * 2 - 1)) })
        let target = Tensor(shape: shape, storage: input.storage.map { $0 * 1.5 })
        let flops = convolutionFLOPs(pm.network, batch: batch, patch: patch)
        let baseName = setup.name
        var rows: [Row] = []
        if !json {
            print(
                "OpenBLAS \(String(cString: openblas_get_config())), core \(String(cString: openblas_get_corename())); "
                    + "convolution kernels: \(SIMDLevel.best.name)")
        }
        for t in threads {
            openblas_set_num_threads(Int32(max(t, 1)))
            Parallel.threads = t
            let peak = Self.sgemmPeak()
            rows.append(
                Row(
                    name: "sgemm 2048", threads: t, medianMs: peak.ms, minMs: peak.ms, maxMs: peak.ms,
                    perSecond: peak.gflops, unit: "GFLOP/s",
                    line: String(format: "sgemm 2048^3, %d thread(s): %.1f GFLOP/s (best of 4)", t, peak.gflops)))
            for algorithm in algorithms {
                (pm.network as? PlainNet)?.convAlgorithm = algorithm
                // Rows of the default algorithm keep the plain name (bench/compare.py matches PyTorch's rows by it).
                let name = algorithm == .automatic ? baseName : baseName + " [\(algorithm.rawValue)]"
                var update = 0
                // Counted apart: the monitor record (a dictionary, arrays) is data the run writes out, not compute.
                let monitorCounter = Self.allocationCount.map(AllocationCounter.init)
                // The step `train` runs (loader and log writing aside).
                func trainStep() {
                    _ = trainingStep.run(input: input, target: target, step: update, monitorProbe: monitorCounter)
                    update += 1
                }
                for _ in 0..<3 { trainStep() }
                var times: [Double] = []
                var fwd: [Double] = []
                var allocations: UInt = 0
                monitorCounter?.total = 0
                for _ in 0..<steps {
                    let before = Self.allocationCount?() ?? 0
                    let a = DispatchTime.now().uptimeNanoseconds
                    trainStep()
                    let b = DispatchTime.now().uptimeNanoseconds
                    allocations += (Self.allocationCount?() ?? 0) - before
                    _ = pm.forward(input)
                    let c = DispatchTime.now().uptimeNanoseconds
                    times.append(Double(b - a) / 1e6)
                    fwd.append(Double(c - b) / 1e6)
                }
                for (kind, s, f) in [
                    ("step", Self.summary(times), flops?.step), ("forward", Self.summary(fwd), flops?.forward)
                ] {
                    let gflops = f.map { $0 / (s.median / 1e3) / 1e9 }
                    let unit =
                        algorithm == .direct || !(pm.network is PlainNet) ? "GFLOP/s" : "GFLOP/s direct-equivalent"
                    let rate =
                        gflops.map {
                            String(format: ", %.1f %@ (%.0f%% of sgemm peak)", $0, unit, 100 * $0 / peak.gflops)
                        } ?? ""
                    rows.append(
                        Row(
                            name: "\(kind) \(name)", threads: t, medianMs: s.median, minMs: s.min, maxMs: s.max,
                            perSecond: 1000 / s.median, unit: kind == "step" ? "steps/s" : "forwards/s",
                            line: String(
                                format: "%@ %@ batch %d x %dx%d, %d thread(s): median %.1f ms (min %.1f, max %.1f)%@",
                                kind, name, batch, patch, patch, t, s.median, s.min, s.max, rate),
                            gflops: gflops, percentOfPeak: gflops.map { 100 * $0 / peak.gflops },
                            conv: pm.network is PlainNet ? algorithm.rawValue : nil))
                }
                if Self.allocationCount != nil {
                    let monitorAllocations = monitorCounter?.total ?? 0
                    let perStep = Double(allocations - monitorAllocations) / Double(steps)
                    let monitor =
                        trainingStep.monitor == nil
                        ? ""
                        : String(format: " (the monitor record: %.1f more)", Double(monitorAllocations) / Double(steps))
                    rows.append(
                        Row(
                            name: "allocations per step " + name, threads: t, medianMs: 0, minMs: 0, maxMs: 0,
                            perSecond: perStep, unit: "allocations",
                            line: String(
                                format: "heap allocations per training step after warm-up, %@, %d thread(s): %.1f%@",
                                name, t, perStep, monitor)))
                }
            }
        }
        return rows
    }
}

extension Conv3x3Algorithm: ExpressibleByArgument {}

/// Heap allocations made inside what it measures (tools/alloc's counter, when preloaded).
final class AllocationCounter: StepProbe {
    let count: @convention(c) () -> UInt
    var total: UInt = 0
    init(_ count: @escaping @convention(c) () -> UInt) { self.count = count }

    func measure<R>(_ body: () -> R) -> R {
        let before = count()
        defer { total += count() - before }
        return body()
    }
}
