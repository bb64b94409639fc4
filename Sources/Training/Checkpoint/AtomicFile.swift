// Atomic file replacement for checkpoints: temp file in the same directory, fsync, rename, fsync the directory.
import Glibc

enum AtomicFile {
    /// Writes through `body` into `<path>.tmp-<pid>-<random>`, fsyncs it and renames it over `path`: a reader (or a
    /// crash) sees the old file or the complete new one. On any failure the temp file is removed, the old file
    /// is untouched and the error names `path`.
    static func write(_ path: String, _ body: (_ fd: Int32) throws -> Void) throws {
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw CheckpointError(path: path, reason: "cannot create: \(errnoText())") }
        do {
            try body(fd)
            if fsync(fd) != 0 { throw CheckpointError(path: path, reason: "fsync: \(errnoText())") }
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        if close(fd) != 0 {
            let reason = errnoText()
            unlink(temp)
            throw CheckpointError(path: path, reason: "close: \(reason)")
        }
        if rename(temp, path) != 0 {
            let reason = errnoText()
            unlink(temp)
            throw CheckpointError(path: path, reason: "rename: \(reason)")
        }
        // Make the rename itself durable; failing to open the directory is not worth failing the save for.
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    static func write(_ path: String, bytes: [UInt8]) throws {
        try write(path) { fd in try writeAll(fd, bytes, path: path) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var done = 0
        try bytes.withUnsafeBytes { buf in
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError(path: path, reason: "write: \(errnoText())")
                }
                done += n
            }
        }
    }

    /// Whole-file read; directories and special files are refused so a read never blocks.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw CheckpointError(path: path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw CheckpointError(path: path, reason: errnoText()) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CheckpointError(path: path, reason: "is a directory") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw CheckpointError(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            while done < size {
                let n = Glibc.read(fd, buf.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError(path: path, reason: errnoText())
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
