// The run directory lock: held while its RunLock lives, refused to a second taker with the holder's line, free again
// once released (a leftover lock file does not hold anything).
import Foundation
import RunFiles
import TestSupport
import Testing

struct RunLockTests {
    @Test func heldWhileAliveAndFreeAfter() throws {
        let dir = ScratchDir()
        #expect(RunLock.holder(of: dir.path) == nil, "no lock file: free")
        var lock: RunLock? = try RunLock(dir: dir.path)
        let holder = try #require(RunLock.holder(of: dir.path))
        #expect(holder.hasPrefix("pid \(getpid()) on ") && holder.contains(" since "), "\(holder)")
        #expect {
            try RunLock(dir: dir.path)
        } throws: { error in
            "\(error)" == "\(dir.path): being trained by \(holder); not started (the lock is \(dir.path)/train.lock)"
        }
        withExtendedLifetime(lock) {}
        lock = nil
        #expect(FileManager.default.fileExists(atPath: dir.file("train.lock")), "the file stays")
        #expect(RunLock.holder(of: dir.path) == nil, "but nobody holds it")
        _ = try RunLock(dir: dir.path)
    }
}
