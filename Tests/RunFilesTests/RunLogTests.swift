// The run log's writers: one sorted-key JSON object per line flushed on every append, incidents.csv quoting, fresh
// runs refusing a used directory, and resume trimming (steps after the resume step and partial last lines removed).
import Foundation
import TestSupport
import Testing

@testable import RunFiles

/// Small records for the run-log tests.
enum RunLogSamples {
    static func train(_ step: Int, loss: Double = 0.5) -> MetricsRecord {
        MetricsRecord(
            kind: "train", step: step, epoch: 0, wallSeconds: Double(step) / 10, lr: 1e-3, loss: loss,
            terms: ["l1": loss, "huber": loss / 2], stepsPerSecond: 10, dataWaitFraction: 0.125)
    }

    static func val(_ step: Int) -> MetricsRecord {
        let m = EvalMetrics(
            psnrMu: 30.5, pu21Psnr: 28.25, logL1: 0.125, terms: ["l1": 0.25], loss: 0.25,
            overflowPixels: 2, overflowIncidents: 1, patches: 16)
        return MetricsRecord(kind: "val", step: step, epoch: 1, wallSeconds: 9, model: m, identity: m)
    }

    static func monitor(_ step: Int, gradNorm: Double = 1.5) -> MonitorRecord {
        MonitorRecord(
            step: step, patches: 8, overflowPixels: 3, overflowIncidents: 1, clampHitRate: 0.01,
            saturationRate: 0.02, deltaMin: -7.5, deltaMax: 8, deltaPercentiles: ["p1": -6, "p50": 0.25, "p99": 6],
            denomMean: 6, denomStd: 2, denomCV: 1.0 / 3, denomMin: 2, denomMax: 16, learnableScale: nil,
            gradNorm: gradNorm, collapse: 0.3, skipped: false)
    }

    static func incident(_ step: Int, file: String = "a.exr", detail: String = "65536") -> Incident {
        Incident(step: step, kind: .overflow, file: file, x: 16, y: 32, value: 3, detail: detail)
    }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func appendRaw(_ path: String, _ text: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
        try h.close()
    }
}

@Suite struct RunLogTests {
    typealias S = RunLogSamples

    @Test func eachAppendIsOneSortedKeyLineOnDiskBeforeClose() throws {
        let dir = ScratchDir()
        let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, wallTime: 100, hostname: "h")
        try log.append(S.train(1))
        // Read while the log is still open: the line must already be in the file (no user-space buffering).
        let text = try S.text(dir.file("metrics.jsonl"))
        #expect(
            text == #"{"data_wait_fraction":0.125,"epoch":0,"kind":"train","loss":0.5,"lr":0.001,"#
                + #""step":1,"steps_per_second":10,"terms":{"huber":0.25,"l1":0.5},"wall_seconds":0.1}"# + "\n")
        try log.append(S.monitor(1))
        let monitorLine = try S.text(dir.file("monitor.jsonl"))
        #expect(
            monitorLine.hasPrefix(
                #"{"clamp_hit_rate":0.01,"collapse":0.3,"delta_max":8,"delta_min":-7.5,"#
                    + #""delta_percentiles":{"p1":-6,"p50":0.25,"p99":6},"#))
        #expect(monitorLine.hasSuffix("\n") && !monitorLine.contains("learnable_scale"))
        #expect(try S.text(dir.file("incidents.csv")) == Incident.csvHeader + "\n")
        #expect(FileManager.default.fileExists(atPath: dir.file("events.out.tfevents.100.h")))
        #expect(log.eventFilePath == dir.file("events.out.tfevents.100.h"))
    }

