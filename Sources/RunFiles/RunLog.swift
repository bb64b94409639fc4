// The run directory's logs: metrics.jsonl, monitor.jsonl, incidents.csv and a TensorBoard event file, opened fresh
// or trimmed for a resume so that a resumed run's logs have no duplicates and no holes.
import Foundation

/// Every append is one write(2) of a whole line or record, so after a kill -9 the files hold every record whose
/// append returned, plus at most one partial last line (which RunLogReader skips and a resume drops).
/// Not thread-safe: the training loop owns it.
package final class RunLog {

    package let dir: String
    /// The event file this segment writes (a resume starts a new one; see `open`).
    package var eventFilePath: String { tensorBoard.path }

    private let metrics: AppendFile
    private let monitor: AppendFile
    private let incidents: AppendFile
    private let tensorBoard: TensorBoardWriter
    private let encoder = JSONLines.encoder()

    private init(
        dir: String, metrics: AppendFile, monitor: AppendFile, incidents: AppendFile, tensorBoard: TensorBoardWriter
    ) {
        self.dir = dir
        self.metrics = metrics
        self.monitor = monitor
        self.incidents = incidents
        self.tensorBoard = tensorBoard
    }

    /// Opens the logs of `dir` (created if missing).
    /// - Parameter resumeFromStep: nil for a new run: any existing log file in `dir` is an error (two runs would
    ///   interleave). A step s for a resume from the checkpoint at step s: every existing log keeps exactly its
    ///   records with step <= s, in order (files rewritten atomically, only when something is dropped; a partial
    ///   last line is dropped); missing files are created. Event files from earlier segments are trimmed the same
    ///   way and this segment writes a new one, so every TensorBoard reader (Python or the Rust data server, which
    ///   do not agree on purging "orphaned" steps) sees each step once.
    /// - Parameter wallTime: unix seconds for the event file's name and first record (default: now).
    /// - Parameter hostname: for the event file's name (default: this host's).
    package static func open(
        dir: String, resumeFromStep: Int?, wallTime: Double? = nil, hostname: String? = nil
    ) throws -> RunLog {
        if let step = resumeFromStep, step < 0 {
            throw RunLogError(path: dir, reason: "resume step \(step) is negative")
        }
        // Checked before any file is touched, so a refused open leaves the directory as it was.
        let wallTime = wallTime ?? Date().timeIntervalSince1970
        try TensorBoardWriter.checkWallTime(wallTime, dir: dir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw RunLogError(path: dir, reason: "cannot create the run directory: \(error.localizedDescription)")
        }
        let run = RunDirectory(dir)
        let metricsPath = run.metrics
        let monitorPath = run.monitor
        let incidentsPath = run.incidents
        let eventFiles = try listEventFiles(dir)
        if let step = resumeFromStep {
            try trimJSONLines(MetricsRecord.self, path: metricsPath, keepingStepsUpTo: step) { $0.step }
            try trimJSONLines(MonitorRecord.self, path: monitorPath, keepingStepsUpTo: step) { $0.step }
            try trimIncidents(path: incidentsPath, keepingStepsUpTo: step)
            for name in eventFiles { try TensorBoardWriter.trim(path: "\(dir)/\(name)", keepingStepsUpTo: step) }
        } else {
            let existing =
                [RunDirectory.metricsName, RunDirectory.monitorName, RunDirectory.incidentsName].filter {
                    FileManager.default.fileExists(atPath: "\(dir)/\($0)")
                } + eventFiles
            if !existing.isEmpty {
                throw RunLogError(
                    path: dir,
                    reason: "already holds run logs (\(existing.joined(separator: ", "))): "
                        + "resume from a step, or start the run in a new directory")
            }
        }
        let incidents = try AppendFile(path: incidentsPath)
        if try readAll(incidentsPath).isEmpty { try incidents.write(IncidentsCSV.headerLine()) }
        return RunLog(
            dir: dir, metrics: try AppendFile(path: metricsPath), monitor: try AppendFile(path: monitorPath),
            incidents: incidents,
            tensorBoard: try TensorBoardWriter(
                dir: dir, wallTime: wallTime,
                hostname: hostname ?? TensorBoardWriter.hostname()))
    }

    package func append(_ record: MetricsRecord) throws { try metrics.write(line(record, metrics.path)) }
    package func append(_ record: MonitorRecord) throws { try monitor.write(line(record, monitor.path)) }
    package func append(_ incident: Incident) throws { try incidents.write(IncidentsCSV.line(incident)) }

    /// Scalars for TensorBoard: one Event at `step` with a simple_value per tag; `wallTime` in unix seconds.
    package func writeScalars(step: Int, values: [String: Double], wallTime: Double) throws {
        try tensorBoard.writeScalars(step: step, values: values, wallTime: wallTime)
    }

    /// fsyncs every file: call at checkpoints and at the end, where surviving a power loss is worth a disk flush.
    package func sync() {
        metrics.sync()
        monitor.sync()
        incidents.sync()
        tensorBoard.sync()
    }

    package func close() {
        metrics.close()
        monitor.close()
        incidents.close()
        tensorBoard.close()
    }

    private func line<T: Encodable>(_ record: T, _ path: String) throws -> [UInt8] {
        do {
            var bytes = [UInt8](try encoder.encode(record))
            bytes.append(0x0A)
            return bytes
        } catch {
            throw RunLogError(path: path, reason: "cannot encode \(T.self): \(error)")
        }
    }

    static func listEventFiles(_ dir: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir).filter(TensorBoardWriter.isEventFile)
                .sorted()
        } catch {
            throw RunLogError(path: dir, reason: "cannot list: \(error.localizedDescription)")
        }
    }

    /// Keeps the lines (verbatim) whose record has step <= `step`; rewrites only when something goes.
    static func trimJSONLines<T: Decodable>(
        _: T.Type, path: String, keepingStepsUpTo step: Int,
        _ stepOf: (T) -> Int
    ) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let bytes = try readAll(path)
        let (records, tail) = try JSONLines.decode(T.self, bytes, path: path)
        let kept = records.filter { stepOf($0.record) <= step }
        if kept.count == records.count && tail == 0 { return }
        var out: [UInt8] = []
        for (_, line) in kept {
            out += bytes[line.range]
            out.append(0x0A)
        }
        try replace(path, with: out)
    }

    static func trimIncidents(path: String, keepingStepsUpTo step: Int) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let bytes = try readAll(path)
        let (rows, tail) = try IncidentsCSV.rows(bytes, path: path)
        // A kill before the header's newline leaves no header: start over with one.
        if rows.isEmpty {
            if !bytes.isEmpty { try replace(path, with: IncidentsCSV.headerLine()) }
            return
        }
        let (incidents, _) = try IncidentsCSV.incidents(bytes, path: path)
        let kept = incidents.filter { $0.incident.step <= step }
        if kept.count == incidents.count && tail == 0 { return }
        var out = [UInt8](bytes[rows[0].range])
        for (_, row) in kept { out += bytes[row.range] }
        try replace(path, with: out)
    }
}

/// Where a run's records go (metrics.jsonl, monitor.jsonl, incidents.csv, TensorBoard).
package protocol RunSink: AnyObject {
    func metrics(_ record: MetricsRecord) throws
    func monitor(_ record: MonitorRecord) throws
    func incident(_ incident: Incident) throws
    func scalars(step: Int, _ values: [String: Double], wallTime: Double) throws
}

/// The trainer writes through this.
extension RunLog: RunSink {
    package func metrics(_ record: MetricsRecord) throws { try append(record) }
    package func monitor(_ record: MonitorRecord) throws { try append(record) }
    package func incident(_ incident: Incident) throws { try append(incident) }
    package func scalars(step: Int, _ values: [String: Double], wallTime: Double) throws {
        try writeScalars(step: step, values: values, wallTime: wallTime)
    }
}
