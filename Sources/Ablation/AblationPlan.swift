// An ablation file: a base config, variants (a config file and/or --set overrides), seeds, a step budget and the
// claims to check, turned into the list of ordinary training runs that `hdrpatch ablate` executes.
import Config

/// ```yaml
/// name: residual-scaling
/// base: configs/default.yaml        # used by variants without their own `config`
/// seeds: [0, 1, 2]
/// steps: 1500                       # every run's train.steps
/// quick_steps: 150                  # with --quick
/// set: ["train.zero_init_output=false"]   # overrides for every variant (applied before the variant's own)
/// variants:
///   - {name: phase1, config: configs/phase1.yaml}
///   - {name: clamp4, set: ["residual.clamp=4"]}   # base + overrides
/// claims:                           # optional; see ClaimSpec
///   - {name: "clamp helps", treated: clamp4, baseline: phase1, measure: val_log_l1, effect: reduction,
///      direction: positive}
/// ```
public struct AblationPlan: Sendable, Equatable {
    public struct Variant: Sendable, Equatable {
        public var name: String
        public var config: String
        public var overrides: [String]
    }

    /// One training run: a variant with a seed, in `<out>/<variant>/seed-<seed>`.
    public struct Run: Sendable, Equatable {
        public var variant: String
        public var seed: Int
        public var dir: String
        public var config: String
        /// `--set` overrides, in order: the file's common ones, the variant's, then seed and step budget.
        public var overrides: [String]
    }

    public var name: String
    public var variants: [Variant]
    public var seeds: [Int]
    public var steps: Int
    public var quickSteps: Int
    /// Overrides applied to every variant, before its own.
    public var commonOverrides: [String]
    /// What the comparison checks, in file order.
    public var claims: [ClaimSpec]

    public init(config c: ConfigMapping) throws {
        name = try c.required("name")
        let base: String? = try c.optional("base")
        seeds = try c.values("seeds", Int.self)
        guard !seeds.isEmpty else { throw c.error("seeds", "list at least one seed") }
        guard Set(seeds).count == seeds.count else { throw c.error("seeds", "seeds repeat") }
        steps = try c.required("steps", in: .atLeast(1))
        quickSteps = try c.value("quick_steps", default: max(1, steps / 10), in: .atLeast(1))
        commonOverrides = try c.contains("set") ? c.values("set", String.self) : []
        var seen = Set<String>()
        variants = try c.mappings("variants").map { v in
            let name: String = try v.required("name")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw v.error("name", "use letters, digits, '_' and '-' only (it names a directory)")
            }
            guard seen.insert(name).inserted else { throw v.error("name", "variant '\(name)' appears twice") }
            let own: String? = try v.optional("config")
            guard let config = own ?? base else {
                throw v.error("config", "no config for this variant and no `base` in the ablation file")
            }
            let overrides = try v.contains("set") ? v.values("set", String.self) : []
            try v.finish(known: ["name", "config", "set"])
            return Variant(name: name, config: config, overrides: overrides)
        }
        guard !variants.isEmpty else { throw c.error("variants", "list at least one variant") }
        let names = variants.map(\.name)
        claims = try c.contains("claims") ? c.mappings("claims").map { try ClaimSpec(config: $0, variants: names) } : []
        var claimNames = Set<String>()
        for (i, claim) in claims.enumerated() where !claimNames.insert(claim.name).inserted {
            throw try c.mappings("claims")[i].error("name", "claim '\(claim.name)' appears twice")
        }
        try c.finish(known: ["name", "base", "seeds", "steps", "quick_steps", "set", "variants", "claims"])
    }

    public static func load(path: String) throws -> AblationPlan {
        try AblationPlan(config: StrictYAML.load(path: path))
    }

    /// Every (variant, seed) run under `out`, variants in file order, seeds in file order.
    /// - Parameter quick: shrinks the budget to `quick_steps`, validating once at the end and warming up for
    ///   a tenth of the steps, so the demo ends in minutes.
    /// - Parameter seedCount: use only the first `seedCount` seeds (`--seeds K`).
    public func runs(out: String, quick: Bool, seedCount: Int? = nil) -> [Run] {
        let budget = quick ? quickSteps : steps
        var budgetOverrides = ["train.steps=\(budget)"]
        if quick {
            budgetOverrides += [
                "train.val_every=\(budget)", "train.checkpoint_every=\(max(1, budget / 3))",
                "schedule.warmup_steps=\(budget / 10)"
            ]
        }
        let chosen = seedCount.map { Array(seeds.prefix(max(1, $0))) } ?? seeds
        return variants.flatMap { v in
            chosen.map { seed in
                Run(
                    variant: v.name, seed: seed, dir: "\(out)/\(v.name)/seed-\(seed)", config: v.config,
                    overrides: commonOverrides + v.overrides + ["seed=\(seed)"] + budgetOverrides)
            }
        }
    }
}
