// The comparison half of `ablate`: reads every finished run of every variant and writes comparison.md,
// comparison.html and comparison.csv from one value, so the three files can never disagree on a number.
import EXRIO
import Foundation
import Reports
import RunFiles

/// One (variant, seed) run as the orchestrator left it.
public struct AblationRun: Sendable {
    public enum Status: Sendable, Equatable {
        case finished
        case failed(String)
        /// Never started, or its directory is gone.
        case missing
    }

    public var variant: String
    public var seed: Int
    public var dir: String
    public var status: Status

    public init(variant: String, seed: Int, dir: String, status: Status) {
        self.variant = variant
        self.seed = seed
        self.dir = dir
        self.status = status
    }
}

public struct AblationComparison {
    /// Every run given, sorted by variant order then seed (the "Runs" section).
    public var runs: [AblationRun]
    /// One row per variant, in `variantOrder`; variants only the runs name follow, sorted by name.
    public var table: [VariantSummary]
    public var claims: [Claim]

    /// Reads the logs of the finished runs; a finished run whose logs cannot be read is an error, not a gap.
    /// `claims` (the ablation file's) are checked against the table, in order.
    public init(runs: [AblationRun], variantOrder: [String], claims: [ClaimSpec]) throws {
        var order = variantOrder
        for v in Set(runs.map(\.variant)).subtracting(variantOrder).sorted() { order.append(v) }
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        self.runs = runs.sorted { (rank[$0.variant]!, $0.seed, $0.dir) < (rank[$1.variant]!, $1.seed, $1.dir) }
        var table: [VariantSummary] = []
        for v in order where !table.contains(where: { $0.variant == v }) {
            var row = VariantSummary(variant: v, runs: [], failed: [], missingSeeds: [])
            for r in self.runs where r.variant == v {
                switch r.status {
                case .finished:
                    do {
                        row.runs.append(AblationRunNumbers(seed: r.seed, logs: try RunLogReader.read(dir: r.dir)))
                    } catch {
                        throw FileError(path: r.dir, reason: "\(v) seed \(r.seed): \(error)")
                    }
                case .failed(let e): row.failed.append((r.seed, e))
                case .missing: row.missingSeeds.append(r.seed)
                }
            }
            table.append(row)
        }
        self.table = table
        self.claims = claims.map { Claim($0, table: table) }
    }

    /// Writes the three files into `dir` (created if needed), each atomically; returns their paths.
    public func write(to dir: String) throws -> (markdown: String, html: String, csv: String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        let paths = (markdown: base + "comparison.md", html: base + "comparison.html", csv: base + "comparison.csv")
        try RunReport.writeAtomically(markdown(), to: paths.markdown)
        try RunReport.writeAtomically(html(), to: paths.html)
        try RunReport.writeAtomically(csv(), to: paths.csv)
        return paths
    }

    public func markdown() -> String { AblationText.markdown(self) }
    public func html() -> String { AblationHTML.render(self) }
    public func csv() -> String { AblationText.csv(self) }
}
