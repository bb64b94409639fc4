// SGD checked by hand: plain, with weight decay, with momentum (first step copies the gradient).
import Numerics
import Testing

@testable import Training

@Suite struct SGDTests {
    func store(_ values: [Float], slots: Int) throws -> ParameterStore {
        let s = try ParameterStore(layout: [("w", [values.count])], stateSlots: slots)
        for (i, x) in values.enumerated() { s.values[i] = x }
        return s
    }

    @Test func plainStepIsMinusLrTimesGrad() throws {
        let s = try store([1, -2], slots: 0)
        s.grads[0] = 0.5
        s.grads[1] = -0.25
        let opt = SGD(lr: 0.5)
        #expect(opt.stateSlots == 0 && opt.stateNames.isEmpty)
        opt.step(s, lr: 0.5)
        #expect(s.values[0] == 0.75 && s.values[1] == -1.875)
        #expect(s.grads[0] == 0.5, "grads are not modified")
    }

    @Test func weightDecayAddsWdTimesParameter() throws {
        let s = try store([2], slots: 0)
        s.grads[0] = 1
        SGD(lr: 0.25, weightDecay: 0.5).step(s, lr: 0.25)
        // d = 1 + 0.5*2 = 2; p = 2 - 0.25*2 = 1.5
        #expect(s.values[0] == 1.5)
    }

    @Test func momentumBufferStartsAsGradientThenAccumulates() throws {
        let s = try store([1], slots: 1)
        let opt = SGD(lr: 0.5, momentum: 0.5)
        #expect(opt.stateSlots == 1 && opt.stateNames == ["momentum_buffer"])
        s.grads[0] = 1
        opt.step(s, lr: 0.5)  // buf = 1; p = 1 - 0.5 = 0.5
        #expect(s.state(0)[0] == 1 && s.values[0] == 0.5)
        s.grads[0] = 2
        opt.step(s, lr: 0.5)  // buf = 0.5*1 + 2 = 2.5; p = 0.5 - 1.25 = -0.75
        #expect(s.state(0)[0] == 2.5 && s.values[0] == -0.75)
        s.grads[0] = 0
        opt.step(s, lr: 0.25)  // buf = 1.25; p = -0.75 - 0.3125 = -1.0625
        #expect(s.state(0)[0] == 1.25 && s.values[0] == -1.0625)
        #expect(opt.stepCount == 3)
    }

    @Test func momentumWithWeightDecay() throws {
        let s = try store([4], slots: 1)
        let opt = SGD(lr: 0.125, momentum: 0.5, weightDecay: 0.25)
        s.grads[0] = 1
        opt.step(s, lr: 0.125)  // d = 1 + 1 = 2; buf = 2; p = 4 - 0.25 = 3.75
        #expect(s.values[0] == 3.75)
        opt.step(s, lr: 0.125)  // d = 1 + 0.9375 = 1.9375; buf = 1 + 1.9375 = 2.9375; p = 3.75 - 0.3671875
        #expect(s.state(0)[0] == 2.9375 && s.values[0] == 3.3828125)
    }
}
