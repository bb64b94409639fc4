// Checkpoint and log files go through EXRIO's FileBytes (whole-file reads that never block, atomic
// temp + fsync + rename writes); this only turns its errors into checkpoint errors.
import EXRIO

enum AtomicFile {
    /// Writes `bytes` atomically: readers and crashes see the old file or the complete new one.
    static func write(_ path: String, bytes: [UInt8]) throws {
        do { try FileBytes.atomicWrite(path, bytes: bytes) } catch let e as ImageIOError {
            throw CheckpointError(path: e.path, reason: e.reason)
        }
    }

    /// Whole-file read; directories and special files are refused so a read never blocks.
    static func read(_ path: String) throws -> [UInt8] {
        do { return try FileBytes.read(path) } catch let e as ImageIOError {
            throw CheckpointError(path: e.path, reason: e.reason)
        }
    }
}
