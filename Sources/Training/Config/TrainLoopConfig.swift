// The `train:` section of a training config: how long to train, how often to log, validate and checkpoint.
import Config

public struct TrainLoopConfig: Sendable, Equatable {
    /// `steps`: optimizer updates in the run (required, > 0).
    public var steps: Int
    /// `log_every` (10), `val_every` (100), `checkpoint_every` (200): in steps, >= 1.
    public var logEvery: Int
    public var valEvery: Int
    public var checkpointEvery: Int
    /// `grad_clip`: max global L2 gradient norm, or null for none. Required, like `residual.clamp`:
    /// a safety knob is said, not defaulted (GradClip.maxNorm's rule).
    public var gradClip: Double?
    /// `init_from`: weights file to start from (must exist), or null/absent to start from the seeded init.
    public var initFrom: String?
    /// `zero_init_output` (true): the network's output layer starts at zero, so the untrained model is the
    /// identity baseline. false keeps PyTorch's default init there too (a random initial residual, as the
    /// residual-scaling strategy assumes: what can make an untrained Mode A overflow).
    public var zeroInitOutput: Bool

    public static let keys = [
        "steps", "log_every", "val_every", "checkpoint_every", "grad_clip", "init_from", "zero_init_output"
    ]

    public init(
        steps: Int, logEvery: Int = 10, valEvery: Int = 100, checkpointEvery: Int = 200, gradClip: Double?,
        initFrom: String? = nil, zeroInitOutput: Bool = true
    ) {
        self.steps = steps
        self.logEvery = logEvery
        self.valEvery = valEvery
        self.checkpointEvery = checkpointEvery
        self.gradClip = gradClip
        self.initFrom = initFrom
        self.zeroInitOutput = zeroInitOutput
    }

    public init(config c: ConfigMapping) throws {
        steps = try c.required("steps", in: .greaterThan(0))
        logEvery = try c.value("log_every", default: 10, in: .atLeast(1))
        valEvery = try c.value("val_every", default: 100, in: .atLeast(1))
        checkpointEvery = try c.value("checkpoint_every", default: 200, in: .atLeast(1))
        gradClip = try GradClip.maxNorm(from: c)
        initFrom = try c.optionalExistingFile("init_from")
        zeroInitOutput = try c.value("zero_init_output", default: true)
        try c.finish(known: Self.keys)
    }

    public var json: JSONValue {
        .object([
            "steps": .integer(steps), "log_every": .integer(logEvery), "val_every": .integer(valEvery),
            "checkpoint_every": .integer(checkpointEvery), "grad_clip": gradClip.map(JSONValue.number) ?? .null,
            "init_from": initFrom.map(JSONValue.string) ?? .null, "zero_init_output": .bool(zeroInitOutput)
        ])
    }
}
