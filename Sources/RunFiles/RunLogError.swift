// The one error type of the run log: names the file and, for line-oriented files, the 1-based line.

package struct RunLogError: Error, Sendable, Equatable, CustomStringConvertible {
    package let path: String
    /// 1-based line (JSONL) or the line a CSV row starts on; nil when the problem is the whole file.
    package let line: Int?
    package let reason: String

    package init(path: String, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        // One-line messages: decoder errors can carry newlines, and the CLI prints errors as one line.
        self.reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    package var description: String { line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)" }
}
