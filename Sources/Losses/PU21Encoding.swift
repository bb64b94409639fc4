// PU21 perceptually uniform encoding of absolute luminance (Mantiuk & Azimi, PCS 2021), banding_glare variant.
import Glibc

/// V(Y) = p7 * (((p1 + p2 Y^p4) / (1 + p3 Y^p4))^p5 - p6) for Y in cd/m^2, clamped to [0.005, 10000].
/// V runs from about 0 (at 0.005) to about 595 (at 10000).
///
/// Parameters: `banding_glare`, the type the authors recommend, from gfxdisp/pu21 `matlab/pu21_encoder.m`
/// (identical in `pytorch/pu21_encoder.py`; "parameters were updated on 06/02/2020").
/// Evaluated in Double.
package enum PU21 {
    /// (p1, ..., p7) of `banding_glare`.
    package static let parameters: [Double] = [
        0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627, 0.09150303166, 0.9099517204, 596.3148142
    ]
    package static let minLuminance = 0.005
    package static let maxLuminance = 10000.0

    private static let p1 = parameters[0], p2 = parameters[1], p3 = parameters[2], p4 = parameters[3]
    private static let p5 = parameters[4], p6 = parameters[5], p7 = parameters[6]

    /// V(Y) of a luminance already inside [minLuminance, maxLuminance] (no clamping here).
    package static func encode(_ y: Double) -> Double {
        let u: Double = pow(y, p4)
        let r: Double = (p1 + p2 * u) / (1 + p3 * u)
        return p7 * (pow(r, p5) - p6)
    }

    /// V(Y) and dV/dY for Y > 0 inside the range.
    /// With u = Y^p4 and r = (p1 + p2 u) / (1 + p3 u): dV/dY = p7 p5 r^(p5-1) * (p2 - p1 p3) / (1 + p3 u)^2 * p4 u / Y.
    package static func encodeWithSlope(_ y: Double) -> (value: Double, slope: Double) {
        let u: Double = pow(y, p4)
        let den: Double = 1 + p3 * u
        let r: Double = (p1 + p2 * u) / den
        let rp: Double = pow(r, p5)
        let value: Double = p7 * (rp - p6)
        let dVdr: Double = p7 * p5 * (rp / r)
        let drdu: Double = (p2 - p1 * p3) / (den * den)
        let slope: Double = dVdr * drdu * p4 * u / y
        return (value, slope)
    }
}
