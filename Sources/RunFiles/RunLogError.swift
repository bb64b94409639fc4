// The one error type of the run log: names the file and, for line-oriented files, the 1-based line.

public struct RunLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    /// 1-based line (JSONL) or the line a CSV row starts on; nil when the problem is the whole file.
    public let line: Int?
    public let reason: String

    public init(path: String, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        // One-line messages: decoder errors can carry newlines, and the CLI prints errors as one line.
        self.reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)" }
}