    @Test func nonFiniteValuesAreWrittenAsStringsAndReadBack() throws {
        let dir = ScratchDir()
        let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, hostname: "h")
        var m = S.monitor(4, gradNorm: .nan)
        m.deltaMax = .infinity
        m.deltaMin = -.infinity
        try log.append(m)
        let line = try S.text(dir.file("monitor.jsonl"))
        #expect(line.contains(#""grad_norm":"NaN""#) && line.contains(#""delta_max":"Infinity""#))
        #expect(line.contains(#""delta_min":"-Infinity""#))
        let back = try RunLogReader.monitor(path: dir.file("monitor.jsonl"))
        #expect(
            back.count == 1 && back[0].gradNorm.isNaN && back[0].deltaMax == .infinity && back[0].deltaMin == -.infinity
        )
    }

    @Test func incidentsQuoteCommasQuotesAndNewlines() throws {
        let dir = ScratchDir()
        let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, hostname: "h")
        try log.append(S.incident(1))
        try log.append(
            Incident(
                step: 2, kind: .nonfiniteLoss, file: "dir,1/b \"x\".exr", x: 0, y: 0, value: .nan,
                detail: "huber, l1\nline2"))
        try log.append(
            Incident(step: 3, kind: .nonfiniteGradient, file: "c.exr", x: -1, y: 5, value: 1e20, detail: "conv1.weight")
        )
        let expected =
            Incident.csvHeader + "\n"
            + "1,overflow,a.exr,16,32,3.0,65536\n"
            + "2,nonfinite_loss,\"dir,1/b \"\"x\"\".exr\",0,0,nan,\"huber, l1\nline2\"\n"
            + "3,nonfinite_grad,c.exr,-1,5,1e+20,conv1.weight\n"
        #expect(try S.text(dir.file("incidents.csv")) == expected)
        let back = try RunLogReader.incidents(path: dir.file("incidents.csv"))
        #expect(back.count == 3)
        #expect(back[0] == S.incident(1))
        #expect(back[1].file == "dir,1/b \"x\".exr" && back[1].detail == "huber, l1\nline2" && back[1].value.isNaN)
        #expect(
            back[2]
                == Incident(
                    step: 3, kind: .nonfiniteGradient, file: "c.exr", x: -1, y: 5, value: 1e20, detail: "conv1.weight"))
    }

    @Test func aNewRunRefusesADirectoryWithLogs() throws {
        let dir = ScratchDir()
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: dir.file("metrics.jsonl")))
        #expect(throws: RunLogError.self) { try RunLog.open(dir: dir.path, resumeFromStep: nil) }
        let other = ScratchDir()
        try Data().write(to: URL(fileURLWithPath: other.file("events.out.tfevents.1.h")))
        do {
            _ = try RunLog.open(dir: other.path, resumeFromStep: nil)
            Issue.record("opened a used directory")
        } catch let e as RunLogError {
            #expect(e.path == other.path && e.reason.contains("events.out.tfevents.1.h"))
        }
    }

    @Test func resumeKeepsStepsUpToTheResumeStepAndDropsPartialLines() throws {
        let dir = ScratchDir()
        do {
            let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, wallTime: 100, hostname: "h")
            for step in 1...6 {
                try log.append(S.train(step))
                try log.append(S.monitor(step))
                if step % 2 == 0 { try log.append(S.incident(step, file: "f\(step),x.exr")) }
                try log.writeScalars(step: step, values: ["loss": Double(step)], wallTime: 100 + Double(step))
            }
            try log.append(S.val(4))  // a val line after later train lines: filtering, not cutting at the first step > s
            log.close()
        }
        // A kill mid-write: the last line of each file cut short.
        try S.appendRaw(dir.file("metrics.jsonl"), #"{"data_wait_fraction":0.1,"ep"#)
        try S.appendRaw(dir.file("monitor.jsonl"), #"{"clamp"#)
        try S.appendRaw(dir.file("incidents.csv"), "7,overflow,\"g,")
        var tb = try Data(contentsOf: URL(fileURLWithPath: dir.file("events.out.tfevents.100.h")))
        tb += TFRecord.frame(TensorBoardEvent.scalarsEvent(step: 7, values: ["loss": 7], wallTime: 107)).prefix(20)
        try tb.write(to: URL(fileURLWithPath: dir.file("events.out.tfevents.100.h")))

        let before = try RunLogReader.read(dir: dir.path)
        #expect(before.skippedPartialLastLine.count == 3)
        #expect(before.metrics.count == 7 && before.incidents.count == 3)

        let log = try RunLog.open(dir: dir.path, resumeFromStep: 4, wallTime: 100, hostname: "h")
        #expect(log.eventFilePath == dir.file("events.out.tfevents.100.h.1"))
        for step in 5...6 {
            try log.append(S.train(step, loss: 0.25))
            try log.append(S.monitor(step))
            try log.writeScalars(step: step, values: ["loss": 0.25], wallTime: 200)
        }
        try log.append(S.incident(6, file: "resumed.exr"))
        log.close()

        let after = try RunLogReader.read(dir: dir.path)
        #expect(after.skippedPartialLastLine.isEmpty)
        #expect(after.metrics.map(\.step) == [1, 2, 3, 4, 4, 5, 6])
        #expect(after.metrics.map(\.kind) == ["train", "train", "train", "train", "val", "train", "train"])
        #expect(after.metrics.suffix(2).allSatisfy { $0.loss == 0.25 })
        #expect(after.monitor.map(\.step) == [1, 2, 3, 4, 5, 6])
        #expect(after.incidents.map(\.step) == [2, 4, 6])
        #expect(after.incidents.map(\.file) == ["f2,x.exr", "f4,x.exr", "resumed.exr"])

        let old = try TestEventFile.parse(
            try Data(contentsOf: URL(fileURLWithPath: dir.file("events.out.tfevents.100.h"))))
        #expect(old.map(\.step) == [0, 1, 2, 3, 4] && old[0].fileVersion == "brain.Event:2")
        let new = try TestEventFile.parse(try Data(contentsOf: URL(fileURLWithPath: log.eventFilePath)))
        #expect(new.map(\.step) == [0, 5, 6] && new[0].fileVersion == "brain.Event:2")
        #expect(new[1].values.map(\.value) == [0.25])
    }

    @Test func resumeLeavesFilesWithNothingToDropByteIdentical() throws {
        let dir = ScratchDir()
        do {
            let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, wallTime: 1, hostname: "h")
            try log.append(S.train(1))
            try log.append(S.incident(1, detail: "a \"b\""))
            try log.writeScalars(step: 1, values: ["x": 1], wallTime: 2)
        }
        let names = ["metrics.jsonl", "incidents.csv", "events.out.tfevents.1.h"]
        let before = try names.map { try Data(contentsOf: URL(fileURLWithPath: dir.file($0))) }
        _ = try RunLog.open(dir: dir.path, resumeFromStep: 1, wallTime: 1, hostname: "h")
        let after = try names.map { try Data(contentsOf: URL(fileURLWithPath: dir.file($0))) }
        #expect(before == after)
    }

    @Test func resumeIntoAnEmptyOrHeaderlessDirectoryCreatesTheFiles() throws {
        let dir = ScratchDir()
        try Data("step,ki".utf8).write(to: URL(fileURLWithPath: dir.file("incidents.csv")))  // killed mid-header
        let log = try RunLog.open(dir: dir.path, resumeFromStep: 10, hostname: "h")
        try log.append(S.incident(11))
        #expect(try RunLogReader.incidents(path: dir.file("incidents.csv")) == [S.incident(11)])
        #expect(try RunLogReader.metrics(path: dir.file("metrics.jsonl")).isEmpty)
    }

    @Test func badArgumentsThrowInsteadOfTrapping() throws {
        let dir = ScratchDir()
        #expect(throws: RunLogError(path: dir.path, reason: "resume step -1 is negative")) {
            try RunLog.open(dir: dir.path, resumeFromStep: -1)
        }
        #expect(throws: RunLogError.self) { try RunLog.open(dir: dir.path, resumeFromStep: nil, wallTime: .nan) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)  // refused before touching it
        #expect(throws: RunLogError.self) { try TensorBoardWriter(dir: dir.path, wallTime: 1e300) }
        let closed = try RunLog.open(dir: dir.file("closed"), resumeFromStep: nil)
        closed.close()
        #expect(throws: RunLogError.self) { try closed.append(S.train(1)) }
    }

    @Test func resumeRefusesACorruptMiddleLineNamingIt() throws {
        let dir = ScratchDir()
        do {
            let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, hostname: "h")
            try log.append(S.monitor(1))
        }
        try S.appendRaw(dir.file("monitor.jsonl"), "{not json}\n")
        try S.appendRaw(
            dir.file("monitor.jsonl"),
            String(decoding: try JSONLines.encoder().encode(S.monitor(3)), as: UTF8.self) + "\n")
        do {
            _ = try RunLog.open(dir: dir.path, resumeFromStep: 2, hostname: "h")
            Issue.record("resumed over a corrupt line")
        } catch let e as RunLogError {
            #expect(e.path == dir.file("monitor.jsonl") && e.line == 2)
        }
    }
}
