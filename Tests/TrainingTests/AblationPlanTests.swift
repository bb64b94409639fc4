// Ablation files: strict reading, and the runs (directories, configs, overrides) they expand to.
import Config
import Foundation
import Testing

@testable import Training

struct AblationPlanTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theShippedFileExpandsToSevenVariantsTimesThreeSeeds() throws {
        let plan = try AblationPlan.load(path: Self.repo + "/configs/ablation.yaml")
        #expect(
            plan.variants.map(\.name) == [
                "legacy_mode_a", "phase1", "mode_b", "learnable", "phase3_histogram",
                "phase3_moment", "phase3_sparsity"
            ])
        let runs = plan.runs(out: "out", quick: false)
        #expect(runs.count == 21)
        #expect(
            runs[0]
                == AblationPlan.Run(
                    variant: "legacy_mode_a", seed: 0, dir: "out/legacy_mode_a/seed-0",
                    config: "configs/legacy_mode_a.yaml", overrides: ["seed=0", "train.steps=1500"]))
        for v in plan.variants {
            #expect(FileManager.default.fileExists(atPath: Self.repo + "/" + v.config), "\(v.config)")
        }
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
