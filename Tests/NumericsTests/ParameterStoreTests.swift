// The store's regions and named views address one contiguous buffer without overlap.
import Testing

@testable import Numerics

struct ParameterStoreTests {
    @Test func regionsAndViewsAreDisjointAndNamed() throws {
        let s = try ParameterStore(layout: [("a.weight", [2, 3]), ("a.bias", [2]), ("head.scale", [])], stateSlots: 2)
        #expect(s.count == 9 && s.entries.map(\.offset) == [0, 6, 8])
        let b = try #require(s.entry(named: "a.bias"))
        s.values(b)[1] = 5
        s.grads(b)[0] = 7
        s.state(1)[8] = 3
        #expect(s.values[7] == 5 && s.grads[6] == 7 && s.state(1)[8] == 3)
        #expect(s.values.reduce(0, +) == 5 && s.state(0).reduce(0, +) == 0)
        s.zeroGrads()
        #expect(s.grads.allSatisfy { $0 == 0 } && s.values[7] == 5)
    }

    @Test func badLayoutsAreRefused() {
        #expect(throws: ParameterStoreError("duplicate parameter name 'x'")) {
            try ParameterStore(layout: [("x", [1]), ("x", [2])])
        }
        #expect(throws: ParameterStoreError("parameter with an empty name")) { try ParameterStore(layout: [("", [1])]) }
    }
}
