// Whole-file reads and atomic writes (temp file + rename) with one-line, path-naming errors.

import Glibc

/// Shared by every target that reads or replaces files: image I/O, checkpoints, run logs.
public enum FileBytes {
    /// Reads a regular file completely. FIFOs, devices and directories are refused so a read never blocks.
    public static func read(_ path: String) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a regular file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw FileError(path: path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileError(path: path, reason: errnoText()) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError(path: path, reason: "is a directory") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw FileError(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            while done < size {
                let n = Glibc.read(fd, buf.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(path: path, reason: errnoText())
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }

    /// Writes through `body` into a temporary file beside `path`, fsyncs it, then renames it over `path` and
    /// fsyncs the directory, so readers (and a machine that loses power) see either the old file or the complete
    /// new one, never a partial file. Every atomic write of the project goes through here: images, checkpoints,
    /// run configs, reports, synth manifests.
    public static func atomicWrite(_ path: String, _ body: (_ tempPath: String) throws -> Void) throws {
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try body(temp)
        } catch let error as FileError {
            unlink(temp)
            // Libraries name the file they were writing: the user knows it by its final name.
            throw FileError(path: path, reason: error.reason.replacing(temp, with: path))
        } catch {
            unlink(temp)
            throw error
        }
        // The content must be on disk before the rename makes it the file: after a crash the name then holds
        // the old file or the whole new one, never a new name over missing data.
        let tfd = open(temp, O_RDONLY | O_CLOEXEC)
        if tfd < 0 || fsync(tfd) != 0 {
            let reason = errnoText()
            if tfd >= 0 { close(tfd) }
            unlink(temp)
            throw FileError(path: path, reason: reason)
        }
        close(tfd)
        if rename(temp, path) != 0 {
            let reason = errnoText()
            unlink(temp)
            throw FileError(path: path, reason: reason)
        }
        // The rename is durable only once the directory entry is: fsync the directory (best effort).
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    public static func atomicWrite(_ path: String, bytes: [UInt8]) throws {
        try atomicWrite(path) { temp in
            let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw FileError(path: path, reason: "cannot create: " + errnoText()) }
            defer { close(fd) }
            var done = 0
            try bytes.withUnsafeBytes { buf in
                while done < buf.count {
                    let n = write(fd, buf.baseAddress! + done, buf.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FileError(path: path, reason: errnoText())
                    }
                    done += n
                }
            }
        }
    }

    /// Writes `text` as UTF-8, atomically (see `atomicWrite(_:_:)`).
    public static func atomicWrite(_ path: String, text: String) throws {
        try atomicWrite(path, bytes: Array(text.utf8))
    }

    public static func errnoText() -> String { String(cString: strerror(errno)) }
}
