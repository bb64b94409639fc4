// `--set key.path=value`: list items by index, null, nested creation, flow values, order, and validation of the
// overridden value exactly like file content.
import Config
import Data
import Model
import Testing

@testable import Training

@Suite struct TrainConfigOverrideTests {
    let fx = TrainConfigFixture()

    @Test func listItemByIndex() throws {
        let c = try fx.parse(["loss.0.weight=3", "loss.0.delta=0.5"])
        #expect(c.loss.terms[0].weight == 3)
        #expect(
            c.loss.json == .array([.object(["type": .string("huber"), "weight": .number(3), "delta": .number(0.5)])]))
    }

    @Test func nullTurnsAnOptionalOff() throws {
        #expect(try fx.parse(["residual.clamp=null"]).residual.clamp == nil)
        #expect(try fx.parse(["residual.clamp=~"]).residual.clamp == nil)
        #expect(try fx.parse(["train.init_from=\(fx.weights)", "train.init_from=null"]).train.initFrom == nil)
    }

    @Test func missingIntermediateMappingsAreCreated() throws {
        let c = try fx.parse(["schedule.type=cosine", "monitor.saturation=0.9", "data.augment.rot90=false"])
        let s = try #require(c.schedule as? CosineSchedule)
        #expect(s.warmupSteps == 0 && s.minLR == 0)
        #expect(c.monitor.saturation == 0.9 && c.monitor.overflowLimit == 65504)
        #expect(c.data.augment == LoaderConfig.Augment(flipH: true, flipV: true, rot90: false))
    }

    /// `schedule:` with nothing after it is null: a path through it makes it a mapping; without an override
    /// it is a type error (a section is a mapping or absent).
    @Test func nullIntermediateBecomesAMapping() throws {
        let text = fx.minimal + "\nschedule:\n"
        let c = try TrainConfig.parse(
            text: text, overrides: ["schedule.type=step", "schedule.step_size=5", "schedule.gamma=0.5"])
        let s = try #require(c.schedule as? StepSchedule)
        #expect(s.stepSize == 5 && s.gamma == 0.5)
        #expect(
            configMessage { try TrainConfig.parse(text: text) }
                == "config error: schedule: expected a mapping, found null")
    }

    @Test func flowValuesReplaceWholeSections() throws {
        let c = try fx.parse(["model={arch: unet, width: 8}", "data.augment.flip_h=false"])
        #expect(c.model == .unet(width: 8, levels: 2))
        #expect(c.data.augment.flipH == false)
        let l = try fx.parse(["loss=[{type: l1, weight: 1}, {type: sparsity, weight: 0.1}]"])
        #expect(l.loss.terms.map(\.name) == ["l1", "sparsity"])
    }

    @Test func laterOverridesWinAndValuesMayContainEquals() throws {
        let c = try fx.parse(["seed=1", "seed=2", "name=a=b"])
        #expect(c.seed == 2 && c.name == "a=b")
    }

    /// An override is decoded like the file: its type and range are checked, and a new key is an unknown key.
    @Test func overriddenValuesAreValidated() {
        #expect(fx.message(["train.steps=ten"]) == "config error: train.steps: expected an integer, found string 'ten'")
        #expect(fx.message(["residual.clamp=-1"]) == "config error: residual.clamp: must be > 0.0, got -1.0")
        #expect(
            fx.message(["data.augment.flip_h=maybe"])
                == "config error: data.augment.flip_h: expected a boolean, found string 'maybe'")
        #expect(
            fx.message(["model={arch: unet, width: 8, depth: 3}"])
                == "config error: model.depth: not used by arch unet (it belongs to arch plain)")
        #expect(
            fx.message(["data.newkey=1"])
                == "config error: data.newkey: unknown key; known keys: augment, batch_size, cache, denom_floor, eps, patch_size, prefetch, samples_per_epoch, strict, test, train, val, val_mode, workers"
        )
    }

    @Test func parsedForm() throws {
        let o = try ConfigOverride(parsing: "loss.0.weight=2")
        #expect(o.path == ["loss", "0", "weight"] && o.valueText == "2" && o.argument == "loss.0.weight=2")
        #expect(
            fx.message(["loss.-1.weight=2"])
                == "config error: --set loss.-1.weight: 'loss' is a list; '-1' is not an item index")
        #expect(
            fx.message(["loss.0.weight.x=2"])
                == "config error: --set loss.0.weight.x: 'loss.0.weight' is a number, not a mapping or list")
    }
}
