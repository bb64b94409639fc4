// `hdrpatch report`: the paths and first verdict sentence it prints, and its exit status for bad run directories.
import Foundation
import TestSupport
import Testing

struct ReportCLITests {
    /// Two monitor lines written by hand, as a run's first steps would be: one overflow incident at step 1 (its row
    /// not yet in incidents.csv, which holds its header, and no metrics yet).
    static func writeRun(_ dir: String) throws {
        func line(_ step: Int, _ incidents: Int) -> String {
            "{\"step\":\(step),\"patches\":4,\"overflow_pixels\":\(3 * incidents),\"overflow_incidents\":\(incidents),"
                + "\"clamp_hit_rate\":0,\"saturation_rate\":0.01,\"delta_min\":-1,\"delta_max\":1,"
                + "\"delta_percentiles\":{\"p1\":-0.9,\"p50\":0,\"p99\":0.9},\"denom_mean\":8,\"denom_std\":2,"
                + "\"denom_cv\":0.25,\"denom_min\":5,\"denom_max\":11,\"grad_norm\":1.5,\"collapse\":0.2,\"skipped\":false}\n"
        }
        try (line(1, 1) + line(2, 0)).write(toFile: dir + "/monitor.jsonl", atomically: false, encoding: .utf8)
        try "".write(toFile: dir + "/metrics.jsonl", atomically: false, encoding: .utf8)
        try "step,kind,file,x,y,value,detail\n".write(
            toFile: dir + "/incidents.csv", atomically: false, encoding: .utf8)
    }

    @Test func reportPrintsBothPathsAndTheVerdictsFirstSentence() throws {
        let dir = ScratchDir()
        try Self.writeRun(dir.path)
        let r = try CLI.run(["report", dir.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(
            r.stdout == "\(dir.path)/report.html\n\(dir.path)/report.md\n"
                + "1 overflow incident (3 overflow pixels) in 2 steps, 100% of them in the first step.\n")
        #expect(FileManager.default.fileExists(atPath: dir.file("report.html")))
        let md = try String(contentsOfFile: dir.file("report.md"), encoding: .utf8)
        #expect(md.contains("No validation yet."))
    }

    @Test func listedInHelpWithItsOwnHelp() throws {
        let top = try CLI.run(["--help"])
        #expect(top.status == 0 && top.stdout.contains("report"))
        let own = try CLI.run(["report", "--help"])
        #expect(own.status == 0 && own.stdout.contains("report.html") && own.stdout.contains("<run-dir>"))
    }

    @Test func missingDirectoryIsOneErrorLineAndExitOne() throws {
        let dir = ScratchDir()
        let missing = dir.file("no-such-run")
        let r = try CLI.run(["report", missing])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "error: \(missing): no such run directory\n")
    }

    @Test func emptyDirectoryIsOneErrorLineAndExitOne() throws {
        let dir = ScratchDir()
        let r = try CLI.run(["report", dir.path])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(dir.path)/metrics.jsonl: No such file or directory\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("report.html")))
    }

    @Test func corruptRecordNamesFileAndLine() throws {
        let dir = ScratchDir()
        try Self.writeRun(dir.path)
        try "{\"step\": 1}\n{}\n".write(toFile: dir.file("metrics.jsonl"), atomically: false, encoding: .utf8)
        let r = try CLI.run(["report", dir.path])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: \(dir.path)/metrics.jsonl:1: not a valid MetricsRecord: "))
        #expect(r.stderr.contains("kind") && r.stderr.split(separator: "\n").count == 1)
    }
}
