// The one error type of image reading and writing: a path and a one-line reason.

/// Printed by the CLI as `error: <path>: <reason>`.
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        // One line, whatever the underlying library said.
        self.reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { "\(path): \(reason)" }
}
