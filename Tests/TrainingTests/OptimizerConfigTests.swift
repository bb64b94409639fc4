// optim: mappings through the registry: defaults, every key, and the exact error messages.
import Config
import Testing

@testable import Training

@Suite struct OptimizerConfigTests {
    @Test func adamWDefaultsAreTorchs() throws {
        let o = try Optimizers.make(StrictYAML.parse("type: adamw\nlr: 0.001"))
        let a = try #require(o as? AdamW)
        #expect(a.baseLR == 0.001 && a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8 && a.weightDecay == 0.01)
        #expect(a.stateSlots == 2 && a.stateNames == ["exp_avg", "exp_avg_sq"])
        #expect(a.parameters["betas"] == .array([.number(0.9), .number(0.999)]))
    }

    @Test func everyKey() throws {
        let a = try #require(
            try Optimizers.make(
                StrictYAML.parse(
                    "type: adamw\nlr: 3.0e-4\nbetas: [0.8, 0.99]\neps: 1.0e-6\nweight_decay: 0")) as? AdamW)
        #expect(a.beta1 == 0.8 && a.beta2 == 0.99 && a.eps == 1e-6 && a.weightDecay == 0)
        let s = try #require(
            try Optimizers.make(StrictYAML.parse("type: sgd\nlr: 0.1\nmomentum: 0.9\nweight_decay: 1.0e-4")) as? SGD)
        #expect(s.baseLR == 0.1 && s.momentum == 0.9 && s.weightDecay == 1e-4 && s.stateSlots == 1)
        let plain = try #require(try Optimizers.make(StrictYAML.parse("type: sgd\nlr: 0.1")) as? SGD)
        #expect(plain.momentum == 0 && plain.weightDecay == 0 && plain.stateSlots == 0)
    }

    @Test func errors() {
        func msg(_ yaml: String) -> String { configMessage { try Optimizers.make(StrictYAML.parse(yaml)) } }
        #expect(
            msg("type: adam\nlr: 0.1")
                == "config error: type: unknown optimizer 'adam' (did you mean 'adamw'?); known: adamw, sgd")
        #expect(msg("type: rmsprop\nlr: 0.1") == "config error: type: unknown optimizer 'rmsprop'; known: adamw, sgd")
        #expect(msg("type: adamw") == "config error: lr: missing required key")
        #expect(
            msg("type: sgd\nlr: 0.1\nnesterov: true")
                == "config error: nesterov: unknown key; known keys: lr, momentum, type, weight_decay")
        #expect(
            msg("type: adamw\nlr: 0.1\nbeta: [0.9, 0.99]") == "config error: beta: unknown key (did you mean 'betas'?)")
        #expect(msg("type: adamw\nlr: 0.1\nbetas: [0.9]") == "config error: betas: expected a list of 2 numbers, got 1")
        #expect(
            msg("type: adamw\nlr: 0.1\nbetas: [0.9, 1.0]")
                == "config error: betas: each beta must be in [0, 1), got 1.0")
        #expect(msg("type: sgd\nlr: 0") == "config error: lr: must be > 0.0, got 0.0")
        #expect(msg("lr: 0.1") == "config error: type: missing required key")
    }
}
