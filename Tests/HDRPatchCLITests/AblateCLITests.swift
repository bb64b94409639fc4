// `hdrpatch ablate`: runs every variant and seed as ordinary runs, skips finished ones, survives a failing one.
import Foundation
import Testing
import TestSupport

struct AblateCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func files(_ dir: ScratchDir) throws -> String {
        let base = """
            name: tiny
            seed: 0
            data: {train: \(repo)/data/sample/train, val: \(repo)/data/sample/val, patch_size: 32, batch_size: 4, workers: 1}
            model: {arch: plain, depth: 2, width: 4}
            residual: {mode: learnable, clamp: 8}
            loss:
              - {type: huber, weight: 2.0}
            optim: {type: adamw, lr: 3.0e-3}
            train: {steps: 8, log_every: 2, val_every: 4, checkpoint_every: 4, grad_clip: 1.0}
            """
        try base.write(toFile: dir.file("base.yaml"), atomically: true, encoding: .utf8)
        let ablation = """
            name: t
            base: \(dir.file("base.yaml"))
            seeds: [0, 1]
            steps: 8
            variants:
              - {name: legacy_mode_a, set: ["residual={mode: fixed_cap, cap: 16, alpha: 1.2, clamp: null}"]}
              - {name: phase1, set: ["residual={mode: fixed_cap, cap: 6, clamp: 8}"]}
              - {name: broken, set: ["data.train=\(dir.file("nowhere"))"]}
            """
        try ablation.write(toFile: dir.file("ablation.yaml"), atomically: true, encoding: .utf8)
        return dir.file("ablation.yaml")
    }

    @Test func runsCompareSkipsFinishedAndReportsFailures() throws {
        let dir = ScratchDir()
        let file = try Self.files(dir)
        let out = dir.file("out")
        let r = try CLI.run(["ablate", "--config", file, "--jobs", "2", "--out", out], timeout: 300)
        #expect(r.status == 2, "a failed variant makes the exit status 2: \(r.stderr)")
        for v in ["legacy_mode_a", "phase1"] {
            for s in [0, 1] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(v)/seed-\(s)/report.html"), "\(v) seed \(s)")
            }
        }
        #expect(r.stdout.contains("broken seed 0: failed"))
        #expect(r.stdout.contains("error: config error: data.train: "))
        for f in ["comparison.md", "comparison.html", "comparison.csv"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f)")
        }
        // Again: the four finished runs are skipped, only the broken ones run (and fail) again.
        let again = try CLI.run(["ablate", "--config", file, "--jobs", "2", "--out", out], timeout: 300)
        #expect(again.stdout.contains("4 run(s) already finished: skipped"))
    }
}
