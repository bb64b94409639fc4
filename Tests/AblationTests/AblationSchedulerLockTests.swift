// A run another process is training is skipped, with a line naming the holder, and nothing of it is touched.
import Config
import Foundation
import RunFiles
import TestSupport
import Testing

@testable import Ablation

struct AblationSchedulerLockTests {
    @Test func aHeldRunIsSkippedAndLeftAlone() throws {
        let dir = ScratchDir()
        let plan = try AblationPlan(
            config: StrictYAML.parse(
                """
                name: t
                base: b.yaml
                seeds: [0]
                steps: 100
                variants:
                  - {name: a}
                """))
        // The executable does not exist: a run that is not skipped fails with "could not start".
        let scheduler = AblationScheduler(
            plan: plan, out: dir.path, quick: false, seedCount: nil, jobs: 1, executable: dir.file("no-hdrpatch"))
        let run = try #require(scheduler.runs.first)
        try FileManager.default.createDirectory(atPath: run.dir, withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: run.dir + "/train.log"))
        let lock = try RunLock(dir: run.dir)
        let holder = try #require(RunLock.holder(of: run.dir))
        var events: [String] = []
        let statuses = scheduler.run { event in
            if case .failed(_, _, let why, _, _) = event { events.append(why) }
        }
        #expect(statuses.map(\.status) == [.failed("skipped: \(run.dir) is being trained by \(holder)")])
        #expect(events == ["skipped: \(run.dir) is being trained by \(holder)"])
        #expect(try String(contentsOfFile: run.dir + "/train.log", encoding: .utf8) == "partial", "untouched")
        #expect(
            scheduler.runOne(0, threads: 1) { _ in } == .failed("skipped: \(run.dir) is being trained by \(holder)"))
        withExtendedLifetime(lock) {}
        // Free again: the scheduler goes ahead (and fails to start the missing binary).
        let after = AblationScheduler(
            plan: plan, out: dir.path, quick: false, seedCount: nil, jobs: 1, executable: dir.file("no-hdrpatch"))
        _ = consume lock
        if case .failed(let why) = after.run({ _ in }).first?.status {
            #expect(why.hasPrefix("could not start"), "\(why)")
        } else {
            Issue.record("expected the run to be attempted")
        }
    }
}
