// `hdrpatch bench`: timings measured side by side in one run (training step, EXR decoding, the loader); the
// training-step rows are in BenchStep.swift.
import ArgumentParser
import CBLAS
import Cluster
import Data
import EXRIO
import Foundation
import Losses
import Model
import Numerics
import Training

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Time a training step (--what step), EXR decoding (--what exr), the patch loader (--what loader) or restore "
            + "(--what restore).",
        discussion: """
            Timings are medians over repeats after a warm-up, measured in this one process; compare ratios \
            from the same run rather than absolute times across runs on a shared machine.
            """
    )

    enum What: String, ExpressibleByArgument, CaseIterable {
        case exr, loader, step, allreduce, restore
    }

    @Option(help: "What to time: \(What.allCases.map(\.rawValue).joined(separator: ", ")).")
    var what: What

    @Option(name: .customLong("file"), help: "EXR or .hdr file to decode (repeatable; --what exr).")
    var files: [String] = []

    @Option(help: "Paired data root with input/ and target/ (--what loader).")
    var data: String = "data/real/train"

    @Option(
        help: ArgumentHelp(
            "Degradation recipe (--what loader): --data is then a folder of clean sources, and every patch is made "
                + "on the fly as `data.train: {sources, recipe}` makes it."))
    var recipe: String?

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
                + "gradient clipping, batch and patch size, and the monitor record every step writes (on synthetic "
                + "patches: its data directories need not exist).",
            discussion: "Replaces --arch, --depth, --width, --levels, --batch and --patch."))
    var config: String?

    @Option(
        name: .customLong("set"), help: "Override a key of --config: key.path=value (repeatable; --what step, restore)."
    )
    var overrides: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: "Convolution algorithms of the 3x3 stride-1 layers to compare (--what step).")
    var conv: [Conv3x3Algorithm] = [.automatic]

    @Option(parsing: .upToNextOption, help: "Thread counts to compare, e.g. --threads 1 2.")
    var threads: [Int] = [1, 2]

    @Option(help: "Batches timed per thread count (--what loader), or reads per file (--what exr).")
    var repeats: Int = 100

    @Option(
        help: ArgumentHelp(
            "Timed training steps (and forward passes) per thread count after 3 warm-up steps (--what step), or timed "
                + "restores after one warm-up (--what restore)."))
    var steps: Int = 20

    @Option(help: "Checkpoint whose model to time (--what restore; else --config's network, freshly initialised).")
    var checkpoint: String?

    @Option(help: "Side of the generated square image when no --file is given (--what restore).")
    var size: Int = 1024

    @Option(
        parsing: .upToNextOption,
        help: "Tile sides to time (--what restore): 0 = the whole image in one pass, as onnxruntime runs it.")
    var tiles: [Int] = [0, 256]

    @Option(help: "Also write the timed model as ONNX here (--what restore), for tools/onnx/bench_onnx.py.")
    var onnx: String?

    @Option(help: "Also write the timed image as float EXR here (--what restore).")
    var imageOut: String?

    @Flag(
        help:
            "Also print where a U-Net step's time goes, layer by layer (--what step with --arch unet or a U-Net config)."
    )
    var layers = false

    @Flag(help: "Keep decoded images in memory (--what loader).")
    var cache = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    static let layersNeedAUNet =
        "--layers times a U-Net's step: --what step with --arch unet, or a config whose model.arch is unet"

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard threads.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--threads must be >= 0") }
        if layers && (what != .step || (config == nil && arch != .unet)) {
            throw ValidationError(Self.layersNeedAUNet)
        }
        if what == .exr && files.isEmpty { throw ValidationError("--what exr needs at least one --file") }
        if config != nil && what != .step && what != .allreduce && what != .restore {
            throw ValidationError(
                "--config times a training step: use it with --what step (or allreduce, for its gradient size; or "
                    + "restore, for its network)")
        }
        if what == .restore && (config == nil) == (checkpoint == nil) {
            throw ValidationError("--what restore times one model: give --checkpoint or --config")
        }
        if what != .restore && (checkpoint != nil || onnx != nil || imageOut != nil) {
            throw ValidationError("--checkpoint, --onnx and --image-out are for --what restore")
        }
        if size < 1 { throw ValidationError("--size must be at least 1") }
        if tiles.contains(where: { $0 < 0 }) { throw ValidationError("--tiles must be >= 0") }
        if config == nil && !overrides.isEmpty {
            throw ValidationError("--set overrides keys of --config: give --config too")
        }
    }

    func run() throws {
        // Bad files, data or config: one line naming what, and a non-zero exit.
        defer { ProcessGroup.finalize() }  // under mpirun (--what allreduce): every rank ends properly
        try withOneLineErrors {
            let rows: [Row]
            switch what {
            case .exr: rows = try exrRows()
            case .loader: rows = try loaderRows()
            case .step: rows = try stepRows()
            case .allreduce: rows = try allreduceRows()
            case .restore: rows = try restoreRows()
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
                ?? { throw FileError(path: path, reason: "cannot read file") }()
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

    /// Under mpirun: the time of one MPI_Allreduce (sum, float) of the gradient buffer of --config's network (or
    /// the --arch/--depth/--width one), and of 1 MB, 16 MB and 64 MB buffers for the bandwidth term; a barrier
    /// before each timed call so that only the reduction is timed, not a slower rank. Rank 0 prints.
    func allreduceRows() throws -> [Row] {
        let group = try ProcessGroup.world()
        guard group.usesMPI else {
            throw TrainCLIError("--what allreduce times MPI_Allreduce: run it under mpirun -np N")
        }
        let parameters = try StepSetup(self).step.model.store.count
        var rows: [Row] = []
        for (name, count) in [("gradient", parameters), ("1 MB", 1 << 18), ("16 MB", 1 << 22), ("64 MB", 1 << 24)] {
            var buffer = [Float](repeating: 1, count: count)
            var times: [Double] = []
            let n = max(5, min(repeats, count > 1 << 20 ? 20 : repeats))
            for i in 0..<(n + 3) {
                try group.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                try buffer.withUnsafeMutableBufferPointer { try group.sum($0) }
                if i >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
            let s = Self.summary(times)
            let bytes = Double(count * 4)
            rows.append(
                Row(
                    name: "allreduce \(name)", threads: group.size, medianMs: s.median, minMs: s.min, maxMs: s.max,
                    perSecond: bytes / 1e9 / (s.median / 1e3), unit: "GB/s",
                    line: String(
                        format:
                            "allreduce %@ (%d floats, %.1f KB), %d ranks: median %.3f ms (min %.3f, max %.3f), %.2f GB/s",
                        name, count, bytes / 1e3, group.size, s.median, s.min, s.max, bytes / 1e9 / (s.median / 1e3))))
        }
        if !group.isRoot { rows = [] }
        return rows
    }

    /// Patches per second delivered by the prefetching loader, for each worker count.
    func loaderRows() throws -> [Row] {
        let config = LoaderConfig(patchSize: patch, batchSize: batch, cache: cache, augment: .all)
        let openStart = DispatchTime.now().uptimeNanoseconds
        let dataset =
            try recipe.map { r in
                try PairedDataset(
                    sources: data, recipe: try DegradationRecipe.load(path: r), recipeName: r, config: config)
            } ?? PairedDataset(root: data, config: config, readOptions: ReadOptions(), warn: nil)
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

}

extension Conv3x3Algorithm: ExpressibleByArgument {}
