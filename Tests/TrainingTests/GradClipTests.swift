// Global-norm clipping: above and below the threshold, the returned norm, and the grad_clip key.
import Config
import Numerics
import Testing

@testable import Training

@Suite struct GradClipTests {
    func store345() throws -> ParameterStore {
        let s = try ParameterStore(layout: [("a", [1]), ("b", [1])])
        s.grads[0] = 3
        s.grads[1] = 4  // norm 5 across two parameters
        return s
    }

    @Test func clipsAboveThresholdAndReturnsNormBefore() throws {
        let s = try store345()
        let norm = clipGradNorm(s, maxNorm: 1)
        #expect(norm == 5)
        let c = Float(1 / (5 + 1e-6))
        #expect(s.grads[0] == 3 * c && s.grads[1] == 4 * c)
        #expect(abs(globalGradNorm(s) - 1) < 1e-6)
    }

    @Test func leavesGradsBelowThresholdUntouched() throws {
        let s = try store345()
        #expect(clipGradNorm(s, maxNorm: 10) == 5)
        #expect(s.grads[0] == 3 && s.grads[1] == 4)
        // At the threshold the 1e-6 makes coef < 1: torch clips by a hair there too.
        #expect(clipGradNorm(s, maxNorm: 5) == 5)
        #expect(s.grads[0] < 3)
    }

    @Test func nonFiniteNormLeavesGradsForTheCallerToSkip() throws {
        let s = try store345()
        s.grads[1] = .nan
        #expect(clipGradNorm(s, maxNorm: 1).isNaN)
        #expect(s.grads[0] == 3)
    }

    @Test func gradClipKey() throws {
        #expect(try GradClip.maxNorm(from: StrictYAML.parse("grad_clip: 1.5")) == 1.5)
        #expect(try GradClip.maxNorm(from: StrictYAML.parse("grad_clip: null")) == nil)
        #expect(
            configMessage { try GradClip.maxNorm(from: StrictYAML.parse("steps: 3")) }
                == "config error: grad_clip: missing required key (a max norm > 0, or null for no clipping)")
        #expect(
            configMessage { try GradClip.maxNorm(from: StrictYAML.parse("grad_clip: -1")) }
                == "config error: grad_clip: must be > 0.0, got -1.0")
    }
}
