// One claim over the whole sweep: its verdict at every (task, point) group, where it could not be measured and
// why, and one overall verdict. A claim is a statement about the strategy, not about one learning rate, so the
// comparison answers it across the points where it is measurable.

/// A claim of the ablation file over every group of the comparison, in group order.
package struct ClaimAcrossPoints: Sendable {
    package enum Verdict: Sendable, Equatable {
        /// Every measurable point gave this verdict.
        case agreed(Claim.Verdict)
        /// Measurable points disagree: the per-point verdicts say where it holds.
        case dependsOnThePoint
        /// No point allows the comparison; the summary says why at each.
        case notMeasured

        package var rawValue: String {
            switch self {
            case .agreed(let v): v.rawValue
            case .dependsOnThePoint: "depends on the point"
            case .notMeasured: "not measured"
            }
        }
    }

    package var spec: ClaimSpec
    package var name: String { spec.name }
    /// The claim at each group: the group's title ("" for a plan without tasks and axes) and its check there.
    package var points: [(title: String, claim: Claim)]
    /// Points where it could be measured.
    package var measurable: [(title: String, claim: Claim)] { points.filter { $0.claim.verdict != .notMeasurable } }
    /// The one verdict over the measurable points: theirs when they all agree, else "depends on the point";
    /// "not measured" when there is none.
    package var verdict: Verdict {
        let verdicts = measurable.map(\.claim.verdict)
        guard let first = verdicts.first else { return .notMeasured }
        guard verdicts.allSatisfy({ $0 == first }) else { return .dependsOnThePoint }
        return .agreed(first)
    }

    /// The claim `index` of every group (every group checks the same claims, in the file's order).
    init(index: Int, groups: [AblationGroup]) {
        spec = groups[0].claims[index].spec
        points = groups.map { ($0.title, $0.claims[index]) }
    }
}
