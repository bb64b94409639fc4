// Reading run records: a live run's unfinished last line is skipped, corruption elsewhere names file and line.
import Foundation
import Reports
import TestSupport
import Testing
import Training

struct RunFilesTests {
    @Test func readsEveryRecordOfASyntheticRun() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path)
        let run = try RunFiles.load(dir.path)
        let expected = SyntheticRun.records()
        #expect(run.metrics == expected.metrics)
        #expect(run.monitor.count == 300)
        #expect(run.monitor[49].gradNorm.isNaN && run.monitor[49].skipped)
        #expect(run.incidents.count == 124)
        #expect(run.incidents.contains { $0.file == SyntheticRun.lake })
        #expect(run.configText == "name: synth-run\nseed: 7\n")
        #expect(run.skippedTails.isEmpty)
    }

    @Test func truncatedLastLineIsSkipped() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path)
        let h = try #require(FileHandle(forWritingAtPath: dir.file("monitor.jsonl")))
        h.seekToEndOfFile()
        h.write(Data("{\"step\": 301, \"patc".utf8))
        h.closeFile()
        let run = try RunFiles.load(dir.path)
        #expect(run.monitor.count == 300)
        #expect(run.skippedTails == ["monitor.jsonl line 301"])
    }

    @Test func corruptMiddleLineIsAnErrorNamingFileAndLine() throws {
        let dir = ScratchDir()
        try SyntheticRun.write(into: dir.path)
        let path = dir.file("metrics.jsonl")
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = "{\"kind\": \"train\", garbage"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: ReportError(path: path + ":3", reason: "not a valid record: not JSON")) {
            try RunFiles.load(dir.path)
        }
    }

    @Test func csvQuotingCommasQuotesAndNewlines() throws {
        let dir = ScratchDir()
        let text =
            Incident.csvHeader + "\n"
            + "5,overflow,\"a, \"\"quoted\"\".exr\",1,2,3,\"max 1e6\nsecond line\"\n"
            + "6,nonfinite_loss,b.exr,0,0,nan,log_l1\n"
            + "7,overflow,c.exr,0,0,4,unfinished \"row"
        try text.write(toFile: dir.file("incidents.csv"), atomically: false, encoding: .utf8)
        let run = try RunFiles.load(dir.path)
        #expect(run.incidents.count == 3)
        #expect(run.incidents[0].file == "a, \"quoted\".exr")
        #expect(run.incidents[0].detail == "max 1e6\nsecond line")
        #expect(run.incidents[1].kind == .nonfiniteLoss && run.incidents[1].value.isNaN)
        // The last row lacks its newline but is complete: it is kept.
        #expect(run.incidents[2].detail == "unfinished \"row")
    }

    @Test func badCSVRowNamesItsLine() throws {
        let dir = ScratchDir()
        let text =
            Incident.csvHeader + "\n5,overflow,a.exr,1,2,3,x\n6,meltdown,a.exr,1,2,3,x\n7,overflow,a.exr,1,2,3,x\n"
        try text.write(toFile: dir.file("incidents.csv"), atomically: false, encoding: .utf8)
        #expect(
            throws: ReportError(
                path: dir.file("incidents.csv") + ":3",
                reason: "unknown kind meltdown (known: overflow, nonfinite_loss, nonfinite_grad)")
        ) {
            try RunFiles.load(dir.path)
        }
    }

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let dir = ScratchDir()
        #expect(mkfifo(dir.file("monitor.jsonl"), 0o644) == 0)
        #expect(throws: ReportError(path: dir.file("monitor.jsonl"), reason: "not a regular file")) {
            try RunFiles.load(dir.path)
        }
    }

    @Test func missingOrEmptyDirectoryIsAnError() throws {
        let dir = ScratchDir()
        #expect(throws: ReportError(path: dir.file("nope"), reason: "no such run directory")) {
            try RunFiles.load(dir.file("nope"))
        }
        #expect(
            throws: ReportError(
                path: dir.path, reason: "no run records (metrics.jsonl, monitor.jsonl or incidents.csv)")
        ) {
            try RunFiles.load(dir.path)
        }
    }
}
