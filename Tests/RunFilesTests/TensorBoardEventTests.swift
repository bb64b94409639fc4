// TensorBoard event files: CRC32C vectors, the exact bytes of one scalar event, and an independent walk of a
// written file's TFRecord framing and Event protos.
import Foundation
import TestSupport
import Testing

@testable import RunFiles

@Suite struct TensorBoardEventTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)  // RFC 3720 B.4
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func maskedCRCIsRotateThenOffset() {
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
        // 0x00008000 rotated right by 15 is 1.
        #expect(CRC32C.masked(0x0000_8000) == 0xA282_EAD9)
        // Wraps mod 2^32: rotr15(0xE3069283) = 0x2507C60D; + 0xA282EAD8 = 0xC78AB0E5.
        #expect(CRC32C.masked(0xE306_9283) == 0xC78A_B0E5)
    }

    /// Expected bytes written out by hand from event.proto / summary.proto; the two CRCs were computed by an
    /// independent bitwise CRC32C in Python and the record read back by tensorboard's EventFileLoader.
    @Test func exactBytesOfOneScalarEvent() {
        let event: [UInt8] = [
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,  // field 1 fixed64: wall_time 1.5
            0x10, 0x03,  // field 2 varint: step 3
            0x2A, 0x0D,  // field 5 length 13: summary
            0x0A, 0x0B,  //   Summary field 1 length 11: value
            0x0A, 0x04, 0x6C, 0x6F, 0x73, 0x73,  //     Value field 1: tag "loss"
            0x15, 0x00, 0x00, 0x80, 0x3E  //     Value field 2 fixed32: simple_value 0.25
        ]
        #expect(TensorBoardEvent.scalarsEvent(step: 3, values: ["loss": 0.25], wallTime: 1.5) == event)
        let record: [UInt8] = [0x1A, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x9B, 0xD8, 0x2D] + event + [0xD0, 0x54, 0xB2, 0x55]
        #expect(TFRecord.frame(event) == record)
    }

    @Test func fileVersionEventBytes() {
        var expected: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x1A, 13]  // wall_time 1.0, file_version (13 bytes)
        expected += Array("brain.Event:2".utf8)
        #expect(TensorBoardEvent.fileVersionEvent(wallTime: 1.0) == expected)
    }

    @Test func negativeAndLargeStepsUseFullVarints() {
        var w = ProtoWriter()
        w.int64(2, -1)
        #expect(w.bytes == [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        var v = ProtoWriter()
        v.int64(2, 300)
        #expect(v.bytes == [0x10, 0xAC, 0x02])
        #expect(TensorBoardEvent.step(of: ArraySlice(v.bytes)) == 300)
        #expect(TensorBoardEvent.step(of: ArraySlice(w.bytes)) == -1)
    }

    @Test func writtenFileWalksCleanlyAndDecodesBack() throws {
        let dir = ScratchDir()
        let writer = try TensorBoardWriter(dir: dir.path, wallTime: 1_700_000_000.25, hostname: "testhost")
        #expect(writer.path == dir.file("events.out.tfevents.1700000000.testhost"))
        try writer.writeScalars(step: 1, values: ["train/loss": 0.5, "train/lr": 1e-3], wallTime: 1_700_000_001)
        try writer.writeScalars(step: 2, values: ["train/loss": 0.375, "monitor/overflow": 7], wallTime: 1_700_000_002)
        try writer.writeScalars(step: 200, values: ["val/psnr_mu": 31.25], wallTime: 1_700_000_003)
        writer.close()

        let events = try TestEventFile.parse(try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        #expect(events.count == 4)
        #expect(events[0].fileVersion == "brain.Event:2")
        #expect(events[0].wallTime == 1_700_000_000.25)
        #expect(events[0].values.isEmpty)
        #expect(events.dropFirst().map(\.step) == [1, 2, 200])
        #expect(events.dropFirst().map(\.wallTime) == [1_700_000_001, 1_700_000_002, 1_700_000_003])
        #expect(events[1].values.map(\.tag) == ["train/loss", "train/lr"])
        #expect(events[1].values.map(\.value) == [0.5, Float(1e-3)])
        #expect(events[2].values.map(\.tag) == ["monitor/overflow", "train/loss"])
        #expect(events[2].values.map(\.value) == [7, 0.375])
        #expect(events[3].values.map(\.tag) == ["val/psnr_mu"] && events[3].values[0].value == 31.25)
    }

    @Test func aSecondWriterInTheSameSecondGetsItsOwnFile() throws {
        let dir = ScratchDir()
        let a = try TensorBoardWriter(dir: dir.path, wallTime: 5, hostname: "h")
        let b = try TensorBoardWriter(dir: dir.path, wallTime: 5, hostname: "h")
        #expect(a.path.hasSuffix("events.out.tfevents.5.h"))
        #expect(b.path.hasSuffix("events.out.tfevents.5.h.1"))
    }

    @Test func splitDropsAPartialTailButRefusesACorruptRecord() throws {
        let one = TFRecord.frame(TensorBoardEvent.scalarsEvent(step: 1, values: ["a": 1], wallTime: 0))
        let two = TFRecord.frame(TensorBoardEvent.scalarsEvent(step: 2, values: ["a": 2], wallTime: 0))
        for cut in [1, 11, 12, 20, two.count - 1] {
            let s = try TFRecord.split(one + two.prefix(cut), path: "f")
            #expect(s.records.count == 1 && s.partialTailBytes == cut)
        }
        var badData = one + two
        badData[one.count + 14] ^= 0x01
        #expect(throws: RunLogError(path: "f", reason: "TFRecord at byte \(one.count): data CRC mismatch")) {
            try TFRecord.split(badData, path: "f")
        }
        var badLength = one + two
        badLength[one.count + 9] ^= 0x01
        #expect(throws: RunLogError(path: "f", reason: "TFRecord at byte \(one.count): length CRC mismatch")) {
            try TFRecord.split(badLength, path: "f")
        }
    }
}

