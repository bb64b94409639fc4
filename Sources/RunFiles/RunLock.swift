// A run directory held by the process training it: an exclusive flock on <dir>/train.lock.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Held while a process trains the run in `dir`. The lock is the kernel's (flock), so it ends with the process
/// however it ends: a lock file left by a killed run never blocks the next one. The file says who holds it
/// ("pid 1234 on host since 2026-12-06T16:00:00Z") for the message a second process gets.
package final class RunLock: @unchecked Sendable {
    package static let fileName = "train.lock"
    private let fd: Int32

    /// Another process holds the run.
    package struct Held: Error, CustomStringConvertible {
        package let dir: String
        package let holder: String
        package var description: String {
            "\(dir): being trained by \(holder); not started (the lock is \(dir)/\(RunLock.fileName))"
        }
    }

    /// Takes the lock on `dir` (which must exist) without waiting.
    /// - Throws: `Held` when another process holds it; an error naming the file when it cannot be opened.
    package init(dir: String) throws {
        let path = dir + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunLogError(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let why = errno
            defer { close(fd) }
            if why == EWOULDBLOCK { throw Held(dir: dir, holder: Self.holderLine(fd)) }
            throw RunLogError(path: path, reason: String(cString: strerror(why)))
        }
        self.fd = fd
        var host = [UInt8](repeating: 0, count: 256)
        let name =
            gethostname(&host, host.count - 1) == 0
            ? String(decoding: host.prefix { $0 != 0 }, as: UTF8.self) : "localhost"
        let since = ISO8601DateFormatter().string(from: Date())
        let line = Array("pid \(getpid()) on \(name) since \(since)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }

    /// Who holds `dir` now ("pid 1234 on host since ..."), or nil when nobody does (no lock file, or one left by a
    /// process that has ended). Probes without keeping the lock.
    package static func holder(of dir: String) -> String? {
        let fd = open(dir + "/" + fileName, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return nil }  // free (closing the descriptor releases it)
        guard errno == EWOULDBLOCK else { return nil }
        return holderLine(fd)
    }

    /// The holder's line from an open lock file ("another process" when it has written none yet).
    private static func holderLine(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        let n = pread(fd, &buf, buf.count, 0)
        let text = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
        let holder = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return holder.isEmpty ? "another process" : holder
    }
}
