// Ablation files: strict reading, and the runs (directories, configs, overrides) they expand to.
import Config
import Foundation
import Testing

@testable import Ablation

struct AblationPlanTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theShippedFileExpandsToVariantsTimesTasksTimesRatesTimesSeeds() throws {
        let plan = try AblationPlan.load(path: Self.repo + "/configs/ablation.yaml")
        #expect(
            plan.variants.map(\.name) == [
                "legacy_mode_a", "phase1", "mode_b", "learnable", "phase3_histogram",
                "phase3_moment", "phase3_sparsity"
            ])
        #expect(plan.tasks.map(\.name) == ["phone", "hdr_warp", "frames"])
        #expect(plan.points.map(\.label) == ["optim.lr=5.0e-3", "optim.lr=2.0e-2", "optim.lr=5.0e-2"])
        let runs = plan.runs(out: "out", quick: false)
        #expect(runs.count == 7 * 3 * 3 * 3)
        #expect(runs[0].dir == "out/phone/legacy_mode_a/optim.lr=5.0e-3/seed-0")
        #expect(
            runs[0].overrides == [
                "train.zero_init_output=false", "train.val_every=150", "monitor.on_divergence=stop",
                "model.self_ensemble=1", "data.val_mode=tiles", "data.val=data/real/val", "optim.lr=5.0e-3", "seed=0",
                "train.steps=600"
            ])
        let warp = runs[7 * 2 * 3 * 3 - 1]
        #expect(
            warp.overrides.prefix(9) == [
                "train.zero_init_output=false", "train.val_every=150", "monitor.on_divergence=stop",
                "model.self_ensemble=1", "data.val_mode=tiles", "data.train=data/hdr_warp/train",
                "data.val=data/hdr_warp/val",
                "model.inputs=[log_norm]",
                "model.clip_level=null"
            ])
        #expect(warp.dir == "out/hdr_warp/phase3_sparsity/optim.lr=5.0e-2/seed-2")
        #expect(
            runs.last?.overrides.prefix(10) == [
                "train.zero_init_output=false", "train.val_every=150", "monitor.on_divergence=stop",
                "model.self_ensemble=1", "data.val_mode=tiles", "data.train=data/frames/train",
                "data.val=data/frames/val",
                "data.test=data/frames/test",
                "model.inputs=[log_norm]", "model.clip_level=null"
            ])
        #expect(runs.last?.dir == "out/frames/phase3_sparsity/optim.lr=5.0e-2/seed-2")
        for v in plan.variants {
            #expect(FileManager.default.fileExists(atPath: Self.repo + "/" + v.config), "\(v.config)")
        }
        #expect(
            plan.claims.map(\.name) == [
                "Overflow incidents: phase1 vs legacy_mode_a", "Validation loss: learnable vs phase1",
                "Phase 3: phase3_histogram vs learnable", "Phase 3: phase3_moment vs learnable",
                "Phase 3: phase3_sparsity vs learnable"
            ])
        #expect(
            plan.claims[0]
                == ClaimSpec(
                    name: "Overflow incidents: phase1 vs legacy_mode_a",
                    statement: "Phase 1 has 80-95% fewer overflow incidents than legacy Mode A (training monitor).",
                    treated: "phase1", baseline: "legacy_mode_a", measure: .incidentsPer1000, effect: .reduction,
                    claimed: .range(0.80...0.95)))
        #expect(plan.claims[1].statement.hasSuffix("so the common measure is validation log-L1."))
        #expect(plan.claims[4].claimed == .positive && plan.claims[4].treated == "phase3_sparsity")
    }

    @Test func quickShrinksTheBudgetAndSeedsCanBeLimited() throws {
        let plan = try AblationPlan(
            config: StrictYAML.parse(
                """
                name: t
                base: b.yaml
                seeds: [3, 4]
                steps: 1000
                quick_steps: 90
                set: ["train.zero_init_output=false"]
                variants:
                  - {name: a}
                  - {name: c4, set: ["residual.clamp=4"]}
                """))
        let runs = plan.runs(out: "o", quick: true, seedCount: 1)
        #expect(runs.map(\.dir) == ["o/a/seed-3", "o/c4/seed-3"])
        #expect(runs[1].config == "b.yaml")
        #expect(
            runs[1].overrides == [
                "train.zero_init_output=false", "residual.clamp=4", "seed=3", "train.steps=90", "train.val_every=90",
                "train.checkpoint_every=30", "schedule.warmup_steps=9"
            ])
    }

    @Test func tasksAndAxesMultiplyTheRunsInFileOrder() throws {
        let plan = try AblationPlan(
            config: StrictYAML.parse(
                """
                name: t
                base: b.yaml
                seeds: [0, 1]
                steps: 10
                variants:
                  - {name: a}
                  - {name: c, set: ["residual.clamp=4"]}
                tasks:
                  - {name: phone, set: ["data.train=p/train"]}
                  - {name: hdr_warp, set: ["data.train=h/train"]}
                axes:
                  optim.lr: [5.0e-3, 0.02]
                  train.zero_init_output: [false]
                """))
        #expect(
            plan.points.map(\.label) == [
                "optim.lr=5.0e-3,train.zero_init_output=false", "optim.lr=0.02,train.zero_init_output=false"
            ])
        let runs = plan.runs(out: "o", quick: false)
        #expect(runs.count == 2 * 2 * 2 * 2)
        #expect(runs[0].dir == "o/phone/a/optim.lr=5.0e-3,train.zero_init_output=false/seed-0")
        #expect(
            runs[0].overrides == [
                "data.train=p/train", "optim.lr=5.0e-3", "train.zero_init_output=false", "seed=0", "train.steps=10"
            ])
        #expect(runs[0].task == "phone" && runs[0].point.index == 0)
        let last = try #require(runs.last)
        #expect(last.dir == "o/hdr_warp/c/optim.lr=0.02,train.zero_init_output=false/seed-1")
        #expect(
            last.overrides == [
                "data.train=h/train", "residual.clamp=4", "optim.lr=0.02", "train.zero_init_output=false", "seed=1",
                "train.steps=10"
            ])
        #expect(Set(runs.map(\.dir)).count == runs.count)
    }

    static let bad: [(String, String)] = [
        (
            "name: t\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}",
            "config error: variants.0.config: no config for this variant and no `base` in the ablation file"
        ),
        ("name: t\nbase: b\nseeds: [0, 0]\nsteps: 10\nvariants:\n  - {name: a}", "config error: seeds: seeds repeat"),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: a}",
            "config error: variants.1.name: variant 'a' appears twice"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a/b}",
            "config error: variants.0.name: use letters, digits, '_' and '-' only (it names a directory)"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nstep: 10\nvariants:\n  - {name: a}",
            "config error: steps: missing required key"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\naxes:\n  optim.lr: []",
            "config error: axes.optim.lr: list at least one value"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\naxes:\n  optim.lr: [0.1, 0.1]",
            "config error: axes.optim.lr: values repeat"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\ntasks:\n  - {name: x}\n  - {name: x}",
            "config error: tasks.1.name: task 'x' appears twice"
        ),
        // Claims name the file's variants: a renamed variant is an error naming the claim's key.
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a2, baseline: b, measure: val_log_l1, effect: reduction, range: [0, 1]}",
            "config error: claims.0.treated: no variant 'a2' in this file (variants: a, b)"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: a, measure: val_log_l1, effect: reduction, range: [0, 1]}",
            "config error: claims.0.baseline: is the treated variant itself"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: psnr, effect: reduction, range: [0, 1]}",
            "config error: claims.0.measure: unknown measure 'psnr' (known: incidents_per_1000, "
                + "overflow_pixels_per_1000, val_log_l1, val_loss, val_psnr_mu, val_psnr_mu_gain, val_pu21_psnr)"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: val_loss, effect: ratio, range: [0, 1]}",
            "config error: claims.0.effect: unknown effect 'ratio' (known: reduction, difference)"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: val_loss, effect: reduction}",
            "config error: claims.0.range: give exactly one of `range: [low, high]` and `direction: positive`"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: val_loss, effect: reduction, range: [1, 0]}",
            "config error: claims.0.range: give [low, high] with low <= high"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: val_loss, effect: reduction, direction: up}",
            "config error: claims.0.direction: unknown direction 'up' (known: positive)"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: val_loss, effect: difference, range: [0, 1]}\n"
                + "  - {name: c, treated: b, baseline: a, measure: val_loss, effect: difference, range: [0, 1]}",
            "config error: claims.1.name: claim 'c' appears twice"
        ),
        (
            "name: t\nbase: b\nseeds: [0]\nsteps: 10\nvariants:\n  - {name: a}\n  - {name: b}\nclaims:\n  - {name: c, treated: a, baseline: b, measure: val_loss, effect: reduction, range: [0, 1], k: 1}",
            "config error: claims.0.k: unknown key; known keys: baseline, direction, effect, measure, name, range, statement, treated"
        )
    ]

    @Test(arguments: bad)
    func badAblationFiles(_ yaml: String, _ message: String) throws {
        do {
            _ = try AblationPlan(config: StrictYAML.parse(yaml))
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)" == message)
        }
    }
}
