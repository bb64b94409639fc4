// TrainConfig's refusals: each bad config with the exact message it must stop with, before any training.
import Config
import Foundation
import Testing

@testable import Training

@Suite struct TrainConfigErrorTests {
    let fx = TrainConfigFixture()

    /// (overrides applied to the minimal config, expected message).
    static let cases: [([String], String)] = [
        (["residul.clamp=8"], "config error: residul: unknown key (did you mean 'residual'?)"),
        (
            ["zzzzzzzz=1"],
            "config error: zzzzzzzz: unknown key; known keys: data, loss, model, monitor, name, optim, residual, schedule, seed, train"
        ),
        (["data.patchsize=32"], "config error: data.patchsize: unknown key (did you mean 'patch_size'?)"),
        (["data.augment.flip=true"], "config error: data.augment.flip: unknown key (did you mean 'flip_h'?)"),
        (["train.step=5"], "config error: train.step: unknown key (did you mean 'steps'?)"),
        (["monitor.saturaton=0.5"], "config error: monitor.saturaton: unknown key (did you mean 'saturation'?)"),
        (["data.batch_size=big"], "config error: data.batch_size: expected an integer, found string 'big'"),
        (["train.steps=10.0"], "config error: train.steps: expected an integer, found number 10.0"),
        (["data.cache=1"], "config error: data.cache: expected a boolean, found integer 1"),
        (["name=2024"], "config error: name: expected a string, found integer 2024"),
        (["monitor.saturation=1.5"], "config error: monitor.saturation: must be in (0.0, 1.0), got 1.5"),
        (["monitor.overflow_limit=0"], "config error: monitor.overflow_limit: must be > 0.0, got 0.0"),
        (["monitor.max_nonfinite=0"], "config error: monitor.max_nonfinite: must be >= 1, got 0"),
        (["train.steps=0"], "config error: train.steps: must be > 0, got 0"),
        (["train.ema=1"], "config error: train.ema: must be in (0.0, 1.0), got 1.0"),
        (["train.ema=0"], "config error: train.ema: must be in (0.0, 1.0), got 0.0"),
        (["train.ema=-0.5"], "config error: train.ema: must be in (0.0, 1.0), got -0.5"),
        (["train.ema=fast"], "config error: train.ema: expected a number, found string 'fast'"),
        (["train.ema=true"], "config error: train.ema: expected a number, found boolean true"),
        (["train.emma=0.999"], "config error: train.emma: unknown key (did you mean 'ema'?)"),
        (["train.init=he"], "config error: train.init: expected pytorch or kaiming, got 'he'"),
        (["train.init=1"], "config error: train.init: expected a string, found integer 1"),
        (
            ["train.init_from_weights=ema"],
            "config error: train.init_from_weights: not used without train.init_from"
        ),
        (["train.log_every=0"], "config error: train.log_every: must be >= 1, got 0"),
        (["seed=-1"], "config error: seed: must be >= 0, got -1"),
        (["data.eps=0"], "config error: data.eps: must be > 0.0, got 0.0"),
        (["data.workers=1000"], "config error: data.workers: must be in [0, 256], got 1000"),
        (["loss.0.weight=-1"], "config error: loss.0.weight: must be >= 0.0, got -1.0"),
        (
            ["data.samples_per_epoch=4"],
            "config error: data.samples_per_epoch: must be >= data.batch_size (16), got 4: an epoch would hold no full batch"
        ),
        (
            ["data.batch_size=100000", "data.patch_size=1024"],
            "config error: data: batch_size 100000 x 3 x 1024 x 1024 exceeds 1073741824 values per batch tensor"
        ),
        (
            ["data.train=/nonexistent/hdrpatch/x"],
            "config error: data.train: no such directory '/nonexistent/hdrpatch/x'"
        ),
        (
            ["train.init_from=/nonexistent/hdrpatch/w.safetensors"],
            "config error: train.init_from: no such file '/nonexistent/hdrpatch/w.safetensors'"
        ),
        (["residual.k=0.9"], "config error: residual.k: not used by mode learnable (it belongs to mode adaptive)"),
        (
            ["residual={mode: fixed_cap, learnable_init: 6.0, clamp: 8.0}"],
            "config error: residual.learnable_init: not used by mode fixed_cap (it belongs to mode learnable)"
        ),
        (["model.levels=2"], "config error: model.levels: not used by arch plain (it belongs to arch unet)"),
        (
            ["model={arch: unet, width: 4, levels: 2}", "data.patch_size=30"],
            "config error: data.patch_size: must be a multiple of 4 for model.arch unet with levels 2, got 30"
        ),
        (["monitor.on_nonfinite=halt"], "config error: monitor.on_nonfinite: unknown policy 'halt'; known: skip, stop"),
        (
            ["monitor.on_divergence=halt"],
            "config error: monitor.on_divergence: unknown policy 'halt'; known: continue, stop"
        ),
        (["monitor.divergence_margin_db=0"], "config error: monitor.divergence_margin_db: must be > 0.0, got 0.0"),
        (
            ["monitor.on_nonfinite=stop", "monitor.max_nonfinite=3"],
            "config error: monitor.max_nonfinite: not used by on_nonfinite stop (it belongs to on_nonfinite skip)"
        ),
        (
            ["schedule.type=cosin"],
            "config error: schedule.type: unknown schedule 'cosin' (did you mean 'cosine'?); known: constant, cosine, step"
        ),
        (["schedule.warmup_steps=5"], "config error: schedule.type: missing required key"),
        (
            ["schedule={type: constant, warmup_steps: 50}"],
            "config error: schedule.warmup_steps: must be <= train.steps (10), got 50"
        ),
        (
            ["optim.type=adam"],
            "config error: optim.type: unknown optimizer 'adam' (did you mean 'adamw'?); known: adamw, sgd"
        ),
        (
            ["loss.0.type=hubber"],
            "config error: loss.0.type: unknown loss term 'hubber' (did you mean 'huber'?); known: clip_l1, histogram, hole_l1, huber, l1, moment, mse, mu_law_l1, mu_law_mse, pu21_l1, sparsity"
        ),
        // Malformed overrides name themselves.
        (["residual.clamp"], "config error: --set residual.clamp: no '=' (expected key.path=value)"),
        (["=3"], "config error: --set =3: empty key in '' (expected key.path=value)"),
        (["a..b=1"], "config error: --set a..b=1: empty key in 'a..b' (expected key.path=value)"),
        (["seed="], "config error: --set seed=: no value after '=' (write null for null)"),
        (["loss.5.weight=2"], "config error: --set loss.5.weight: list has 1 item"),
        (
            ["loss=[{type: huber, weight: 2.0}, {type: l1, weight: 1}]", "loss.5.weight=2"],
            "config error: --set loss.5.weight: list has 2 items"
        ),
        (["loss.x.weight=2"], "config error: --set loss.x.weight: 'loss' is a list; 'x' is not an item index"),
        (["name.first=1"], "config error: --set name.first: 'name' is a string, not a mapping or list"),
        (["seed=[1"], "config error: --set seed: value '[1' is not valid YAML")
    ]

