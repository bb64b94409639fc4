// Reads a run directory's records (metrics.jsonl, monitor.jsonl, incidents.csv, config.yaml) for the report.
// Tolerant where a live run makes it necessary: a truncated last line is skipped; anything else broken is an error.
import Foundation
import Training

/// A run directory's records as written so far.
public struct RunFiles: Sendable {
    public var directory: String
    public var metrics: [MetricsRecord]
    public var monitor: [MonitorRecord]
    public var incidents: [Incident]
    /// config.yaml verbatim, nil when absent.
    public var configText: String?
    /// Lines skipped because they were the unterminated last line of a file still being written, by file name.
    public var skippedTails: [String]

    public init(
        directory: String, metrics: [MetricsRecord], monitor: [MonitorRecord], incidents: [Incident],
        configText: String?, skippedTails: [String] = []
    ) {
        self.directory = directory
        self.metrics = metrics
        self.monitor = monitor
        self.incidents = incidents
        self.configText = configText
        self.skippedTails = skippedTails
    }

    /// Reads whatever records exist. Each file may be missing, but not all of them: a directory without
    /// metrics.jsonl, monitor.jsonl and incidents.csv is not a run (yet) and reporting it would only mislead.
    public static func load(_ directory: String) throws -> RunFiles {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw ReportError(path: directory, reason: "no such run directory")
        }
        guard isDir.boolValue else { throw ReportError(path: directory, reason: "not a directory") }
        let dir = RunDirectory(directory)
        var run = RunFiles(directory: directory, metrics: [], monitor: [], incidents: [], configText: nil)
        var found = false
        if let text = try readIfPresent(dir.metrics) {
            found = true
            run.metrics = try decodeLines(text, file: dir.metrics, skipped: &run.skippedTails)
        }
        if let text = try readIfPresent(dir.monitor) {
            found = true
            run.monitor = try decodeLines(text, file: dir.monitor, skipped: &run.skippedTails)
        }
        if let text = try readIfPresent(dir.incidents) {
            found = true
            run.incidents = try IncidentsCSV.parse(text, file: dir.incidents, skipped: &run.skippedTails)
        }
        run.configText = try readIfPresent(dir.config)
        guard found, !(run.metrics.isEmpty && run.monitor.isEmpty && run.incidents.isEmpty) else {
            throw ReportError(path: directory, reason: "no run records (metrics.jsonl, monitor.jsonl or incidents.csv)")
        }
        return run
    }

    static func readIfPresent(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // A FIFO would block the read forever waiting for a writer.
        let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        guard type == .typeRegular else { throw ReportError(path: path, reason: "not a regular file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError(path: path, reason: "cannot read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ReportError(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    /// One JSON object per line. A last line without its newline that does not decode is a write in progress
    /// and is skipped; a bad line anywhere else is corruption and names its 1-based line number.
    static func decodeLines<T: Decodable>(_ text: String, file: String, skipped: inout [String]) throws -> [T] {
        let decoder = JSONDecoder()
        // JSON has no NaN or Infinity; a writer that must record them spells them as these strings.
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let terminated = text.hasSuffix("\n")
        var out: [T] = []
        for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                out.append(try decoder.decode(T.self, from: Data(line.utf8)))
            } catch {
                if i == lines.count - 1 && !terminated {
                    skipped.append("\((file as NSString).lastPathComponent) line \(i + 1)")
                    continue
                }
                throw ReportError(path: "\(file):\(i + 1)", reason: "not a valid record: \(describe(error))")
            }
        }
        return out
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted: return "not JSON"
        default: return "\(error)"
        }
    }
}

/// Why a report could not be made; `path` is the run directory or the file (with ":line") at fault.
public struct ReportError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}
