// Recipes: the step registry's errors, parsing of every step's keys, determinism, and the default recipe's effect.
import Config
import EXRIO
import Foundation
import Numerics
import Testing

@testable import Data

/// configs/degrade/<name> in this checkout.
func recipePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs/degrade/\(name)").path
}

struct SynthRecipeTests {
    func message(_ yaml: String) -> String {
        do {
            _ = try DegradationRecipe.parse(yaml)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func unknownStepTypeListsTheKnownTypes() {
        #expect(
            message("name: x\nsteps:\n  - type: blurr\n    sigma: 1\n")
                == "config error: steps.0.type: unknown degradation step 'blurr' (did you mean 'blur'?); known: blur, clip, crf_quantize, exposure, lights, noise, shift, zoom"
        )
        #expect(
            message("name: x\nsteps:\n  - type: jpeg\n")
                == "config error: steps.0.type: unknown degradation step 'jpeg'; known: blur, clip, crf_quantize, exposure, lights, noise, shift, zoom"
        )
        #expect(
            DegradationSteps.registry.types == [
                "blur", "clip", "crf_quantize", "exposure", "lights", "noise", "shift", "zoom"
            ])
    }

    @Test func duplicateRegistrationsFail() {
        #expect(throws: RegistryError(description: "duplicate degradation step type 'clip' in the registry")) {
            try Registry<any DegradationStep>(
                kind: "degradation step", [ClipStep.registryEntry, ClipStep.registryEntry])
        }
    }

    @Test func unknownMissingAndBadKeysNameTheirPath() {
        #expect(
            message("name: x\nsteps:\n  - type: exposure\n  - type: blur\n    sigmaa: 1\n")
                == "config error: steps.1.sigma: missing required key")
        #expect(
            message("name: x\nsteps:\n  - type: blur\n    sigma: 1\n    sigmaa: 1\n")
                == "config error: steps.0.sigmaa: unknown key (did you mean 'sigma'?)")
        #expect(message("name: x\nsteps:\n  - sigma: 1\n") == "config error: steps.0.type: missing required key")
        #expect(
            message("name: x\nstepz: []\nsteps: []\n") == "config error: stepz: unknown key (did you mean 'steps'?)")
        #expect(message("steps: []\n") == "config error: name: missing required key")
        #expect(
            message("name: x\nsteps:\n  - type: noise\n    photons_at_white: 0\n")
                == "config error: steps.0.photons_at_white: must be > 0.0, got 0.0")
        #expect(
            message("name: x\nsteps:\n  - type: crf_quantize\n    curve: gamma\n")
                == "config error: steps.0.gamma: missing required key")
        #expect(
            message("name: x\nsteps:\n  - type: crf_quantize\n    curve: srgb\n    gamma: 2.2\n")
                == "config error: steps.0.gamma: only used with curve 'gamma', not 'srgb'")
        #expect(
            message("name: x\nsteps:\n  - type: crf_quantize\n    curve: log\n")
                == "config error: steps.0.curve: unknown curve 'log'; known: gamma, srgb")
        #expect(
            message("name: x\nsteps:\n  - type: clip\n    white: 1\n    whitte: 2\n")
                == "config error: steps.0.whitte: unknown key (did you mean 'white'?)")
        #expect(
            message("name: x\nsteps:\n  - type: shift\n    max_shift: 1\n    max_rotation: 2\n")
                == "config error: steps.0.max_rotation: unknown key; known keys: max_rotation_deg, max_scale, max_shift, type"
        )
    }

    @Test func everyStepParsesItsKeysAndReportsThemWithDefaults() throws {
        let r = try DegradationRecipe.parse(
            """
            name: all
            steps:
              - type: exposure
              - type: noise
                photons_at_white: 2000
              - type: clip
              - type: crf_quantize
                curve: gamma
                gamma: 2.2
                bits: 10
              - type: blur
                sigma: 0.5
              - type: shift
                max_shift: 0.5
              - type: zoom
                factor: 2
              - type: lights
                radius: 3
                peak: 100
                falloff: 2
            """)
        #expect(
            r.json
                == .object([
                    "name": .string("all"),
                    "steps": .array([
                        .object(["type": .string("exposure"), "percentile": .number(50), "value": .number(0.18)]),
                        .object(["type": .string("noise"), "photons_at_white": .number(2000), "read_sigma": .number(0)]
                        ),
                        .object(["type": .string("clip"), "white": .number(1)]),
                        .object([
                            "type": .string("crf_quantize"), "curve": .string("gamma"), "gamma": .number(2.2),
                            "bits": .integer(10)
                        ]),
                        .object(["type": .string("blur"), "sigma": .number(0.5)]),
                        .object([
                            "type": .string("shift"), "max_shift": .number(0.5), "max_rotation_deg": .number(0),
                            "max_scale": .number(0)
                        ]),
                        .object(["type": .string("zoom"), "factor": .number(2)]),
                        .object([
                            "type": .string("lights"), "probability": .number(1), "count": .integer(1),
                            "radius": .number(3), "peak": .number(100), "falloff": .number(2), "aspect": .number(1)
                        ])
                    ])
                ]))
        // Each step's declared keys are exactly the parameters it reports (so the manifest records every key);
        // exposure has two modes, each reporting its own keys.
        for step in r.steps {
            let keys = Set(type(of: step).keys)
            let reported = Set(step.parameters.keys)
            if step is ExposureStep {
                let other = Set(ExposureStep(clipFraction: ParameterRange(0.1)).parameters.keys)
                let image = Set(ExposureStep(clipFraction: ParameterRange(0.1), over: .image).parameters.keys)
                #expect(reported == ["percentile", "value"] && other == ["clip_fraction", "white"])
                #expect(image == ["clip_fraction", "white", "over"])
                #expect(reported.union(other).union(image) == keys)
            } else {
                #expect(keys == reported, "\(type(of: step).type)")
            }
        }
        #expect(Set(r.steps.map { type(of: $0).type }) == Set(DegradationSteps.registry.types))
    }

    @Test func emptyStepsGiveTheCleanImageTwice() throws {
        let r = try DegradationRecipe.parse("name: none\nsteps: []\n")
        let clean = testImage(width: 8, height: 8, seed: 1)
        let (input, target) = r.apply(clean: clean, seed: 3, pair: 0)
        #expect(input == clean && target == clean)
    }

    @Test func samePairSameSeedIsIdenticalAndOtherSeedsOrPairsDiffer() throws {
        let r = try DegradationRecipe.load(path: recipePath("misaligned.yaml"))
        let clean = testImage(width: 24, height: 16, seed: 2)
        let a = r.apply(clean: clean, seed: 7, pair: 4)
        let b = r.apply(clean: clean, seed: 7, pair: 4)
        #expect(a.input == b.input && a.target == b.target)
        #expect(r.apply(clean: clean, seed: 8, pair: 4).input != a.input)
        #expect(r.apply(clean: clean, seed: 7, pair: 5).input != a.input)
        #expect(r.apply(clean: clean, seed: 8, pair: 4).target == a.target)  // the target has no randomness
    }

    @Test func defaultRecipeIsAPhoneCaptureWithManyStopsOfHeadroom() throws {
        let r = try DegradationRecipe.load(path: recipePath("default.yaml"))
        #expect(r.name == "phone")
        #expect(r.steps.map { type(of: $0).type } == ["exposure", "noise", "clip", "crf_quantize"])
        let scene = ProceduralScene.render(width: 512, height: 256, seed: 1)
        let (input, target) = r.apply(clean: scene, seed: 1, pair: 0)
        let inMax = Double(input.pixels.max()!)
        let targetMax = Double(target.pixels.max()!)
        #expect(inMax <= 1)
        #expect(log2(targetMax / inMax) >= 4, "target max \(targetMax), input max \(inMax)")
        #expect(abs(ExposureStep.luminancePercentile(target, 50) - 0.18) < 1e-6)
        // 8-bit sRGB: at most 256 distinct values per channel in the input.
        #expect(Set(input.pixels).count <= 256)
        #expect(
            input.pixels.allSatisfy { $0.isFinite && $0 >= 0 } && target.pixels.allSatisfy { $0.isFinite && $0 >= 0 })
    }

    @Test func misalignedRecipeLoads() throws {
        let r = try DegradationRecipe.load(path: recipePath("misaligned.yaml"))
        #expect(r.steps.map { type(of: $0).type } == ["exposure", "blur", "shift", "noise", "clip", "crf_quantize"])
    }

    @Test func lightsRecipeAddsItsLightsBeforeItExposes() throws {
        let r = try DegradationRecipe.load(path: recipePath("online_median_lights.yaml"))
        #expect(r.steps.map { type(of: $0).type } == ["lights", "exposure", "noise", "clip", "crf_quantize"])
        let lights = try #require(r.steps[0] as? LightsStep)
        #expect(lights.probability == 0.5 && lights.count == 1...2)
    }

    @Test func everyCommittedRecipeLoads() throws {
        let directory = URL(fileURLWithPath: recipePath(""))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 8)
        for file in files {
            let r = try DegradationRecipe.load(path: directory.appendingPathComponent(file).path)
            #expect(!r.name.isEmpty, "\(file)")
        }
    }

    @Test func zoomedRecipeMagnifiesBeforeItExposes() throws {
        let r = try DegradationRecipe.load(path: recipePath("online_median_zoom.yaml"))
        #expect(r.steps.map { type(of: $0).type } == ["zoom", "exposure", "noise", "clip", "crf_quantize"])
        #expect(r.steps[0].parameters["factor"] == .array([.number(1), .number(4)]))
    }
}
