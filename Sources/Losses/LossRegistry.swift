// Loss terms by their `type:` name, each configured entry carrying its `weight`.
import Config

/// A loss term that can be built from one entry of the `loss:` list.
package protocol ConfigurableLossTerm: LossTerm {
    /// Keys the term reads besides `type` and `weight`.
    static var keys: [String] { get }
    /// Reads the term's own keys; the registry reads `type` and `weight` and checks for leftovers.
    init(config: ConfigMapping) throws
    /// Every parameter as used, defaults filled in (for run records).
    var parameters: [String: JSONValue] { get }
}

/// A term without keys of its own (l1, mse, histogram, moment, sparsity): built by `init()`.
package protocol ParameterlessLossTerm: ConfigurableLossTerm {
    init()
}

extension ParameterlessLossTerm {
    package static var keys: [String] { [] }
    package init(config: ConfigMapping) throws { self.init() }
    package var parameters: [String: JSONValue] { [:] }
}

/// One configured entry of the `loss:` list: the term and its weight in the total.
package struct WeightedLossTerm: Sendable {
    /// >= 0. A weight of 0 keeps the term evaluated and reported (a metric) without moving the total or the gradient.
    package var weight: Double
    package var term: any ConfigurableLossTerm

    package init(weight: Double, term: any ConfigurableLossTerm) {
        precondition(weight >= 0 && weight.isFinite, "loss weight must be finite and >= 0, got \(weight)")
        self.weight = weight
        self.term = term
    }
}

package enum LossTerms {
    /// Every term type a `loss:` entry may name.
    package static let registry: Registry<WeightedLossTerm> = {
        do {
            return try Registry(
                kind: "loss term",
                [
                    entry(HuberLoss.self), entry(L1Loss.self), entry(MSELoss.self), entry(HoleL1Loss.self),
                    entry(ClipL1Loss.self),
                    entry(HistogramLoss.self), entry(MomentLoss.self), entry(SparsityLoss.self),
                    entry(MuLawL1Loss.self), entry(MuLawMSELoss.self), entry(PU21L1Loss.self)
                ])
        } catch {
            fatalError("\(error)")
        }
    }()

    /// The registry entry of a term type: reads `weight` (required, >= 0), then the term's own keys.
    package static func entry<T: ConfigurableLossTerm>(_: T.Type) -> Registry<WeightedLossTerm>.Entry {
        Registry.Entry(type: T.type, keys: ["weight"] + T.keys) { config in
            let weight = try config.required("weight", in: .atLeast(0.0))
            return WeightedLossTerm(weight: weight, term: try T(config: config))
        }
    }
}
