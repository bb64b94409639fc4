// Every schedule at its key steps: 0, warmup-1, warmup, middle, last; and their config.
import Config
import Foundation
import Testing

@testable import Training

@Suite struct ScheduleTests {
    let base = 0.1, total = 110, warmup = 10

    @Test func constantWithWarmup() {
        let s = ConstantSchedule(warmupSteps: warmup)
        #expect(s.lr(step: 0, base: base, totalSteps: total) == base / 10)
        #expect(s.lr(step: 4, base: base, totalSteps: total) == base * 5 / 10)
        #expect(s.lr(step: 9, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 10, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 60, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 109, base: base, totalSteps: total) == base)
    }

    @Test func constantWithoutWarmupStartsAtBase() {
        #expect(ConstantSchedule().lr(step: 0, base: base, totalSteps: 5) == base)
    }

    @Test func cosineFromBaseToMin() {
        let s = CosineSchedule(warmupSteps: warmup, minLR: 0.01)
        #expect(s.lr(step: 0, base: base, totalSteps: total) == base / 10)
        #expect(s.lr(step: 9, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 10, base: base, totalSteps: total) == base)
        // Middle: t - w = 50 of T - w = 100, cos(pi/2) = 0, halfway between base and min.
        #expect(abs(s.lr(step: 60, base: base, totalSteps: total) - 0.055) < 1e-15)
        // Last update t = T - 1: one step short of min.
        let last = 0.01 + 0.045 * (1 + cos(Double.pi * 99 / 100))
        #expect(s.lr(step: 109, base: base, totalSteps: total) == last)
        #expect(abs(s.lr(step: 110, base: base, totalSteps: total) - 0.01) < 1e-15)
    }

    @Test func cosineWithNoStepsAfterWarmupDoesNotDivideByZero() {
        let s = CosineSchedule(warmupSteps: 5)
        #expect(s.lr(step: 5, base: base, totalSteps: 5) == base)
    }

    @Test func stepDecaysEveryStepSizeAfterWarmup() {
        let s = StepSchedule(warmupSteps: warmup, stepSize: 30, gamma: 0.5)
        #expect(s.lr(step: 0, base: base, totalSteps: total) == base / 10)
        #expect(s.lr(step: 9, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 10, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 39, base: base, totalSteps: total) == base)
        #expect(s.lr(step: 40, base: base, totalSteps: total) == base * 0.5)
        #expect(s.lr(step: 60, base: base, totalSteps: total) == base * 0.5)
        #expect(s.lr(step: 109, base: base, totalSteps: total) == base * 0.125)
    }

    @Test func fromConfig() throws {
        let c = try Schedules.make(StrictYAML.parse("type: cosine\nwarmup_steps: 3\nmin_lr: 0.001"))
        #expect(c.warmupSteps == 3 && (c as? CosineSchedule)?.minLR == 0.001)
        let s = try Schedules.make(StrictYAML.parse("type: step\nstep_size: 7\ngamma: 0.1"))
        #expect((s as? StepSchedule)?.stepSize == 7 && s.warmupSteps == 0)
        #expect(try Schedules.make(StrictYAML.parse("type: constant")) is ConstantSchedule)
        #expect(
            s.parameters == [
                "type": .string("step"), "warmup_steps": .integer(0), "step_size": .integer(7),
                "gamma": .number(0.1)
            ])
    }

    @Test func configErrors() {
        #expect(
            configMessage { try Schedules.make(StrictYAML.parse("type: linear")) }
                == "config error: type: unknown schedule 'linear'; known: constant, cosine, step")
        #expect(
            configMessage { try Schedules.make(StrictYAML.parse("type: constant\nmin_lr: 0.1")) }
                == "config error: min_lr: unknown key; known keys: type, warmup_steps")
        #expect(
            configMessage { try Schedules.make(StrictYAML.parse("type: step\ngamma: 0.5")) }
                == "config error: step_size: missing required key")
        #expect(
            configMessage { try Schedules.make(StrictYAML.parse("type: cosine\nwarmup_step: 5")) }
                == "config error: warmup_step: unknown key (did you mean 'warmup_steps'?)")
        #expect(
            configMessage { try Schedules.make(StrictYAML.parse("type: constant\nwarmup_steps: -1")) }
                == "config error: warmup_steps: must be >= 0, got -1")
    }
}
