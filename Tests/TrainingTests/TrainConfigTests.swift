// TrainConfig: defaults, derived loader/LogNorm settings, the resolved record and its round trip, every
// committed configs/*.yaml, and the fixture the other TrainConfig test files share.
import Config
import Data
import Foundation
import Losses
import Model
import TestSupport
import Testing

@testable import Training

@Suite struct TrainConfigTests {
    let fx = TrainConfigFixture()

    @Test func defaultsOfTheMinimalConfig() throws {
        let c = try fx.parse()
        #expect(c.name == "t" && c.seed == 0)
        #expect(c.data.train == fx.train && c.data.val == fx.val)
        #expect(
            c.loaderConfig()
                == LoaderConfig(
                    patchSize: 64, batchSize: 16, seed: 0, workers: 2, prefetch: 4,
                    cache: false, augment: .all, strict: false, samplesPerEpoch: nil))
        #expect(c.logNorm == LogNorm())
        #expect(c.model == .plain(depth: 2, width: 4))
        #expect(c.residual == ResidualConfig(mode: .learnable(initial: 6), clamp: 8))
        #expect(c.loss.terms.map(\.name) == ["huber"] && c.loss.terms[0].weight == 2)
        #expect(c.optim["type"] == .string("adamw") && c.optim["lr"] == .number(1e-3))
        let s = try #require(c.schedule as? ConstantSchedule)
        #expect(s.warmupSteps == 0)
        #expect(
            c.train
                == TrainLoopConfig(
                    steps: 10, logEvery: 10, valEvery: 100, checkpointEvery: 200, gradClip: nil, initFrom: nil))
        #expect(c.monitor == MonitorConfig(overflowLimit: 65504, saturation: 0.99, onNonFinite: .skip(max: 10)))
    }

    /// `data.train: {sources, recipe}`: pairs made on the fly; an epoch of 768 samples unless set; the resolved
    /// record keeps the mapping; unknown or missing keys in it are one-line errors.
    @Test func theTrainingSetMayBeSourcesAndARecipe() throws {
        let recipe = configsDirectory + "/degrade/online.yaml"
        let c = try fx.parse(["data.train={sources: \(fx.train), recipe: \(recipe)}"])
        #expect(c.data.train == fx.train && c.data.trainRecipe == recipe)
        #expect(c.loaderConfig().samplesPerEpoch == TrainDataConfig.onlineEpoch)
        guard case .object(let data) = c.data.json else { throw ConfigError(keyPath: "data", reason: "not an object") }
        #expect(data["train"] == .object(["sources": .string(fx.train), "recipe": .string(recipe)]))
        let set = try fx.parse(["data.train={sources: \(fx.train), recipe: \(recipe)}", "data.samples_per_epoch=32"])
        #expect(set.loaderConfig().samplesPerEpoch == 32)
        #expect(try fx.parse().data.trainRecipe == nil)
        #expect(
            fx.message(["data.train={sources: \(fx.train), recipe: \(recipe), recipes: x}"])
                == "config error: data.train.recipes: unknown key (did you mean 'recipe'?)")
        #expect(
            fx.message(["data.train={sources: \(fx.train)}"]) == "config error: data.train.recipe: missing required key"
        )
        #expect(
            fx.message(["data.train={sources: \(fx.train), recipe: /nonexistent/r.yaml}"])
                == "config error: data.train.recipe: no such file '/nonexistent/r.yaml'")
    }

    @Test func everyKeyIsRead() throws {
        let c = try fx.parse([
            "seed=7", "data.patch_size=32", "data.batch_size=4", "data.eps=1.0e-3", "data.denom_floor=0.5",
            "data.augment={flip_h: false, rot90: false}", "data.workers=0", "data.prefetch=2", "data.cache=true",
            "data.strict=true", "data.samples_per_epoch=64", "train.log_every=1", "train.val_every=2",
            "train.checkpoint_every=3", "train.grad_clip=0.5", "train.init_from=\(fx.weights)",
            "monitor={overflow_limit: 1000, saturation: 0.9, on_nonfinite: stop, divergence_margin_db: 6,"
                + " on_divergence: stop}",
            "schedule={type: cosine, warmup_steps: 2, min_lr: 1.0e-5}", "optim={type: sgd, lr: 0.1, momentum: 0.9}"
        ])
        #expect(
            c.loaderConfig(workers: 3)
                == LoaderConfig(
                    patchSize: 32, batchSize: 4, seed: 7, workers: 3, prefetch: 2, cache: true,
                    augment: LoaderConfig.Augment(flipH: false, flipV: true, rot90: false), strict: true,
                    samplesPerEpoch: 64))
        #expect(c.loaderConfig().workers == 0)
        #expect(c.logNorm == LogNorm(eps: 1e-3, denomFloor: 0.5))
        #expect(
            c.train
                == TrainLoopConfig(
                    steps: 10, logEvery: 1, valEvery: 2, checkpointEvery: 3, gradClip: 0.5, initFrom: fx.weights))
        #expect(
            c.monitor
                == MonitorConfig(
                    overflowLimit: 1000, saturation: 0.9, onNonFinite: .stop, divergenceMarginDB: 6,
                    stopOnDivergence: true))
        #expect(c.trainerSettings == TrainerSettings(logEvery: 1, valEvery: 2, checkpointEvery: 3))
        let step = c.makeTrainingStep(model: try c.makeModel(stateSlots: 2), optimizer: c.makeOptimizer())
        #expect(step.monitor == c.monitor && step.totalSteps == 10 && step.gradClip == 0.5 && step.ema == nil)
        let s = try #require(c.schedule as? CosineSchedule)
        #expect(s.warmupSteps == 2 && s.minLR == 1e-5)
        let o = try #require(c.makeOptimizer() as? SGD)
        #expect(o.baseLR == 0.1 && o.momentum == 0.9 && o.stepCount == 0)
    }

    @Test func makeOptimizerGivesAFreshOneEachTime() throws {
        let c = try fx.parse(["optim={type: adamw, lr: 3.0e-4, betas: [0.8, 0.99], weight_decay: 0}"])
        let a = try #require(c.makeOptimizer() as? AdamW)
        a.stepCount = 5
        let b = try #require(c.makeOptimizer() as? AdamW)
        #expect(b !== a && b.stepCount == 0)
        #expect(b.baseLR == 3e-4 && b.beta1 == 0.8 && b.beta2 == 0.99 && b.eps == 1e-8 && b.weightDecay == 0)
    }

    @Test func resolvedFillsEveryDefault() throws {
        let r = try fx.parse().resolved
        guard case .object(let o) = r else {
            Issue.record("not an object")
            return
        }
        #expect(Set(o.keys) == Set(TrainConfig.sections))
        #expect(o["seed"] == .integer(0))
        #expect(
            o["data"]
                == .object([
                    "train": .string(fx.train), "val": .string(fx.val), "test": .null, "patch_size": .integer(64),
                    "batch_size": .integer(16),
                    "eps": .number(1e-4), "denom_floor": .number(1e-2),
                    "augment": .object(["flip_h": .bool(true), "flip_v": .bool(true), "rot90": .bool(true)]),
                    "workers": .integer(2), "prefetch": .integer(4), "cache": .bool(false), "strict": .bool(false),
                    "samples_per_epoch": .null, "val_mode": .string("tiles")
                ]))
        #expect(
            o["model"]
                == .object([
                    "arch": .string("plain"), "depth": .integer(2), "width": .integer(4),
                    "conv_algorithm": .string("auto"), "inputs": .array([.string("log_norm")])
                ]))
        #expect(
            o["residual"]
                == .object([
                    "mode": .string("learnable"), "learnable_init": .number(6), "scale": .number(1),
                    "clamp": .number(8)
                ]))
        #expect(o["loss"] == .array([.object(["type": .string("huber"), "weight": .number(2), "delta": .number(1)])]))
        #expect(o["schedule"] == .object(["type": .string("constant"), "warmup_steps": .integer(0)]))
        #expect(
            o["train"]
                == .object([
                    "steps": .integer(10), "log_every": .integer(10), "val_every": .integer(100),
                    "checkpoint_every": .integer(200), "grad_clip": .null, "init_from": .null,
                    "init_from_weights": .null,
                    "zero_init_output": .bool(true), "init": .string("pytorch"), "ema": .null
                ]))
        #expect(
            o["monitor"]
                == .object([
                    "overflow_limit": .number(65504), "saturation": .number(0.99),
                    "on_nonfinite": .string("skip"), "max_nonfinite": .integer(10),
                    "divergence_margin_db": .number(10), "on_divergence": .string("continue")
                ]))
    }

    /// Float-valued residual keys are recorded as the decimal that was written, not Double(Float(x)).
    @Test func resolvedFloatsReadAsWritten() throws {
        let c = try fx.parse(["residual={mode: fixed_cap, cap: 16.0, alpha: 1.2, scale: 0.9, clamp: null}"])
        guard case .object(let o) = c.resolved, case .object(let r)? = o["residual"] else {
            Issue.record("shape")
            return
        }
        #expect(
            r == [
                "mode": .string("fixed_cap"), "cap": .number(16), "alpha": .number(1.2), "scale": .number(0.9),
                "clamp": .null
            ])
    }

    @Test func resolvedJSONTextHasSortedKeysAndParsesBackEqual() throws {
        for overrides in [
            [],
            [
                "residual={mode: adaptive, k: 0.9, clamp: null}", "monitor.on_nonfinite=stop",
                "train.init_from=\(fx.weights)", "train.grad_clip=2", "data.samples_per_epoch=32",
                "schedule={type: step, step_size: 3, gamma: 0.5}", "optim={type: sgd, lr: 1.0e-8}",
                "loss.1={type: mu_law_l1, weight: 0.25}"
            ]
        ] {
            // loss.1 does not exist in the minimal config: append it through a whole-list override instead.
            let fixed = overrides.map {
                $0.hasPrefix("loss.1=") ? "loss=[{type: huber, weight: 2.0}, {type: mu_law_l1, weight: 0.25}]" : $0
            }
            let c = try fx.parse(fixed)
            let text = c.resolvedJSONText
            let again = try TrainConfig.parse(text: text)
            #expect(again == c)
            #expect(again.resolvedJSONText == text)
            // Top-level keys are those indented by exactly one level.
            let top = TrainConfig.sections.sorted().map { text.range(of: "\n  \"\($0)\"")!.lowerBound }
            #expect(top == top.sorted())
        }
    }

    /// Every committed training config reads (its data paths pointed at scratch directories) and round-trips.
    /// ablation.yaml is an ablation file, read by AblationPlanTests.
    @Test func everyCommittedConfigParses() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: configsDirectory)
            .filter { $0.hasSuffix(".yaml") && $0 != "ablation.yaml" }.sorted()
        #expect(
            files == [
                "default.yaml", "learnable.yaml", "legacy_mode_a.yaml", "mode_b.yaml", "phase1.yaml",
                "phase3_histogram.yaml", "phase3_moment.yaml", "phase3_sparsity.yaml", "plain.yaml", "unet.yaml"
            ])
        for f in files {
            let c = try TrainConfig.load(path: configsDirectory + "/" + f, overrides: fx.dataOverrides)
            #expect(c.name + ".yaml" == f)
            #expect(try TrainConfig.parse(text: c.resolvedJSONText) == c)
        }
    }

    @Test func defaultConfigPointsAtTheRealData() throws {
        let text = try String(contentsOfFile: configsDirectory + "/plain.yaml", encoding: .utf8)
        #expect(
            text.contains("train: {sources: data/real/sources/train, recipe: configs/degrade/online_median.yaml}\n")
                && text.contains("  val: data/real/val  # six real photographs"))
        #expect(text.contains("  test: data/heldout/phone "))
        // The default (plain.yaml's recipe with a U-Net) reads the same sources and sets through its base, with soft
        // lights added to its training pairs, validates with one pass per patch, restores (held-out scoring,
        // pictures, restore) with eight, and runs its steps on every core.
        let (c, p) = try ConfigPathChecks.$enabled.withValue(false) {
            (
                try TrainConfig.load(path: configsDirectory + "/default.yaml"),
                try TrainConfig.load(path: configsDirectory + "/plain.yaml")
            )
        }
        #expect(c.data.train == p.data.train && c.data.val == p.data.val && c.data.test == p.data.test)
        #expect(p.data.trainRecipe?.hasSuffix("configs/degrade/online_median.yaml") == true)
        #expect(c.data.trainRecipe?.hasSuffix("configs/degrade/online_median_lights_soft.yaml") == true)
        #expect(c.data.test?.hasSuffix("data/heldout/phone") == true && c.model == .unet(width: 16, levels: 2))
        #expect(c.train.valSelfEnsemble == SelfEnsemble(count: 1) && c.selfEnsemble == SelfEnsemble(count: 8))
        #expect(c.train.computeThreads == nil)
        // The plain network's steps on one compute thread beside the loader's worker (docs/performance.md).
        #expect(p.train.computeThreads == 1)
    }

    /// `train.compute_threads`: absent by default (and then absent from the resolved config, as before it existed),
    /// an integer in [1, 256] otherwise, kept through the resolved config; anything else is one error naming it.
    @Test func computeThreadsIsOptionalAndBounded() throws {
        let plain = try fx.parse()
        #expect(plain.train.computeThreads == nil && !plain.resolvedJSONText.contains("compute_threads"))
        let one = try fx.parse(["train.compute_threads=1"])
        #expect(one.train.computeThreads == 1 && one.resolvedJSONText.contains("compute_threads"))
        #expect(try TrainConfig.parse(text: one.resolvedJSONText) == one)
        #expect(fx.message(["train.compute_threads=0"]).hasPrefix("config error: train.compute_threads: "))
        #expect(fx.message(["train.compute_threads=300"]).hasPrefix("config error: train.compute_threads: "))
        #expect(fx.message(["train.compute_threads=two"]).hasPrefix("config error: train.compute_threads: "))
    }

    /// The strategy variants, exactly as docs/conventions.md states them, and nothing else differing between
    /// them.
    @Test func strategyVariants() throws {
        func load(_ name: String) throws -> TrainConfig {
            try TrainConfig.load(path: "\(configsDirectory)/\(name).yaml", overrides: fx.dataOverrides)
        }
        func losses(_ c: TrainConfig) -> [String] { c.loss.terms.map { "\($0.name) \($0.weight)" } }
        let legacy = try load("legacy_mode_a")
        #expect(legacy.residual == ResidualConfig(mode: .fixedCap(cap: 16, alpha: 1.2), clamp: nil))
        #expect(losses(legacy) == ["l1 1.0"])
        let p1 = try load("phase1")
        #expect(p1.residual == ResidualConfig(mode: .fixedCap(cap: 6, alpha: 1), clamp: 8))
        #expect(losses(p1) == ["huber 2.0"])
        let b = try load("mode_b")
        #expect(b.residual == ResidualConfig(mode: .adaptive(k: 0.9), clamp: 8))
        #expect(losses(b) == ["huber 2.0"])
        let l = try load("learnable")
        #expect(l.residual == ResidualConfig(mode: .learnable(initial: 6), clamp: 8))
        #expect(losses(l) == ["huber 2.0"])
        let phase3 = [
            "phase3_histogram": "histogram 1.0", "phase3_moment": "moment 1.0", "phase3_sparsity": "sparsity 0.1"
        ]
        for (name, extra) in phase3 {
            let c = try load(name)
            #expect(c.residual == l.residual)
            #expect(losses(c) == ["huber 2.0", extra])
        }
        func shared(_ c: TrainConfig, dropping: [String] = []) -> JSONValue {
            guard case .object(var o) = c.resolved else { return .null }
            for k in ["name", "residual", "loss"] + dropping { o[k] = nil }
            return .object(o)
        }
        // Everything but name, residual and loss is plain.yaml's (the variants are `base: plain.yaml`, phase 3
        // over learnable.yaml): the ablation compares variants of the plain network's recipe.
        let d = try load("plain")
        for name in ["legacy_mode_a", "phase1", "mode_b", "learnable"] + phase3.keys.sorted() {
            #expect(try shared(load(name)) == shared(d), "\(name)")
        }
        #expect(d.inputs == NetworkInputs(planes: [.logNorm, .clipMask], clipLevel: 1.0) && l.inputs == d.inputs)
        // default.yaml is the plain recipe with a U-Net and its training settings (unet.yaml, the default of
        // 2026-12-07), trained for 10000 steps on pairs with soft lights: residual, loss, data sources and monitor
        // are the plain recipe's.
        let u = try load("default")
        let unetOfBefore = try load("unet")
        #expect(shared(unetOfBefore, dropping: ["data", "train"]) == shared(u, dropping: ["data", "train"]))
        #expect(u.model == .unet(width: 16, levels: 2) && u.inputs == d.inputs && u.data.batchSize == 8)
        #expect(u.optim["lr"] == .number(1e-3) && u.train.ema == 0.999 && u.train.steps == 10000)
        #expect(unetOfBefore.train.steps == d.train.steps)  // (the recipes: defaultConfigPointsAtTheRealData)
        guard case .object(var uo) = u.resolved, case .object(var dob) = d.resolved else { return }
        for k in ["name", "model", "optim", "schedule", "train", "data"] {
            uo[k] = nil
            dob[k] = nil
        }
        #expect(JSONValue.object(uo) == .object(dob))
    }
}

