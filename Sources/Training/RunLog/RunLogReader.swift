// Loading a run directory's logs back into the record types, for the report and ablation.

/// What a run directory's logs hold, in file order.
public struct RunLogContents: Sendable, Equatable {
    public var metrics: [MetricsRecord]
    public var monitor: [MonitorRecord]
    public var incidents: [Incident]
    /// Files whose cut-short last line (a run killed mid-write) was skipped; empty for cleanly written logs.
    public var skippedPartialLastLine: [String]
}

/// Strict except for one thing: bytes after a file's last newline are a write a kill cut short and are skipped.
/// Anything else wrong (a corrupt or blank line anywhere, a bad header, a missing file) throws RunLogError naming the
/// file and line.
public enum RunLogReader {
    public static func read(dir: String) throws -> RunLogContents {
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
            metrics: m.records.map(\.record), monitor: mon.records.map(\.record),
            incidents: inc.incidents.map(\.incident), skippedPartialLastLine: skipped)
    }

    public static func metrics(path: String) throws -> [MetricsRecord] {
        try JSONLines.decode(MetricsRecord.self, try readAll(path), path: path).records.map(\.record)
    }

    public static func monitor(path: String) throws -> [MonitorRecord] {
        try JSONLines.decode(MonitorRecord.self, try readAll(path), path: path).records.map(\.record)
    }

    public static func incidents(path: String) throws -> [Incident] {
        try IncidentsCSV.incidents(try readAll(path), path: path).incidents.map(\.incident)
    }
}
