// Shared by every test target: a scratch directory that removes itself.
import Foundation

/// A fresh directory under the system temp dir, removed when the value is released.
package final class ScratchDir: @unchecked Sendable {
    package let path: String

    package init() {
        path = NSTemporaryDirectory() + "hdrpatch-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    package func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
