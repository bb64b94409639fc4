// Runs the built `hdrpatch` executable and captures exit status, stdout and stderr.
import Foundation

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The executable sits beside the test bundle in the build products directory.
    static var executable: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("hdrpatch").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let products = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/hdrpatch").path
        return products
    }

    /// Starts the CLI without waiting (output discarded), for tests that signal it.
    static func start(_ args: [String], program: String? = nil, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program ?? executable)
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Runs the CLI. A run longer than `timeout` seconds (a hang) is killed. Death by a signal, a crash or
    /// that kill, is reported as minus the signal number, so it can never pass for an exit status.
    /// `program` (default: the CLI) with `args`, `environment` added to this process's and the names in `unsetting`
    /// taken out of it.
    static func run(
        _ args: [String], timeout: Double = 300, program: String? = nil, environment: [String: String] = [:],
        unsetting: Set<String> = []
    ) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program ?? executable)
        p.arguments = args
        if !environment.isEmpty || !unsetting.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
                .filter { !unsetting.contains($0.key) }
        }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        // Drain both pipes before waiting so a large output cannot block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let status = p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus
        return CLIResult(
            status: status, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}