// MARK: Shared fixture

/// `<scratch>/train`, `<scratch>/val` (empty directories: the config only checks that they exist) and
/// `<scratch>/w.safetensors` (an empty file, for `train.init_from`).
final class TrainConfigFixture: @unchecked Sendable {
    let scratch = ScratchDir()
    var train: String { scratch.file("train") }
    var val: String { scratch.file("val") }
    var weights: String { scratch.file("w.safetensors") }

    init() {
        try! FileManager.default.createDirectory(atPath: scratch.file("train"), withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(atPath: scratch.file("val"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: scratch.file("w.safetensors"), contents: Data())
    }

    /// Every required key and nothing else.
    var minimal: String {
        """
        name: t
        data:
          train: \(train)
          val: \(val)
        model: {arch: plain, depth: 2, width: 4}
        residual: {mode: learnable, clamp: 8.0}
        loss:
          - {type: huber, weight: 2.0}
        optim: {type: adamw, lr: 1.0e-3}
        train: {steps: 10, grad_clip: null}
        """
    }

    /// The data overrides that point a committed config at this fixture's directories (the held-out test set
    /// at the validation directory: it only has to exist).
    var dataOverrides: [String] { ["data.train=\(train)", "data.val=\(val)", "data.test=\(val)"] }

    func parse(_ overrides: [String] = []) throws -> TrainConfig {
        try TrainConfig.parse(text: minimal, overrides: overrides)
    }

    /// The printed error of parsing the minimal config with `overrides`, or "no error".
    func message(_ overrides: [String]) -> String { configMessage { try self.parse(overrides) } }
}

/// The repository's configs/ directory.
let configsDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("configs").path
}()
