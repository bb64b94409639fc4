// Loading a run directory back into the record types: the one reader of run files, for `report`, `ablate` and
// resume alike, so they can never disagree about a directory.
import EXRIO
import Glibc

/// What a run directory holds, in file order.
package struct RunLogContents: Sendable, Equatable {
    package var directory: String
    package var metrics: [MetricsRecord]
    package var monitor: [MonitorRecord]
    package var incidents: [Incident]
    /// config.yaml verbatim; nil only for a directory holding the logs without it (runs written by `train`
    /// always have it: it is written before the logs are opened).
    package var configText: String?
    /// Files whose cut-short last line (a run killed, or still writing) was skipped; empty for cleanly written logs.
    package var skippedPartialLastLine: [String]

    package init(
        directory: String, metrics: [MetricsRecord], monitor: [MonitorRecord], incidents: [Incident],
        configText: String? = nil, skippedPartialLastLine: [String] = []
    ) {
        self.directory = directory
        self.metrics = metrics
        self.monitor = monitor
        self.incidents = incidents
        self.configText = configText
        self.skippedPartialLastLine = skippedPartialLastLine
    }
}

/// Strict except for one thing: bytes after a file's last newline are a write a kill cut short (or a live run's
/// line in progress) and are skipped. Anything else wrong (a missing directory or log, a corrupt or blank line
/// anywhere, a bad header, a FIFO or a directory where a file should be) throws RunLogError naming the file and line.
package enum RunLogReader {
    package static func read(dir: String) throws -> RunLogContents {
        var st = stat()
        guard stat(dir, &st) == 0 else { throw RunLogError(path: dir, reason: "no such run directory") }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw RunLogError(path: dir, reason: "not a directory") }
        var skipped: [String] = []
        func note(_ path: String, _ tail: Int) { if tail > 0 { skipped.append(path) } }
        let run = RunDirectory(dir)
        let metricsPath = run.metrics
        let monitorPath = run.monitor
        let incidentsPath = run.incidents
        let m = try JSONLines.decode(MetricsRecord.self, try readAll(metricsPath), path: metricsPath)
        note(metricsPath, m.partialTailBytes)
        let mon = try JSONLines.decode(MonitorRecord.self, try readAll(monitorPath), path: monitorPath)
        note(monitorPath, mon.partialTailBytes)
        let inc = try IncidentsCSV.incidents(try readAll(incidentsPath), path: incidentsPath)
        note(incidentsPath, inc.partialTailBytes)
        return RunLogContents(
            directory: run.path, metrics: m.records.map(\.record), monitor: mon.records.map(\.record),
            incidents: inc.incidents.map(\.incident), configText: try config(dir: dir),
            skippedPartialLastLine: skipped)
    }

    /// config.yaml as text, nil when the directory has none; unreadable or non-UTF-8 text is an error.
    package static func config(dir: String) throws -> String? {
        let path = RunDirectory(dir).config
        guard access(path, F_OK) == 0 else { return nil }
        guard let text = String(validating: try readAll(path), as: UTF8.self) else {
            throw RunLogError(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    package static func metrics(path: String) throws -> [MetricsRecord] {
        try JSONLines.decode(MetricsRecord.self, try readAll(path), path: path).records.map(\.record)
    }

    package static func monitor(path: String) throws -> [MonitorRecord] {
        try JSONLines.decode(MonitorRecord.self, try readAll(path), path: path).records.map(\.record)
    }

    package static func incidents(path: String) throws -> [Incident] {
        try IncidentsCSV.incidents(try readAll(path), path: path).incidents.map(\.incident)
    }
}
