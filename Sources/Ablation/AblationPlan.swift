// An ablation file: a base config, variants (a config file and/or --set overrides), seeds, a step budget and the
// claims to check, turned into the list of ordinary training runs that `hdrpatch ablate` executes.
import Config

/// ```yaml
/// name: residual-scaling
/// base: configs/plain.yaml          # used by variants without their own `config`
/// seeds: [0, 1, 2]
/// steps: 1500                       # every run's train.steps
/// quick_steps: 150                  # with --quick
/// set: ["train.zero_init_output=false"]   # overrides for every variant (applied before the variant's own)
/// variants:
///   - {name: phase1, config: configs/phase1.yaml}
///   - {name: clamp4, set: ["residual.clamp=4"]}   # base + overrides
/// tasks:                            # optional: data sets (each a data set and its recipe), as overrides
///   - {name: phone, set: ["data.train=data/real/train", "data.val=data/real/val"]}
///   - {name: hdr_warp, set: ["data.train=data/hdr_warp/train", "data.val=data/hdr_warp/val"]}
/// axes:                             # optional: swept config keys, each with its values (file order)
///   optim.lr: [5.0e-3, 2.0e-2]
/// claims:                           # optional; see ClaimSpec
///   - {name: "clamp helps", treated: clamp4, baseline: phase1, measure: val_log_l1, effect: reduction,
///      direction: positive}
/// ```
package struct AblationPlan: Sendable, Equatable {
    package struct Variant: Sendable, Equatable {
        package var name: String
        package var config: String
        package var overrides: [String]
    }

    /// A data set the variants are trained on: its name and the overrides that select it.
    package struct Task: Sendable, Equatable {
        package var name: String
        package var overrides: [String]
    }

    /// A swept config key and its values, as written (`--set key=value` parses each again).
    package struct Axis: Sendable, Equatable {
        package var key: String
        package var values: [String]
    }

    /// One combination of axis values, one value per axis in axis order; empty without axes.
    package struct Point: Sendable, Equatable, Hashable, Comparable {
        package var settings: [Setting]
        package struct Setting: Sendable, Equatable, Hashable {
            package var key: String
            package var value: String
            package init(key: String, value: String) {
                self.key = key
                self.value = value
            }
        }
        /// `optim.lr=0.02,train.zero_init_output=false`; "" without axes. Also the run directory's name.
        package var label: String { settings.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
        package var overrides: [String] { settings.map { "\($0.key)=\($0.value)" } }
        /// Plan order is kept by `index`; comparing labels only breaks ties.
        package var index: Int = 0
        package init(settings: [Setting], index: Int = 0) {
            self.settings = settings
            self.index = index
        }
        package static func < (a: Point, b: Point) -> Bool { (a.index, a.label) < (b.index, b.label) }
        package static func == (a: Point, b: Point) -> Bool { a.settings == b.settings }
        package func hash(into h: inout Hasher) { h.combine(settings) }
    }

    /// One training run: a variant at a sweep point on a task with a seed, in
    /// `<out>[/<task>]/<variant>[/<point>]/seed-<seed>` (the task level only with `tasks:`, the point level only
    /// with `axes:`).
    package struct Run: Sendable, Equatable {
        package var variant: String
        package var seed: Int
        package var dir: String
        package var config: String
        /// `--set` overrides, in order: the file's common ones, the task's, the variant's, the point's, then
        /// seed and step budget.
        package var overrides: [String]
        /// nil without `tasks:`.
        package var task: String? = nil
        package var point = Point(settings: [])
    }

    package var name: String
    package var variants: [Variant]
    package var seeds: [Int]
    package var steps: Int
    package var quickSteps: Int
    /// Overrides applied to every variant, before its own.
    package var commonOverrides: [String]
    /// What the comparison checks, in file order.
    package var claims: [ClaimSpec]
    /// Data sets, in file order; empty: the variants' own data.
    package var tasks: [Task]
    /// Swept keys, in file order; empty: one point.
    package var axes: [Axis]

    /// Every combination of axis values, the first axis varying slowest; one empty point without axes.
    package var points: [Point] {
        var out = [Point(settings: [])]
        for axis in axes {
            out = out.flatMap { p in
                axis.values.map { v in Point(settings: p.settings + [.init(key: axis.key, value: v)]) }
            }
        }
        return out.enumerated().map { i, p in
            var q = p
            q.index = i
            return q
        }
    }

    package init(config c: ConfigMapping) throws {
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
        var taskNames = Set<String>()
        tasks =
            try c.contains("tasks")
            ? c.mappings("tasks").map { t in
                let name: String = try t.required("name")
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw t.error("name", "use letters, digits, '_' and '-' only (it names a directory)")
                }
                guard taskNames.insert(name).inserted else { throw t.error("name", "task '\(name)' appears twice") }
                let overrides = try t.contains("set") ? t.values("set", String.self) : []
                try t.finish(known: ["name", "set"])
                return Task(name: name, overrides: overrides)
            } : []
        if let a = try c.optionalMapping("axes") {
            axes = try a.keys.map { key in
                let values = try a.values(key, ScalarText.self).map(\.text)
                guard !values.isEmpty else { throw a.error(key, "list at least one value") }
                guard Set(values).count == values.count else { throw a.error(key, "values repeat") }
                guard !values.contains(where: { $0.contains("/") || $0.contains(",") }) else {
                    throw a.error(key, "values name directories: no '/' or ','")
                }
                return Axis(key: key, values: values)
            }
            try a.finish(known: axes.map(\.key))
        } else {
            axes = []
        }
        let names = variants.map(\.name)
        claims = try c.contains("claims") ? c.mappings("claims").map { try ClaimSpec(config: $0, variants: names) } : []
        var claimNames = Set<String>()
        for (i, claim) in claims.enumerated() where !claimNames.insert(claim.name).inserted {
            throw try c.mappings("claims")[i].error("name", "claim '\(claim.name)' appears twice")
        }
        try c.finish(
            known: ["name", "base", "seeds", "steps", "quick_steps", "set", "variants", "tasks", "axes", "claims"])
    }

    package static func load(path: String) throws -> AblationPlan {
        try AblationPlan(config: StrictYAML.load(path: path))
    }

    /// Every (variant, seed) run under `out`, variants in file order, seeds in file order.
    /// - Parameter quick: shrinks the budget to `quick_steps`, validating once at the end and warming up for
    ///   a tenth of the steps, so the demo ends in minutes.
    /// - Parameter seedCount: use only the first `seedCount` seeds (`--seeds K`).
    package func runs(out: String, quick: Bool, seedCount: Int? = nil) -> [Run] {
        let budget = quick ? quickSteps : steps
        var budgetOverrides = ["train.steps=\(budget)"]
        if quick {
            budgetOverrides += [
                "train.val_every=\(budget)", "train.checkpoint_every=\(max(1, budget / 3))",
                "schedule.warmup_steps=\(budget / 10)"
            ]
        }
        let chosen = seedCount.map { Array(seeds.prefix(max(1, $0))) } ?? seeds
        let taskList: [Task?] = tasks.isEmpty ? [nil] : tasks
        return taskList.flatMap { task in
            variants.flatMap { v in
                points.flatMap { point in
                    chosen.map { seed in
                        var dir = out
                        if let task { dir += "/" + task.name }
                        dir += "/" + v.name
                        if !point.settings.isEmpty { dir += "/" + point.label }
                        return Run(
                            variant: v.name, seed: seed, dir: dir + "/seed-\(seed)", config: v.config,
                            overrides: commonOverrides + (task?.overrides ?? []) + v.overrides + point.overrides
                                + ["seed=\(seed)"] + budgetOverrides,
                            task: task?.name, point: point)
                    }
                }
            }
        }
    }
}
