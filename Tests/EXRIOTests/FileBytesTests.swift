// FileBytes' atomic write, the one every image, checkpoint, run config, report and manifest goes through:
// a failure names the final path, keeps the old file and leaves no temporary file behind.
import Foundation
import Glibc
import TestSupport
import Testing

@testable import EXRIO

struct FileBytesTests {
    @Test func aFailingWriterKeepsTheOldFileAndLeavesNoTemporary() throws {
        let dir = ScratchDir()
        let path = dir.file("report.html")
        try FileBytes.atomicWrite(path, text: "old\n")
        #expect(throws: FileError.self) {
            try FileBytes.atomicWrite(path) { temp in
                try Data("half a fi".utf8).write(to: URL(fileURLWithPath: temp))
                throw FileError(path: temp, reason: "encoder failed writing \(temp)")
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["report.html"])
        do {
            try FileBytes.atomicWrite(dir.file("missing/dir/x.json"), text: "{}")
            Issue.record("wrote into a missing directory")
        } catch let e as FileError {
            #expect(e.path == dir.file("missing/dir/x.json"))
            #expect(e.reason.contains("No such file or directory"), "\(e.reason)")
        }
    }

    /// A full disk (a 64 KiB tmpfs): the write fails with errno's words and the final path, the old file stays.
    /// Needs permission to mount (root, as `make test` runs in CI); reported as skipped where there is none.
    @Test(.enabled(if: FileBytesTests.canMount, "mounting a tmpfs needs root and a kernel that allows it"))
    func aFullDiskIsOneErrorAndTheOldFileSurvives() throws {
        let dir = ScratchDir()
        let mnt = dir.file("small")
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        #expect(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]) == 0)
        defer { _ = Self.run("/bin/umount", [mnt]) }
        let path = mnt + "/latest.safetensors"
        try FileBytes.atomicWrite(path, bytes: [UInt8](repeating: 7, count: 1000))
        do {
            try FileBytes.atomicWrite(path, bytes: [UInt8](repeating: 9, count: 256 * 1024))
            Issue.record("a 256 KiB write fitted on a 64 KiB file system")
        } catch let e as FileError {
            #expect(e.path == path)
            #expect(e.reason.contains("No space left on device"), "\(e.reason)")
        }
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == [UInt8](repeating: 7, count: 1000))
        #expect(try FileManager.default.contentsOfDirectory(atPath: mnt) == ["latest.safetensors"])
    }

    /// Whether this process may mount a tmpfs here: tried once on a scratch directory (root alone is not enough
    /// inside some containers).
    static let canMount: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        let dir = ScratchDir()
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", dir.path]) == 0 else { return false }
        _ = run("/bin/umount", [dir.path])
        return true
    }()

    static func run(_ tool: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
