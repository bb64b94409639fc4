// Distribution matching of residuals by their first two moments, per sample.
import Numerics

/// Per sample s with M = C*H*W values: term_s = |mean_p - mean_g| + |var_p - var_g|, population variance
/// (divide by M, two passes in Double); value = mean over the batch of term_s.
///
/// Gradient w.r.t. pred element i of sample s: (sign(mean_p - mean_g) + sign(var_p - var_g) * 2 (p_i - mean_p)) / (M N)
/// (the mean's own dependence on p_i cancels in d var / d p_i because the deviations sum to 0).
/// gt carries no gradient.
package struct MomentLoss: ParameterlessLossTerm {
    package static let type = "moment"
    package var domain: LossDomain { .delta }

    package init() {}

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        inputs.checkShapes(gradDelta, term: Self.type)
        let n = inputs.delta.shape[0]
        let m = inputs.delta.sampleCount
        let scale = weight / Double(m * n)
        var batchSum = 0.0
        inputs.delta.storage.withUnsafeBufferPointer { p in
            inputs.gtDelta.storage.withUnsafeBufferPointer { t in
                gradDelta.storage.withUnsafeMutableBufferPointer { g in
                    for s in 0..<n {
                        let r = (s * m)..<((s + 1) * m)
                        let (mp, vp) = Self.meanAndVariance(p, r)
                        let (mg, vg) = Self.meanAndVariance(t, r)
                        batchSum += abs(mp - mg) + abs(vp - vg)
                        let meanSlope = scale * torchSign(mp - mg)
                        let varSlope = scale * 2 * torchSign(vp - vg)
                        for i in r { g[i] += Float(meanSlope + varSlope * (Double(p[i]) - mp)) }
                    }
                }
            }
        }
        return batchSum / Double(n)
    }

    /// Mean and population variance of `x[range]`, both in Double; two passes, so a large mean does not
    /// cancel the variance away.
    static func meanAndVariance(_ x: UnsafeBufferPointer<Float>, _ range: Range<Int>) -> (Double, Double) {
        var sum = 0.0
        for i in range { sum += Double(x[i]) }
        let mean = sum / Double(range.count)
        var sq = 0.0
        for i in range {
            let d = Double(x[i]) - mean
            sq += d * d
        }
        return (mean, sq / Double(range.count))
    }
}
