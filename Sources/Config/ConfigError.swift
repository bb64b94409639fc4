// The one error type of configuration files: a key path and a one-line reason, printable as is.

/// Printed as `config error: <key.path>: <reason>`, e.g. `config error: steps.2.sigma: must be > 0, got -1`.
/// Errors about the document as a whole (YAML syntax, unreadable file, top level not a mapping) have an
/// empty key path and print as `config error: <reason>`.
/// The file is kept apart so callers can put it where their own convention wants it
/// (the CLI prints `error: <file>: config error: ...`).
package struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path from the document root: mapping keys by name, list items by index (`steps.0.type`).
    package var keyPath: String
    package var reason: String
    /// The file the document came from, nil for text parsed from memory.
    package var file: String?
    /// 1-based line of the offending node when YAML reported one.
    package var line: Int?

    package init(keyPath: String, reason: String, file: String? = nil, line: Int? = nil) {
        self.keyPath = keyPath
        // One line whatever the parser said, so the CLI's one-line error convention holds.
        self.reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.file = file
        self.line = line
    }

    package var description: String {
        keyPath.isEmpty ? "config error: \(reason)" : "config error: \(keyPath): \(reason)"
    }
}

/// Joins key-path components: `child("steps", "0")` is `steps.0`, and the root's path is empty.
func configPath(_ parent: String, _ component: String) -> String {
    parent.isEmpty ? component : "\(parent).\(component)"
}