/// An event-file reader written from the spec for these tests only: it shares nothing with the writer but CRC32C
/// (checked above against published vectors).
enum TestEventFile {
    struct Event {
        var wallTime = 0.0, step: Int64 = 0, fileVersion = ""
        var values: [(tag: String, value: Float)] = []
    }

    struct Bad: Error { let what: String }

    static func parse(_ data: Data) throws -> [Event] {
        let b = [UInt8](data)
        var at = 0
        var events: [Event] = []
        func u64(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[i + $1]) << (8 * $1) } }
        while at < b.count {
            guard b.count - at >= 16 else { throw Bad(what: "short header at \(at)") }
            let n = Int(u64(at))
            guard CRC32C.masked(CRC32C.checksum(b[at..<at + 8])) == u32(at + 8) else {
                throw Bad(what: "length crc at \(at)")
            }
            guard at + 12 + n + 4 <= b.count else { throw Bad(what: "length \(n) past the end at \(at)") }
            let body = Array(b[at + 12..<at + 12 + n])
            guard CRC32C.masked(CRC32C.checksum(body)) == u32(at + 12 + n) else { throw Bad(what: "data crc at \(at)") }
            events.append(try event(body))
            at += 12 + n + 4
        }
        return events
    }

    /// Top-level fields of `bytes` as (field number, wire type, payload bytes / varint value).
    static func fields(_ bytes: [UInt8]) throws -> [(field: UInt64, wire: UInt64, payload: [UInt8], varint: UInt64)] {
        var i = 0
        var out: [(field: UInt64, wire: UInt64, payload: [UInt8], varint: UInt64)] = []
        func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                v |= UInt64(c & 0x7F) << shift
                if c < 0x80 { return v }
                shift += 7
            }
            throw Bad(what: "truncated varint")
        }
        while i < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: out.append((key >> 3, 0, [], try varint()))
            case 1:
                out.append((key >> 3, 1, Array(bytes[i..<i + 8]), 0))
                i += 8
            case 5:
                out.append((key >> 3, 5, Array(bytes[i..<i + 4]), 0))
                i += 4
            case 2:
                let n = Int(try varint())
                out.append((key >> 3, 2, Array(bytes[i..<i + n]), 0))
                i += n
            default: throw Bad(what: "wire type \(key & 7)")
            }
        }
        return out
    }

    static func event(_ bytes: [UInt8]) throws -> Event {
        var e = Event()
        for f in try fields(bytes) {
            switch (f.field, f.wire) {
            case (1, 1): e.wallTime = Double(bitPattern: f.payload.reversed().reduce(0) { $0 << 8 | UInt64($1) })
            case (2, 0): e.step = Int64(bitPattern: f.varint)
            case (3, 2): e.fileVersion = String(decoding: f.payload, as: UTF8.self)
            case (5, 2):
                for v in try fields(f.payload) where v.field == 1 {
                    var tag = ""
                    var value: Float = .nan
                    for g in try fields(v.payload) {
                        if g.field == 1 { tag = String(decoding: g.payload, as: UTF8.self) }
                        if g.field == 2 {
                            value = Float(bitPattern: g.payload.reversed().reduce(0) { $0 << 8 | UInt32($1) })
                        }
                    }
                    e.values.append((tag, value))
                }
            default: throw Bad(what: "unexpected field \(f.field) wire \(f.wire)")
            }
        }
        return e
    }
}

@Suite struct TensorBoardSampleRunTests {
    /// A two-segment run (steps 1-6, killed, resumed at 4 for 5-8) whose event files tools/tb/read_events.py reads
    /// with TensorBoard itself. Set HDRPATCH_TB_SAMPLE_DIR to keep the directory; otherwise it is a scratch dir.
    @Test func resumedRunShowsEachStepOnceAcrossEventFiles() throws {
        let scratch = ScratchDir()
        let dir = ProcessInfo.processInfo.environment["HDRPATCH_TB_SAMPLE_DIR"] ?? scratch.file("run")
        do {
            let log = try RunLog.open(dir: dir, resumeFromStep: nil, wallTime: 1_700_000_000, hostname: "sample")
            for step in 1...6 {
                try log.writeScalars(
                    step: step, values: ["train/loss": 1 / Double(step), "train/lr": 1e-3],
                    wallTime: 1_700_000_000 + Double(step))
            }
        }
        let log = try RunLog.open(dir: dir, resumeFromStep: 4, wallTime: 1_700_000_100, hostname: "sample")
        for step in 5...8 {
            try log.writeScalars(
                step: step, values: ["train/loss": 0.5 / Double(step), "train/lr": 5e-4],
                wallTime: 1_700_000_100 + Double(step))
        }
        log.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("events.out") }
            .sorted()
        #expect(files == ["events.out.tfevents.1700000000.sample", "events.out.tfevents.1700000100.sample"])
        let steps = try files.flatMap {
            try TestEventFile.parse(Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0)")))
        }
        .filter { $0.fileVersion.isEmpty }.map(\.step)
        #expect(steps == [1, 2, 3, 4, 5, 6, 7, 8])
    }
}
