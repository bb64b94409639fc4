// The `hdrpatch` command line: a thin layer over the library targets, one file per subcommand.
import ArgumentParser
import EXRIO
import Foundation

@main
struct Entry {
    static func main() {
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
            Bench.self
        ]
    )
}

/// Prints `error: <text>` on standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data("error: \(text)\n".utf8))
}

/// Parses `--part`: a number selects by index, anything else by part name.
func partSelector(_ text: String) -> ReadOptions.Part {
    if let i = Int(text) { return .index(i) }
    return .name(text)
}
