// The comparison half of `ablate`: reads every finished run of every variant and writes comparison.md,
// comparison.html and comparison.csv from one value, so the three files can never disagree on a number.
import EXRIO
import Foundation
import Reports
import RunFiles

/// One (variant, seed) run as the orchestrator left it.
package struct AblationRun: Sendable {
    package enum Status: Sendable, Equatable {
        case finished
        case failed(String)
        /// Never started, or its directory is gone.
        case missing
    }

    package var variant: String
    package var seed: Int
    package var dir: String
    package var status: Status
    /// The task (nil without `tasks:`) and sweep point (empty without `axes:`) the run belongs to.
    package var task: String?
    package var point: AblationPlan.Point

    package init(
        variant: String, seed: Int, dir: String, status: Status, task: String? = nil,
        point: AblationPlan.Point = AblationPlan.Point(settings: [])
    ) {
        self.variant = variant
        self.seed = seed
        self.dir = dir
        self.status = status
        self.task = task
        self.point = point
    }
}

/// The variants at one sweep point of one task: their table and the claims checked on it.
package struct AblationGroup: Sendable {
    package var task: String?
    package var point: AblationPlan.Point
    /// One row per variant, in variant order.
    package var table: [VariantSummary]
    package var claims: [Claim]

    /// "task hdr_warp, optim.lr=0.02"; "" for the one group of a plan without tasks and axes.
    package var title: String {
        [task.map { "task \($0)" }, point.settings.isEmpty ? nil : point.label].compactMap { $0 }.joined(
            separator: ", ")
    }
}

package struct AblationComparison {
    /// Every run given, sorted by task, variant order, point, then seed (the "Runs" section).
    package var runs: [AblationRun]
    /// One group per (task, point), tasks in first-seen order, points in plan order; a plan without tasks and
    /// axes has exactly one.
    package var groups: [AblationGroup]
    /// The first group's table and claims: the whole comparison for a plan without tasks and axes.
    package var table: [VariantSummary] { groups.first?.table ?? [] }
    package var claims: [Claim] { groups.first?.claims ?? [] }
    /// Each claim of the file over every group, in the file's order.
    package var claimsAcrossPoints: [ClaimAcrossPoints] {
        guard let first = groups.first else { return [] }
        return first.claims.indices.map { ClaimAcrossPoints(index: $0, groups: groups) }
    }
    /// The tasks of the groups, in their order (nil for a plan without tasks).
    package var tasks: [String?] {
        var out: [String?] = []
        for g in groups where !out.contains(g.task) { out.append(g.task) }
        return out
    }

    /// Reads the logs of the finished runs; a finished run whose logs cannot be read is an error, not a gap.
    /// `claims` (the ablation file's) are checked against each group's table, in order. Variants of
    /// `variantOrder` come first, variants only the runs name follow, sorted by name.
    package init(runs: [AblationRun], variantOrder: [String], claims: [ClaimSpec]) throws {
        var order = variantOrder
        for v in Set(runs.map(\.variant)).subtracting(variantOrder).sorted() { order.append(v) }
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var taskOrder: [String?] = []
        for r in runs where !taskOrder.contains(r.task) { taskOrder.append(r.task) }
        let taskRank = { (t: String?) in taskOrder.firstIndex(of: t)! }
        self.runs = runs.sorted {
            (taskRank($0.task), rank[$0.variant]!, $0.point.index, $0.seed, $0.dir)
                < (taskRank($1.task), rank[$1.variant]!, $1.point.index, $1.seed, $1.dir)
        }
        var groups: [AblationGroup] = []
        for task in taskOrder {
            let ofTask = self.runs.filter { $0.task == task }
            var points: [AblationPlan.Point] = []
            for r in ofTask.sorted(by: { $0.point < $1.point }) where !points.contains(r.point) {
                points.append(r.point)
            }
            if points.isEmpty { points = [AblationPlan.Point(settings: [])] }
            for point in points {
                var table: [VariantSummary] = []
                for v in order {
                    var row = VariantSummary(variant: v, runs: [], failed: [], missingSeeds: [])
                    for r in ofTask where r.variant == v && r.point == point {
                        switch r.status {
                        case .finished:
                            do {
                                row.runs.append(
                                    AblationRunNumbers(seed: r.seed, logs: try RunLogReader.read(dir: r.dir)))
                            } catch {
                                throw FileError(path: r.dir, reason: "\(v) seed \(r.seed): \(error)")
                            }
                        case .failed(let e): row.failed.append((r.seed, e))
                        case .missing: row.missingSeeds.append(r.seed)
                        }
                    }
                    table.append(row)
                }
                groups.append(
                    AblationGroup(
                        task: task, point: point, table: table, claims: claims.map { Claim($0, table: table) }))
            }
        }
        if groups.isEmpty {
            let table = order.map { VariantSummary(variant: $0, runs: [], failed: [], missingSeeds: []) }
            groups = [
                AblationGroup(
                    task: nil, point: AblationPlan.Point(settings: []), table: table,
                    claims: claims.map { Claim($0, table: table) })
            ]
        }
        self.groups = groups
    }

    /// Writes the three files into `dir` (created if needed), each atomically; returns their paths.
    package func write(to dir: String) throws -> (markdown: String, html: String, csv: String) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        let paths = (markdown: base + "comparison.md", html: base + "comparison.html", csv: base + "comparison.csv")
        try RunReport.writeAtomically(markdown(), to: paths.markdown)
        try RunReport.writeAtomically(html(), to: paths.html)
        try RunReport.writeAtomically(csv(), to: paths.csv)
        return paths
    }

    package func markdown() -> String { AblationText.markdown(self) }
    package func html() -> String { AblationHTML.render(self) }
    package func csv() -> String { AblationText.csv(self) }
}
