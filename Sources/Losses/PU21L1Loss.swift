// L1 between PU21-encoded output and target, with each image scaled to absolute luminance.
import Glibc
import Numerics

/// Per sample: s = 4000 / max(target's C*H*W values), a constant (no gradient): the target's brightest value
/// becomes 4000 cd/m^2, a bright HDR display's peak. If that maximum is <= 0 (an all-black target) s = 1
/// instead, so the term stays finite (no division by 0, no NaN); the output is still compared in
/// the clamped range. Y(x) = clamp(s x, 0.005, 10000), each of R, G, B read as an absolute luminance;
/// zero gradient strictly outside the range, passed at the bounds (torch.clamp).
/// Value: mean over all N*C*H*W elements of |V(Y(output)) - V(Y(target))| with V = `PU21.encode`, in PU units
/// (V spans about 0 to 595, so pick the weight accordingly), accumulated in Double.
/// Chain to delta: d output / d delta = output + eps. Per-element math in Double (V is O(100) and its
/// differences are small; float32 would lose them to cancellation).
package struct PU21L1Loss: ParameterlessLossTerm {
    package static let type = "pu21_l1"
    package var domain: LossDomain { .pu21 }
    /// The luminance the target's maximum is scaled to, cd/m^2.
    package static let peakLuminance = 4000.0

    package init() {}

    /// The scale to absolute luminance of one target sample: 4000 / max, or 1 when max <= 0.
    static func luminanceScale(_ target: some Collection<Float>) -> Double {
        var mx = -Float.infinity
        for v in target { mx = max(mx, v) }
        return mx > 0 ? peakLuminance / Double(mx) : 1
    }

    package func evaluate(_ inputs: LossInputs, weight: Double, gradDelta: inout Tensor) -> Double {
        meanOverOutputSamples(inputs, weight: weight, gradDelta: &gradDelta, term: Self.type) { b in
            SampleJob(b: b)
        }
    }

    /// One sample: its luminance scale, then every element's penalty and gradient.
    private struct SampleJob: SampleSumJob {
        let b: OutputTermBuffers

        func sample(_ s: Int, part _: Int) -> Double {
            let r = (s * b.sampleCount)..<((s + 1) * b.sampleCount)
            let lo = PU21.minLuminance
            let hi = PU21.maxLuminance
            let lum = PU21L1Loss.luminanceScale(b.target[r])
            var sum = 0.0
            for i in r {
                let x = Double(b.output[i])
                let yo = lum * x
                let inside = yo >= lo && yo <= hi
                let (vo, slope) = PU21.encodeWithSlope(min(max(yo, lo), hi))
                let vt = PU21.encode(min(max(lum * Double(b.target[i]), lo), hi))
                let e = vo - vt
                sum += abs(e)
                if inside { b.gradDelta[i] += Float(b.scale * torchSign(e) * slope * lum * (x + b.eps)) }
            }
            return sum
        }
    }
}
