// The `residual:` config section: which scaling mode bounds the residual, and the safety clamp.
import Config

/// How tanh(p) is scaled into the log-domain residual delta (docs/conventions.md, "The residual-scaling
/// strategy").
package enum ResidualMode: Sendable, Equatable {
    /// Mode A: delta = alpha * cap * tanh(p) * scale.
    case fixedCap(cap: Float, alpha: Float)
    /// Mode B: delta = k * denom[n] * tanh(p) * scale, denom per sample from LogNorm (data, no gradient).
    case adaptive(k: Float)
    /// delta = s * tanh(p) * scale, s the trained scalar `head.scale`, initialised to `initial`.
    case learnable(initial: Float)

    package var name: String {
        switch self {
        case .fixedCap: return "fixed_cap"
        case .adaptive: return "adaptive"
        case .learnable: return "learnable"
        }
    }
}

package struct ResidualConfig: Sendable, Equatable {
    package var mode: ResidualMode
    /// Multiplies every mode's residual (default 1).
    package var scale: Float
    /// Safety clamp: delta = clamp(delta, -c, c); nil for none.
    package var clamp: Float?

    package init(mode: ResidualMode, scale: Float = 1, clamp: Float?) {
        self.mode = mode
        self.scale = scale
        self.clamp = clamp
    }

    /// The keys each mode reads; a key of another mode is a config error, not silently ignored.
    package static let modeKeys: [String: [String]] = [
        "fixed_cap": ["cap", "alpha"], "adaptive": ["k"], "learnable": ["learnable_init"]
    ]

    /// Reads `residual:`. `mode` and `clamp` are required (`clamp: null` disables it: say it, don't omit it);
    /// cap 6.0, alpha 1.0, k 0.9, scale 1.0, learnable_init 6.0 by default.
    package init(config c: ConfigMapping) throws {
        let modeName: String = try c.required("mode")
        guard let own = Self.modeKeys[modeName] else {
            throw c.error(
                "mode", "unknown mode '\(modeName)'; known: \(Self.modeKeys.keys.sorted().joined(separator: ", "))")
        }
        for (other, keys) in Self.modeKeys where other != modeName {
            for key in keys where c.contains(key) {
                throw c.error(key, "not used by mode \(modeName) (it belongs to mode \(other))")
            }
        }
        switch modeName {
        case "fixed_cap":
            mode = .fixedCap(
                cap: Float(try c.value("cap", default: 6.0, in: .greaterThan(0.0))),
                alpha: Float(try c.value("alpha", default: 1.0, in: .greaterThan(0.0))))
        case "adaptive":
            mode = .adaptive(k: Float(try c.value("k", default: 0.9, in: .greaterThan(0.0))))
        default:
            mode = .learnable(initial: Float(try c.value("learnable_init", default: 6.0, in: .greaterThan(0.0))))
        }
        scale = Float(try c.value("scale", default: 1.0, in: .greaterThan(0.0)))
        guard c.contains("clamp") else {
            throw c.error("clamp", "missing required key (a number, or null for no clamp)")
        }
        clamp = try c.optional("clamp", in: .greaterThan(0.0)).map(Float.init)
        try c.finish(known: own + ["mode", "scale", "clamp"])
    }
}
