// Reading a run directory back: a partial last line is skipped and reported, every other defect is an error that
// names the file and line.
import Foundation
import TestSupport
import Testing

@testable import RunFiles

@Suite struct RunLogReaderTests {
    typealias S = RunLogSamples

    func filledDir() throws -> ScratchDir {
        let dir = ScratchDir()
        let log = try RunLog.open(dir: dir.path, resumeFromStep: nil, hostname: "h")
        try log.append(S.train(1))
        try log.append(S.val(2))
        try log.append(S.monitor(1))
        try log.append(S.incident(1))
        return dir
    }

    func error(_ body: () throws -> Void) -> RunLogError? {
        do { try body() } catch let e as RunLogError { return e } catch { Issue.record("\(error)") }
        return nil
    }

    @Test func roundTripsEveryRecordType() throws {
        let dir = try filledDir()
        let c = try RunLogReader.read(dir: dir.path)
        #expect(c.metrics == [S.train(1), S.val(2)])
        #expect(c.monitor == [S.monitor(1)])
        #expect(c.incidents == [S.incident(1)])
        #expect(c.skippedPartialLastLine.isEmpty)
    }

    @Test func aPartialLastLineIsSkippedAndReported() throws {
        let dir = try filledDir()
        try S.appendRaw(dir.file("metrics.jsonl"), #"{"kind":"train","st"#)
        let c = try RunLogReader.read(dir: dir.path)
        #expect(c.metrics.map(\.step) == [1, 2])
        #expect(c.skippedPartialLastLine == [dir.file("metrics.jsonl")])
    }

    @Test func aCorruptMiddleLineNamesFileAndLine() throws {
        let dir = try filledDir()
        let path = dir.file("metrics.jsonl")
        var lines = try S.text(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert(#"{"kind":"train","step":"three"}"#, at: 1)
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        let e = error { _ = try RunLogReader.read(dir: dir.path) }
        #expect(e?.path == path && e?.line == 2)
        #expect(e?.description.hasPrefix("\(path):2: not a valid MetricsRecord") == true)
    }

    @Test func aBlankLineIsAnError() throws {
        let dir = try filledDir()
        try S.appendRaw(dir.file("monitor.jsonl"), "\n")
        let e = error { _ = try RunLogReader.monitor(path: dir.file("monitor.jsonl")) }
        #expect(e == RunLogError(path: dir.file("monitor.jsonl"), line: 2, reason: "empty line"))
    }

    @Test func incidentDefectsNameTheRowsLine() throws {
        let path = ScratchDir()
        let cases: [(String, Int, String)] = [
            ("step,kind\n", 1, "header is not"),
            (Incident.csvHeader + "\n1,overflow,\"a\nb\",1,2,3,x\n2,melted,a,1,2,3,x\n", 4, "unknown kind \"melted\""),
            (Incident.csvHeader + "\n1,overflow,a,1,2,3\n", 2, "6 fields, expected 7"),
            (Incident.csvHeader + "\n1,overflow,a,one,2,3,x\n", 2, "x \"one\" is not an integer"),
            (Incident.csvHeader + "\n1,overflow,a,1,2,lots,x\n", 2, "value \"lots\" is not a number"),
            (Incident.csvHeader + "\n1,overflow,\"a\"b,1,2,3,x\n", 2, "text after a closing quote"),
            (Incident.csvHeader + "\n1,overflow,a\"b,1,2,3,x\n", 2, "a quote inside an unquoted field")
        ]
        for (i, (text, line, reason)) in cases.enumerated() {
            let file = path.file("incidents\(i).csv")
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let e = error { _ = try RunLogReader.incidents(path: file) }
            #expect(e?.path == file && e?.line == line, "case \(i)")
            #expect(e?.reason.contains(reason) == true, "case \(i): \(e?.reason ?? "no error")")
        }
    }

    @Test func crlfRowsAndAnUnterminatedQuoteAtTheEndAreRead() throws {
        let dir = ScratchDir()
        let file = dir.file("incidents.csv")
        try Data((Incident.csvHeader + "\r\n1,overflow,a.exr,16,32,3,65536\r\n2,overflow,\"cut sh").utf8)
            .write(to: URL(fileURLWithPath: file))
        #expect(
            try RunLogReader.incidents(path: file) == [
                Incident(step: 1, kind: .overflow, file: "a.exr", x: 16, y: 32, value: 3, detail: "65536")
            ])
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        let dir = ScratchDir()
        let e = error { _ = try RunLogReader.read(dir: dir.path) }
        #expect(e?.path == dir.file("metrics.jsonl") && e?.line == nil)
    }

    @Test func theConfigIsReadVerbatimWhenPresent() throws {
        let dir = try filledDir()
        #expect(try RunLogReader.read(dir: dir.path).configText == nil)
        try Data("name: x\nseed: 7\n".utf8).write(to: URL(fileURLWithPath: dir.file("config.yaml")))
        let c = try RunLogReader.read(dir: dir.path)
        #expect(c.configText == "name: x\nseed: 7\n" && c.directory == dir.path)
        try Data([0x6E, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir.file("config.yaml")))
        let e = error { _ = try RunLogReader.read(dir: dir.path) }
        #expect(e == RunLogError(path: dir.file("config.yaml"), reason: "not UTF-8 text"))
    }

    @Test func aMissingOrNonDirectoryRunIsAnError() throws {
        let dir = ScratchDir()
        let missing = dir.file("nope")
        #expect(
            error { _ = try RunLogReader.read(dir: missing) }
                == RunLogError(path: missing, reason: "no such run directory"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: missing))
        #expect(
            error { _ = try RunLogReader.read(dir: missing) } == RunLogError(path: missing, reason: "not a directory"))
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let dir = try filledDir()
        let path = dir.file("monitor.jsonl")
        #expect(unlink(path) == 0 && mkfifo(path, 0o644) == 0)
        #expect(
            error { _ = try RunLogReader.read(dir: dir.path) } == RunLogError(path: path, reason: "not a regular file"))
    }

    @Test func quotedCommasQuotesAndNewlinesInIncidentsRoundTrip() throws {
        let dir = ScratchDir()
        let file = dir.file("incidents.csv")
        let text =
            Incident.csvHeader + "\n"
            + "5,overflow,\"a, \"\"quoted\"\".exr\",1,2,3,\"max 1e6\nsecond line\"\n"
            + "6,nonfinite_loss,b.exr,0,0,nan,log_l1\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let rows = try RunLogReader.incidents(path: file)
        #expect(rows.count == 2)
        #expect(rows[0].file == "a, \"quoted\".exr" && rows[0].detail == "max 1e6\nsecond line")
        #expect(rows[1].kind == .nonfiniteLoss && rows[1].value.isNaN)
        // The writer's quoting is what the reader undoes.
        let written = String(decoding: IncidentsCSV.line(rows[0]), as: UTF8.self)
        #expect(written == "5,overflow,\"a, \"\"quoted\"\".exr\",1,2,3.0,\"max 1e6\nsecond line\"\n")
    }
}
