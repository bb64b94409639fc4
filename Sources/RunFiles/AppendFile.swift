// An append-only file descriptor: each write is one write(2) call, so what a write returned is in the kernel and
// survives a kill -9 of the process (not a power loss: we do not fsync per line, that would cost a disk flush a step).
import EXRIO
import Glibc

final class AppendFile {
    let path: String
    private var fd: Int32

    /// Opens (creating if needed) for appending. O_APPEND keeps every write at the end even if we were handed a
    /// file someone else also appends to.
    init(path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw RunLogError(path: path, reason: "cannot open for appending: \(FileBytes.errnoText())") }
    }

    /// Writes all of `bytes`; a short write is retried, so only a kill or a full disk can leave a partial line.
    func write(_ bytes: [UInt8]) throws {
        if fd < 0 { throw RunLogError(path: path, reason: "write after close") }
        var done = 0
        try bytes.withUnsafeBytes { buf in
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw RunLogError(path: path, reason: "write: \(FileBytes.errnoText())")
                }
                done += n
            }
        }
    }

    /// fsync: for the end of a run or a checkpoint, where durability across a power loss is worth a flush.
    func sync() { if fd >= 0 { fsync(fd) } }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
