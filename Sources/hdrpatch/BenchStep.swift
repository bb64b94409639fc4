// `hdrpatch bench --what step`: the training step `train` runs (TrainingStep), and the forward pass, timed per
// thread count and convolution algorithm, with FLOP rates against the sgemm peak and heap allocations per step.
import ArgumentParser
import CBLAS
import Data
import EXRIO
import Foundation
import Losses
import Model
import Numerics
import Training

extension Bench {
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
                // The step runs on synthetic patches: the config's data directories need not exist (keys and
                // values are still checked).
                let cfg = try ConfigPathChecks.$enabled.withValue(false) {
                    try TrainConfig.load(path: path, overrides: bench.overrides)
                }
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
        if layers && !(pm.network is UNet) { throw ValidationError(Self.layersNeedAUNet) }
        let algorithms: [Conv3x3Algorithm] = pm.network is PlainNet || pm.network is UNet ? conv : [.automatic]
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
                (pm.network as? UNet)?.convAlgorithm = algorithm
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
                let unet = layers ? pm.network as? UNet : nil
                let profile = unet.map { LayerProfile(layers: $0.layerDescriptions.count) }
                var times: [Double] = []
                var fwd: [Double] = []
                var allocations: UInt = 0
                monitorCounter?.total = 0
                for _ in 0..<steps {
                    let before = Self.allocationCount?() ?? 0
                    unet?.profile = profile
                    let a = DispatchTime.now().uptimeNanoseconds
                    trainStep()
                    let b = DispatchTime.now().uptimeNanoseconds
                    unet?.profile = nil
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
                if let unet, let profile, !json {
                    Self.printLayers(
                        unet, profile, steps: steps, threads: t, stepMs: times.reduce(0, +) / Double(steps))
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

extension Bench {
    /// The layer table of `--layers`: milliseconds per step of each layer's forward, backward chain, direct weight
    /// gradient and weight transforms, summed over the threads (thread-ms: on 2 threads the columns add up to about
    /// twice the step), and what the layers leave of the step (LogNorm, head, loss, AdamW, the pool's waits).
    static func printLayers(_ unet: UNet, _ profile: LayerProfile, steps: Int, threads: Int, stepMs: Double) {
        let phases = LayerProfile.Phase.allCases
        print("per layer, ms per step (summed over \(threads) thread(s)): forward, backward, weight grad, transforms")
        var columns = [Double](repeating: 0, count: phases.count)
        let rows = unet.layerDescriptions.enumerated().map { i, name in
            (name, phases.map { profile.milliseconds(layer: i, phase: $0) / Double(steps) })
        }
        let all = rows.reduce(0) { $0 + $1.1.reduce(0, +) }
        for (name, ms) in rows {
            for (k, v) in ms.enumerated() { columns[k] += v }
            let total = ms.reduce(0, +)
            print(
                String(
                    format: "  %-36@ %8.2f %8.2f %8.2f %8.2f  = %8.2f (%4.1f%%)",
                    name.padding(
                        toLength: 36, withPad: " ", startingAt: 0), ms[0], ms[1], ms[2], ms[3], total,
                    100 * total / all))
        }
        print(
            String(
                format: "  %-36@ %8.2f %8.2f %8.2f %8.2f  = %8.2f of %.2f ms per step x %d thread(s)",
                "all layers".padding(toLength: 36, withPad: " ", startingAt: 0), columns[0], columns[1], columns[2],
                columns[3], all, stepMs, threads))
    }
}

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
