// The loader's one error type: a single line that names the files involved.

/// A dataset, sampling or prefetching failure. Image decoding failures stay `FileError`s (they already
/// name their file); everything the loader itself detects is one of these.
package struct LoaderError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String

    package init(_ message: String) {
        // One line, whatever was interpolated into it.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    package var description: String { message }
}
