// A TensorBoard event file of scalars, written natively (TFRecord framing, hand-encoded Event protos), and the
// resume-time trimming of event files a previous segment left behind.
import EXRIO
import Glibc

/// Each writeScalars is one framed record and one write(2): a kill leaves at most a partial last record, which
/// TensorBoard's reader stops at and our resume trimming drops.
package final class TensorBoardWriter {
    package let path: String
    private let file: AppendFile

    /// Creates `events.out.tfevents.<unix seconds>.<hostname>` in `dir` (with ".1", ".2"... appended if that name
    /// exists, e.g. a resume within the same second) and writes the file-version record.
    package init(dir: String, wallTime: Double, hostname: String = TensorBoardWriter.hostname()) throws {
        try Self.checkWallTime(wallTime, dir: dir)
        let base = "\(dir)/\(RunDirectory.eventFilePrefix)\(Int(wallTime)).\(hostname)"
        var candidate = base
        var n = 0
        while access(candidate, F_OK) == 0 {
            n += 1
            candidate = "\(base).\(n)"
        }
        path = candidate
        file = try AppendFile(path: path)
        try file.write(TFRecord.frame(TensorBoardEvent.fileVersionEvent(wallTime: wallTime)))
    }

    /// One Event with every value as a scalar under its tag (sorted), at `step`, stamped `wallTime` (unix seconds).
    package func writeScalars(step: Int, values: [String: Double], wallTime: Double) throws {
        try file.write(TFRecord.frame(TensorBoardEvent.scalarsEvent(step: step, values: values, wallTime: wallTime)))
    }

    /// Int(_:) traps on NaN or out-of-range values; a bad clock must not take the run down.
    static func checkWallTime(_ wallTime: Double, dir: String) throws {
        guard wallTime.isFinite, abs(wallTime) < 1e15 else {
            throw RunLogError(path: dir, reason: "event file wall time \(wallTime) is not a plausible unix time")
        }
    }

    package func sync() { file.sync() }
    package func close() { file.close() }

    /// The host name as TensorFlow puts it in the file name; "/" (impossible in practice) would make a directory.
    package static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name.replacingOccurrences(of: "/", with: "_")
    }

    package static func isEventFile(_ name: String) -> Bool { name.hasPrefix(RunDirectory.eventFilePrefix) }

    /// Rewrites (atomically) an existing event file keeping only events with step <= `step`, in order, and dropping
    /// a partial last record. Files already within bounds are left untouched. A CRC mismatch on a complete record,
    /// or a record that is not an Event, throws: we do not silently discard a run's history.
    static func trim(path: String, keepingStepsUpTo step: Int) throws {
        let bytes = try readAll(path)
        let split = try TFRecord.split(bytes, path: path)
        var kept: [UInt8] = []
        var dropped = false
        for (data, framed) in split.records {
            guard let s = TensorBoardEvent.step(of: bytes[data]) else {
                throw RunLogError(path: path, reason: "TFRecord at byte \(framed.lowerBound) is not an Event message")
            }
            if s <= Int64(step) { kept += bytes[framed] } else { dropped = true }
        }
        if !dropped && split.partialTailBytes == 0 { return }
        try replace(path, with: kept)
    }
}

/// Whole-file read and atomic replace, with RunLogError naming the file.
func readAll(_ path: String) throws -> [UInt8] {
    do { return try FileBytes.read(path) } catch let e as FileError {
        throw RunLogError(path: path, reason: e.reason)
    }
}

func replace(_ path: String, with bytes: [UInt8]) throws {
    do { try FileBytes.atomicWrite(path, bytes: bytes) } catch let e as FileError {
        throw RunLogError(path: path, reason: e.reason)
    }
}
