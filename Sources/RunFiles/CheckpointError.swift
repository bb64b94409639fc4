// The one error type of checkpoint files: the file and a one-line reason.

/// Prints as `<file>: <reason>`, e.g. `run/last.safetensors: tensor 'conv.weight': dtype F16, only F32 is supported`.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { "\(path): \(reason)" }
}
