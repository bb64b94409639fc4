// The `hdrpatch` command line: a thin layer over the library targets, one file per subcommand.
import ArgumentParser
import CKernels
import Cluster
import Config
import EXRIO
import Foundation
import Numerics

@main
struct Entry {
    static func main() {
        if let name = ProcessInfo.processInfo.environment["HDRPATCH_SIMD"], hp_simd_cap(name) == -2 {
            printError("HDRPATCH_SIMD: unknown level '\(name)' (avx512, avx2 or generic)")
            exit(2)
        }
        BLASCore.ensureNativeKernels()
        HDRPatch.main()
    }
}

struct HDRPatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hdrpatch",
        abstract: "Train small patch networks that restore HDR images in the log domain.",
        discussion: "Reads OpenEXR (every compression, DWAA/DWAB included) and Radiance .hdr files.",
        version: "0.1.0",
        subcommands: [
            Inspect.self, Convert.self, Synth.self, Train.self, Evaluate.self, Restore.self, Report.self, Ablate.self,
            Bench.self, Export.self
        ]
    )
}

/// Prints `error: <text>` on standard error.
func printError(_ text: String) {
    let rank = ProcessGroup.joined.map { "rank \($0.rank) of \($0.size): " } ?? ""
    FileHandle.standardError.write(Data("error: \(rank)\(text)\n".utf8))
}

/// Runs a subcommand's work: any error becomes one line `error: ...` on stderr and exit status 1 (an ExitCode
/// passes through). Errors name their file or key themselves; a config error without a file of its own (an
/// embedded config) and a checkpoint's shape mismatch are prefixed with `file`, what the command was reading.
/// - Parameter keyErrorsNameFile: false where config keys may come from `--set` as well as the file (train): then
///   only an error about the file as a whole (missing, unreadable, not YAML) names it.
@discardableResult
func withOneLineErrors<T>(file: String? = nil, keyErrorsNameFile: Bool = true, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ConfigError {
        let named = keyErrorsNameFile || e.keyPath.isEmpty ? e.file ?? file : nil
        printError(named.map { "\($0): \(e)" } ?? "\(e)")
    } catch let e as ParameterStoreError {
        printError(file.map { "\($0): \(e)" } ?? "\(e)")
    } catch {
        printError("\(error)")
    }
    throw ExitCode(1)
}

/// Parses `--part`: a number selects by index, anything else by part name.
func partSelector(_ text: String) -> ReadOptions.Part {
    if let i = Int(text) { return .index(i) }
    return .name(text)
}
