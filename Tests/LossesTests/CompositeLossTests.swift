// CompositeLoss: per-term values, total = sum of weight * term, summed gradients, accumulation and names.
import Numerics
import Testing

@testable import Losses

struct CompositeLossTests {
    static let batch = RefBatch.make(seed: 61) { signedUniform(&$0, 0.05, 0.5) }

    static func unitGradient(_ term: some LossTerm) -> (Double, Tensor) {
        var g = Tensor(zeros: batch.shape)
        return (term.evaluate(batch.inputs, weight: 1, gradDelta: &g), g)
    }

    @Test func everyTermAccumulatesAndScalesByItsWeight() {
        let terms: [any LossTerm] = [
            HuberLoss(delta: 0.3), L1Loss(), MSELoss(), HistogramLoss(), MomentLoss(),
            SparsityLoss(), MuLawL1Loss(), PU21L1Loss()
        ]
        for term in terms {
            let (v1, g1) = Self.unitGradient(term)
            // Start from ones: the term must add weight * gradient, never overwrite.
            var g = Tensor(shape: Self.batch.shape, storage: [Float](repeating: 1, count: g1.count))
            let v = term.evaluate(Self.batch.inputs, weight: 2.5, gradDelta: &g)
            #expect(v == v1, "\(type(of: term).type): the value is unweighted")
            let worst = zip(g.storage, g1.storage).map { abs(Double($0) - 1 - 2.5 * Double($1)) }.max()!
            let scale = g1.storage.map { abs(Double($0)) }.max()!
            #expect(scale > 0 && worst <= 1e-6 * max(1, 2.5 * scale), "\(type(of: term).type): \(worst)")
        }
    }

    @Test func totalIsTheWeightedSumAndGradientsAdd() throws {
        let loss = try CompositeLoss.parse(
            """
            loss:
              - {type: huber, weight: 2.0, delta: 0.5}
              - {type: sparsity, weight: 0.1}
              - {type: pu21_l1, weight: 0}
            """)
        let (report, g) = loss.evaluate(Self.batch.inputs)
        let (h, gh) = Self.unitGradient(HuberLoss(delta: 0.5))
        let (s, gs) = Self.unitGradient(SparsityLoss())
        let (p, _) = Self.unitGradient(PU21L1Loss())
        #expect(report.terms.map(\.name) == ["huber", "sparsity", "pu21_l1"])
        #expect(report.terms.map(\.value) == [h, s, p])
        #expect(report.terms.map(\.domain) == [.log, .delta, .pu21])
        #expect(report.terms.map(\.weighted) == [2 * h, 0.1 * s, 0])
        #expect(report.total == 2 * h + 0.1 * s + 0 * p)
        for i in 0..<g.count {
            let expected = 2 * Double(gh.storage[i]) + 0.1 * Double(gs.storage[i])
            #expect(abs(Double(g.storage[i]) - expected) <= 1e-6 * max(1e-3, abs(expected)))
        }
    }

    /// evaluate(into:) updates a report in place (a training loop keeps one): the same report as a fresh
    /// evaluation, also when the report came from another loss (other terms: rebuilt).
    @Test func reportUpdatedInPlaceEqualsAFreshOne() throws {
        let loss = try CompositeLoss.parse("loss:\n  - {type: l1, weight: 1.0}\n  - {type: mu_law_l1, weight: 4.0}\n")
        let other = try CompositeLoss.parse("loss:\n  - {type: huber, weight: 2.0}\n")
        let fresh = loss.evaluate(Self.batch.inputs).report
        var report = other.evaluate(Self.batch.inputs).report
        for _ in 0..<2 {
            var g = Tensor(zeros: Self.batch.shape)
            loss.evaluate(Self.batch.inputs, gradDelta: &g, into: &report)
            #expect(report == fresh)
            #expect(g == loss.evaluate(Self.batch.inputs).gradDelta)
        }
    }

    @Test func repeatedTypesAreNamedByIndex() throws {
        let loss = try CompositeLoss.parse(
            """
            loss:
              - {type: huber, weight: 1, delta: 1.0}
              - {type: l1, weight: 1}
              - {type: huber, weight: 1, delta: 0.1}
            """)
        #expect(loss.terms.map(\.name) == ["huber#0", "l1", "huber#2"])
        #expect(
            loss.json
                == .array([
                    .object(["type": .string("huber"), "weight": .number(1), "delta": .number(1)]),
                    .object(["type": .string("l1"), "weight": .number(1)]),
                    .object(["type": .string("huber"), "weight": .number(1), "delta": .number(0.1)])
                ]))
    }

    @Test func defaultsAreFilledIn() throws {
        let loss = try CompositeLoss.parse("loss: [{type: huber, weight: 2.0}, {type: mu_law_l1, weight: 1}]")
        #expect((loss.terms[0].term as? HuberLoss)?.delta == 1.0)
        #expect((loss.terms[1].term as? MuLawL1Loss)?.mu == 5000)
    }
}
