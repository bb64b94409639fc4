// The `loss:` list from YAML: every registered type builds, and every mistake is a ConfigError with its key path.
import Config
import Testing

@testable import Losses

struct LossRegistryTests {
    static func message(_ yaml: String) -> String? {
        do {
            _ = try CompositeLoss.parse(yaml)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func registryListsEveryType() {
        #expect(
            LossTerms.registry.types == [
                "clip_l1", "histogram", "hole_l1", "huber", "l1", "moment", "mse", "mu_law_l1", "mu_law_mse", "pu21_l1",
                "sparsity"
            ])
    }

    @Test func duplicateTypeInTheTableFailsAtSetup() {
        #expect(throws: RegistryError(description: "duplicate loss term type 'l1' in the registry")) {
            try Registry(
                kind: "loss term",
                [
                    LossTerms.entry(L1Loss.self), LossTerms.entry(HuberLoss.self),
                    LossTerms.entry(L1Loss.self)
                ])
        }
    }

    @Test func everyTypeBuildsWithItsDomain() throws {
        let loss = try CompositeLoss.parse(
            """
            loss:
              - {type: huber, weight: 2.0, delta: 1.0}
              - {type: l1, weight: 1}
              - {type: mse, weight: 1}
              - {type: histogram, weight: 1}
              - {type: moment, weight: 1}
              - {type: sparsity, weight: 0.1}
              - {type: mu_law_l1, weight: 1, mu: 5000}
              - {type: pu21_l1, weight: 0.01}
              - {type: mu_law_mse, weight: 40, mu: 100}
            """)
        #expect(
            loss.terms.map { $0.term.domain } == [.log, .log, .log, .delta, .delta, .delta, .muLaw, .pu21, .muLaw])
        #expect(loss.terms.map(\.weight) == [2, 1, 1, 1, 1, 0.1, 1, 0.01, 40])
        #expect((loss.terms[8].term as? MuLawMSELoss)?.mu == 100)
    }

    @Test func unknownTypeListsTheKnownOnes() {
        #expect(
            Self.message("loss: [{type: hubber, weight: 1}]")
                == "config error: loss.0.type: unknown loss term 'hubber' (did you mean 'huber'?); known: clip_l1, histogram, hole_l1, huber, l1, moment, mse, mu_law_l1, mu_law_mse, pu21_l1, sparsity"
        )
        #expect(
            Self.message("loss: [{type: l1, weight: 1}, {type: ssim, weight: 1}]")
                == "config error: loss.1.type: unknown loss term 'ssim'; known: clip_l1, histogram, hole_l1, huber, l1, moment, mse, mu_law_l1, mu_law_mse, pu21_l1, sparsity"
        )
    }

    @Test func unknownKeySuggestsTheKnownOne() {
        #expect(
            Self.message("loss: [{type: huber, weight: 1, detla: 0.5}]")
                == "config error: loss.0.detla: unknown key (did you mean 'delta'?)")
        #expect(
            Self.message("loss: [{type: l1, weight: 1}, {type: mse, wieght: 1}]")
                == "config error: loss.1.weight: missing required key")
        #expect(
            Self.message("loss: [{type: l1, weight: 1, delta: 1}]")
                == "config error: loss.0.delta: unknown key; known keys: type, weight")
    }

    @Test func weightIsRequiredAndNonNegative() {
        #expect(
            Self.message("loss: [{type: huber, delta: 1.0}]") == "config error: loss.0.weight: missing required key")
        #expect(
            Self.message("loss: [{type: l1, weight: -1}]") == "config error: loss.0.weight: must be >= 0.0, got -1.0")
        #expect(
            Self.message("loss: [{type: l1, weight: two}]")
                == "config error: loss.0.weight: expected a number, found string 'two'")
    }

    @Test func parameterBounds() {
        #expect(
            Self.message("loss: [{type: huber, weight: 1, delta: 0}]")
                == "config error: loss.0.delta: must be > 0.0, got 0.0")
        #expect(
            Self.message("loss: [{type: mu_law_l1, weight: 1, mu: -5}]")
                == "config error: loss.0.mu: must be > 0.0, got -5.0")
    }

    @Test func theListMustExistAndHoldMappings() {
        #expect(
            Self.message("loss: []")
                == "config error: loss: must list at least one loss term; known types: clip_l1, histogram, hole_l1, huber, l1, moment, mse, mu_law_l1, mu_law_mse, pu21_l1, sparsity"
        )
        #expect(Self.message("other: 1") == "config error: loss: missing required key")
        #expect(Self.message("loss: {type: l1, weight: 1}") == "config error: loss: expected a list, found mapping")
        #expect(Self.message("loss: [l1]") == "config error: loss.0: expected a mapping, found string 'l1'")
    }
}
