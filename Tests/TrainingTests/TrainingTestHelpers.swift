// Shared by the training tests: small stores with deterministic values and gradients.
import Config
import Foundation
import Numerics

@testable import Training

/// Two parameters, (2, 3) and (4,), 10 floats; values bounded away from 0 so relative errors stay meaningful.
func smallStore(stateSlots: Int) throws -> ParameterStore {
    let s = try ParameterStore(layout: [("layers.0.weight", [2, 3]), ("layers.0.bias", [4])], stateSlots: stateSlots)
    for i in 0..<s.count { s.values[i] = Float((i % 2 == 0 ? 1.0 : -1.0) * (0.4 + 0.13 * Double(i))) }
    return s
}

/// Gradient of element i at step t: deterministic, sign-changing, different scales per element.
func gradient(_ i: Int, _ t: Int) -> Float {
    Float(cos(0.7 * Double(i) + 1.1 * Double(t)) * (0.1 + 0.05 * Double(i)))
}

func setGrads(_ s: ParameterStore, step t: Int) {
    for i in 0..<s.count { s.grads[i] = gradient(i, t) }
}

/// The golden runs' start values and gradients (see the PyTorch snippet in OptimizerParityTests).
let goldenStart: [Float] = [1.0, -0.75, 0.5, 2.0, -1.5, 0.25]
func goldenGrad(_ i: Int, _ t: Int) -> Float {
    Float(0.5 * Double(i + 1) * ((i + t) % 2 == 0 ? 1 : -1) - 0.1 * Double(t))
}

func bits(_ b: UnsafeMutableBufferPointer<Float>) -> [UInt32] { b.map(\.bitPattern) }

/// The printed ConfigError `body` throws, or a note that it threw something else or nothing.
func configMessage(_ body: () throws -> Any?) -> String {
    do {
        _ = try body()
        return "no error"
    } catch let e as ConfigError {
        return e.description
    } catch {
        return "other error: \(error)"
    }
}
