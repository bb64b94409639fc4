// Camera response curves (linear light <-> code value on [0, 1]) and their exact inverses.
import Glibc

package enum CameraResponse: Sendable, Equatable {
    /// IEC 61966-2-1 sRGB: the piecewise OETF with a linear toe, and its EOTF.
    case srgb
    /// Pure power law: code = x^(1/gamma).
    case gamma(Double)

    /// Linear [0, 1] -> code value [0, 1].
    package func encode(_ x: Double) -> Double {
        switch self {
        case .srgb: return x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055
        case .gamma(let g): return pow(x, 1 / g)
        }
    }

    /// Code value [0, 1] -> linear [0, 1].
    package func decode(_ v: Double) -> Double {
        switch self {
        case .srgb: return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
        case .gamma(let g): return pow(v, g)
        }
    }
}
