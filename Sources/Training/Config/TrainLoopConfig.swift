// The `train:` section of a training config: how long to train, how often to log, validate and checkpoint.
import Config
import Model
import Numerics

package struct TrainLoopConfig: Sendable, Equatable {
    /// `steps`: optimizer updates in the run (required, > 0).
    package var steps: Int
    /// `log_every` (10), `val_every` (100), `checkpoint_every` (200): in steps, >= 1.
    package var logEvery: Int
    package var valEvery: Int
    package var checkpointEvery: Int
    /// `grad_clip`: max global L2 gradient norm, or null for none. Required, like `residual.clamp`:
    /// a safety knob is said, not defaulted (GradClip.maxNorm's rule).
    package var gradClip: Double?
    /// `init_from`: weights file to start from (must exist), or null/absent to start from the seeded init.
    package var initFrom: String?
    /// `init_from_weights`: `raw` or `ema`, which weights of `init_from` to start from; required when that file
    /// holds EMA weights besides the raw ones (`initWeights(fileHoldsEMA:)`), raw when absent otherwise.
    package var initFromWeights: WeightsFile.WeightSet?
    /// `zero_init_output` (true): the network's output layer starts at zero, so the untrained model is the
    /// identity baseline. false keeps PyTorch's default init there too (a random initial residual, as the
    /// residual-scaling strategy assumes: what can make an untrained Mode A overflow).
    package var zeroInitOutput: Bool
    /// `init` (`pytorch`): how the conv weights are drawn, PyTorch's nn.Conv2d default or `kaiming` (He's init for
    /// the LeakyReLU, biases zero: InitScheme).
    package var initScheme: InitScheme
    /// `ema`: decay of the exponential moving average of the weights, in (0, 1), or null/absent for none. With it,
    /// validation and `best` use the average, and every checkpoint holds both sets (docs/conventions.md).
    package var ema: Double?
    /// `val_self_ensemble`: the passes per patch (1, 2, 4 or 8) of the validations during the run, or null/absent
    /// for `model.self_ensemble`'s. Only which checkpoint is `best` can change with it: training never reads it,
    /// and the held-out scoring, the pictures and every later restore use `model.self_ensemble`.
    package var valSelfEnsemble: SelfEnsemble?
    /// `compute_threads`: the compute threads of the training steps, in [1, 256] and at most the program's count
    /// (`Parallel.threads`: every core, or a rank's share of them), or null/absent for that count. The validations
    /// and the held-out scoring keep the program's count. A loader worker that makes the pairs on the fly shares the
    /// cores with the steps, and where its batch costs about what a step costs on one thread, one compute thread
    /// beside it trains faster than every core (docs/performance.md). `HDRPATCH_THREADS` or `OPENBLAS_NUM_THREADS`,
    /// when set, overrides it (`stepThreads`).
    package var computeThreads: Int?

    package static let keys = [
        "steps", "log_every", "val_every", "checkpoint_every", "grad_clip", "init_from", "init_from_weights",
        "zero_init_output", "init", "ema", "val_self_ensemble", "compute_threads"
    ]

    package init(
        steps: Int, logEvery: Int = 10, valEvery: Int = 100, checkpointEvery: Int = 200, gradClip: Double?,
        initFrom: String? = nil, initFromWeights: WeightsFile.WeightSet? = nil, zeroInitOutput: Bool = true,
        initScheme: InitScheme = .pytorch, ema: Double? = nil, valSelfEnsemble: SelfEnsemble? = nil,
        computeThreads: Int? = nil
    ) {
        self.steps = steps
        self.logEvery = logEvery
        self.valEvery = valEvery
        self.checkpointEvery = checkpointEvery
        self.gradClip = gradClip
        self.initFrom = initFrom
        self.initFromWeights = initFromWeights
        self.zeroInitOutput = zeroInitOutput
        self.initScheme = initScheme
        self.ema = ema
        self.valSelfEnsemble = valSelfEnsemble
        self.computeThreads = computeThreads
    }

    package init(config c: ConfigMapping) throws {
        steps = try c.required("steps", in: .greaterThan(0))
        logEvery = try c.value("log_every", default: 10, in: .atLeast(1))
        valEvery = try c.value("val_every", default: 100, in: .atLeast(1))
        checkpointEvery = try c.value("checkpoint_every", default: 200, in: .atLeast(1))
        gradClip = try GradClip.maxNorm(from: c)
        initFrom = try c.optionalExistingFile("init_from")
        if let name: String = try c.optional("init_from_weights") {
            guard let set = WeightsFile.WeightSet(rawValue: name) else {
                throw c.error("init_from_weights", "expected raw or ema, got '\(name)'")
            }
            if initFrom == nil { throw c.error("init_from_weights", "not used without train.init_from") }
            initFromWeights = set
        }
        zeroInitOutput = try c.value("zero_init_output", default: true)
        let scheme: String = try c.value("init", default: InitScheme.pytorch.rawValue)
        guard let initScheme = InitScheme(rawValue: scheme) else {
            let known = InitScheme.allCases.map(\.rawValue).joined(separator: " or ")
            throw c.error("init", "expected \(known), got '\(scheme)'")
        }
        self.initScheme = initScheme
        ema = try c.optional(
            "ema", in: ConfigBounds(lower: 0.0, lowerInclusive: false, upper: 1.0, upperInclusive: false))
        valSelfEnsemble = try SelfEnsemble.read(c, key: "val_self_ensemble")
        computeThreads = try c.optional("compute_threads", in: .within(1...256))
        try c.finish(known: Self.keys)
    }

    /// The weights `init_from` loads, given whether that file holds EMA weights: `init_from_weights`, which must
    /// be said for a file holding both sets, and can only be `ema` for such a file.
    /// - Throws: ConfigError at `train.init_from_weights`.
    package func initWeights(fileHoldsEMA: Bool) throws -> WeightsFile.WeightSet {
        let key = "train.init_from_weights"
        switch (initFromWeights, fileHoldsEMA) {
        case (nil, false): return .raw
        case (nil, true):
            throw ConfigError(
                keyPath: key, reason: "required: '\(initFrom ?? "")' holds raw and EMA weights (write raw or ema)")
        case (.ema?, false):
            throw ConfigError(keyPath: key, reason: "'\(initFrom ?? "")' holds no EMA weights, only the raw ones")
        case (let set?, _): return set
        }
    }

    /// The compute threads of this run's steps: `compute_threads`, unless the environment sets the program's thread
    /// count (`HDRPATCH_THREADS`, `OPENBLAS_NUM_THREADS`: a job scheduler's allocation, a user's choice for one
    /// run), which then holds for the steps too. nil: the program's count.
    package var stepThreads: Int? { Parallel.environmentThreads == nil ? computeThreads : nil }

    /// `val_self_ensemble` and `compute_threads` only when they are said, so the configs of before resolve as they
    /// did.
    package var json: JSONValue {
        var o: [String: JSONValue] = [
            "steps": .integer(steps), "log_every": .integer(logEvery), "val_every": .integer(valEvery),
            "checkpoint_every": .integer(checkpointEvery), "grad_clip": gradClip.map(JSONValue.number) ?? .null,
            "init_from": initFrom.map(JSONValue.string) ?? .null,
            "init_from_weights": initFromWeights.map { .string($0.rawValue) } ?? .null,
            "zero_init_output": .bool(zeroInitOutput), "init": .string(initScheme.rawValue),
            "ema": ema.map(JSONValue.number) ?? .null
        ]
        if let valSelfEnsemble { o["val_self_ensemble"] = .integer(valSelfEnsemble.count) }
        if let computeThreads { o["compute_threads"] = .integer(computeThreads) }
        return .object(o)
    }
}
