// Shared by every test target: a scratch directory that removes itself.
import Foundation

/// A fresh directory under the system temp dir, removed when the value is released.
public final class ScratchDir: @unchecked Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "hdrpatch-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
