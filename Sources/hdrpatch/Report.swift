// `hdrpatch report RUN_DIR`: writes report.html and report.md into a run directory from its records.
import ArgumentParser
import Foundation
import Reports

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write report.html (self-contained, works offline) and report.md for a run directory.",
        discussion: """
            Reads config.yaml, metrics.jsonl, monitor.jsonl and incidents.csv; a run still in progress can be \
            reported (an unfinished last line is skipped). Prints both paths and the verdict's first sentence. \
            Exit status 1, with one `error:` line naming the file (and line), when the directory or a log is \
            missing or a record is corrupt.
            """
    )

    @Argument(help: "The run directory.")
    var runDir: String

    func run() throws {
        // FileError (the directory, a write) or RunLogError (a run file, with its line): both one line.
        try withOneLineErrors {
            let report = try RunReport.load(runDir)
            let paths = try report.write()
            print(paths.html)
            print(paths.markdown)
            if let first = report.stats.verdict.first { print(first) }
        }
    }
}
