// The total loss: every configured term evaluated, reported on its own, weighted and summed.
import Config
import Numerics

/// YAML schema (a list under the training config's `loss:` key; at least one entry):
/// ```yaml
/// loss:
///   - type: huber        # a registered type: clip_l1, histogram, hole_l1, huber, l1, moment, mse, mu_law_l1, mu_law_mse, pu21_l1, sparsity
///     weight: 2.0        # required, >= 0 (0 = evaluated and reported, but not trained on)
///     delta: 1.0         # the type's own keys: huber `delta` (> 0, default 1.0), mu_law_l1 `mu` (> 0, default 5000)
///   - type: sparsity
///     weight: 0.1
/// ```
/// Errors (ConfigError): a missing or empty list, an item that is not a mapping, an unknown type (listing the
/// known ones), a missing or negative weight, an unknown key (`loss.<i>.<key>`, with a suggestion).
/// A type may appear more than once (e.g. two huber deltas); its terms are then named `type#i`, i being the
/// index in the list, and a type that appears once is named by its type alone.
package struct CompositeLoss: Sendable {
    package struct Term: Sendable {
        /// Unique within the loss: the type, or `type#i` when the type repeats.
        package let name: String
        package let weight: Double
        package let term: any ConfigurableLossTerm
    }

    package let terms: [Term]

    /// - Parameter entries: at least one.
    package init(_ entries: [WeightedLossTerm]) {
        precondition(!entries.isEmpty, "CompositeLoss: no terms")
        let types = entries.map { type(of: $0.term).type }
        terms = entries.enumerated().map { i, e in
            let t = types[i]
            let name = types.filter { $0 == t }.count > 1 ? "\(t)#\(i)" : t
            return Term(name: name, weight: e.weight, term: e.term)
        }
    }

    /// Reads the list under `key` of `config`. `config` itself is not finished: its owner (the training config)
    /// reads its other keys and finishes it.
    /// - Throws: ConfigError.
    package init(
        config: ConfigMapping, key: String = "loss",
        registry: Registry<WeightedLossTerm> = LossTerms.registry
    ) throws {
        let items = try config.mappings(key)
        guard !items.isEmpty else {
            throw config.error(
                key, "must list at least one loss term; known types: \(registry.types.joined(separator: ", "))")
        }
        self.init(try items.map(registry.make))
    }

    /// A document whose only key is `loss:`.
    package static func parse(_ yaml: String, file: String? = nil) throws -> CompositeLoss {
        let root = try StrictYAML.parse(yaml, file: file)
        let loss = try CompositeLoss(config: root)
        try root.finish()
        return loss
    }

    /// Evaluates every term in list order. Accumulates sum_i weight_i * d(term_i)/d(delta) into `gradDelta`
    /// ((N, C, H, W), +=, never zeroed here). Non-finite values are reported as they are; skipping the step
    /// is the monitor's decision.
    package func evaluate(_ inputs: LossInputs, gradDelta: inout Tensor) -> LossReport {
        var report = LossReport(terms: [], total: 0)
        evaluate(inputs, gradDelta: &gradDelta, into: &report)
        return report
    }

    /// The same, writing the report into `report`: a report this loss filled before is updated in place, so a
    /// training loop that keeps one allocates nothing here.
    package func evaluate(_ inputs: LossInputs, gradDelta: inout Tensor, into report: inout LossReport) {
        if report.terms.count != terms.count || !zip(report.terms, terms).allSatisfy({ $0.name == $1.name }) {
            report.terms = terms.map { t in
                LossTermValue(
                    name: t.name, type: type(of: t.term).type, domain: t.term.domain, weight: t.weight, value: 0)
            }
        }
        var total = 0.0
        for (i, t) in terms.enumerated() {
            let v = t.term.evaluate(inputs, weight: t.weight, gradDelta: &gradDelta)
            report.terms[i].weight = t.weight
            report.terms[i].value = v
            total += t.weight * v
        }
        report.total = total
    }

    /// Same, into a fresh zero gradient. - Returns: the report and d(total)/d(delta), (N, C, H, W).
    package func evaluate(_ inputs: LossInputs) -> (report: LossReport, gradDelta: Tensor) {
        var g = Tensor(zeros: inputs.delta.shape)
        let r = evaluate(inputs, gradDelta: &g)
        return (r, g)
    }

    /// The loss as used: `[{type, weight, <every key with defaults filled>}]`, for run records.
    package var json: JSONValue {
        .array(
            terms.map { t in
                var p = t.term.parameters
                p["type"] = .string(type(of: t.term).type)
                p["weight"] = .number(t.weight)
                return .object(p)
            })
    }
}

/// One term's unweighted value; the total is sum(weight * value) over the terms.
package struct LossTermValue: Sendable, Equatable {
    package var name: String
    package var type: String
    package var domain: LossDomain
    package var weight: Double
    /// The term's own reduction (see its type), unweighted.
    package var value: Double
    package var weighted: Double { weight * value }
}

package struct LossReport: Sendable, Equatable {
    /// In list order.
    package var terms: [LossTermValue]
    /// sum(weight_i * value_i), in Double.
    package var total: Double

    package init(terms: [LossTermValue] = [], total: Double = 0) {
        self.terms = terms
        self.total = total
    }
}