    @Test(arguments: cases) func refuses(_ overrides: [String], _ expected: String) {
        let got = fx.message(overrides)
        // A YAML parser's own wording follows "not valid YAML: "; only our part is pinned.
        if expected.hasSuffix("is not valid YAML") {
            #expect(got.hasPrefix(expected + ": "))
        } else {
            #expect(got == expected)
        }
    }

    @Test func initFromWeightsIsRawOrEMA() throws {
        #expect(
            fx.message(["train.init_from=\(fx.weights)", "train.init_from_weights=best"])
                == "config error: train.init_from_weights: expected raw or ema, got 'best'")
        let cfg = try fx.parse(["train.init_from=\(fx.weights)", "train.init_from_weights=ema", "train.ema=0.999"])
        #expect(cfg.train.initFromWeights == .ema && cfg.train.ema == 0.999)
        #expect(try fx.parse(["train.ema=null"]).train.ema == nil)
        #expect(try fx.parse(["train.init=kaiming"]).train.initScheme == .kaiming)
        #expect(try fx.parse([]).train.initScheme == .pytorch)
    }

    @Test func missingSectionsAndKeys() {
        let text = fx.minimal
        func without(_ line: String) -> String {
            configMessage { try TrainConfig.parse(text: text.replacingOccurrences(of: line, with: "")) }
        }
        #expect(without("name: t\n") == "config error: name: missing required key")
        #expect(without("model: {arch: plain, depth: 2, width: 4}\n") == "config error: model: missing required key")
        #expect(without("optim: {type: adamw, lr: 1.0e-3}\n") == "config error: optim: missing required key")
        #expect(without("train: {steps: 10, grad_clip: null}") == "config error: train: missing required key")
        #expect(
            configMessage { try TrainConfig.parse(text: text.replacingOccurrences(of: ", grad_clip: null", with: "")) }
                == "config error: train.grad_clip: missing required key (a max norm > 0, or null for no clipping)")
        #expect(
            configMessage { try TrainConfig.parse(text: text.replacingOccurrences(of: ", clamp: 8.0", with: "")) }
                == "config error: residual.clamp: missing required key (a number, or null for no clamp)")
    }

    @Test func pathsOfTheWrongKind() {
        #expect(
            fx.message(["data.val=\(fx.weights)"])
                == "config error: data.val: '\(fx.weights)' is a file, expected a directory")
        #expect(
            fx.message(["train.init_from=\(fx.train)"])
                == "config error: train.init_from: '\(fx.train)' is a directory, expected a file")
    }

    @Test func unreadableAndMalformedFiles() throws {
        let missing = fx.scratch.file("nope.yaml")
        #expect(throws: ConfigError(keyPath: "", reason: "No such file or directory", file: missing)) {
            try TrainConfig.load(path: missing)
        }
        #expect(configMessage { try TrainConfig.load(path: self.fx.train) } == "config error: is a directory")
        #expect(
            configMessage { try TrainConfig.parse(text: "- 1\n- 2") }
                == "config error: expected a mapping at the top level, found list")
        #expect(
            configMessage { try TrainConfig.parse(text: "name: [1") }.hasPrefix(
                "config error: YAML syntax error at line"))
        // The file is carried for the CLI's `error: <file>: config error: ...`.
        let path = fx.scratch.file("bad.yaml")
        try (fx.minimal + "\nextra: 1\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try TrainConfig.load(path: path)
            Issue.record("no error")
        } catch let e as ConfigError {
            #expect(
                e.description
                    == "config error: extra: unknown key; known keys: data, loss, model, monitor, name, optim, residual, schedule, seed, train"
            )
            #expect(e.file == path)
        }
    }
}
