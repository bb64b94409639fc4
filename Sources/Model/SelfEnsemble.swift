// `model.self_ensemble`: inference as the mean residual over flipped and transposed copies of the input
// (EDSR's self-ensemble, BasicSR's and KAIR's "x8" test mode).
import Config
import Numerics

/// How many of the eight dihedral transforms of a patch (`SelfEnsemble.Transform`) inference runs the network
/// on; the restored image is max(exp(log_image + mean of their residuals) - eps, 0), each residual clamped and
/// turned back before the mean. 1 is a single pass (`PatchModel.forward`). Training never reads it: the
/// training step is one pass, as always, and its augmentation already shows the network every transform.
package struct SelfEnsemble: Sendable, Equatable {
    /// 1, 2 (+ the left-right flip), 4 (+ the up-down flip and both), 8 (+ the transposes of those four).
    package static let allowed = [1, 2, 4, 8]
    /// The key this reads from the `model:` section.
    package static let keys = ["self_ensemble"]

    package var count: Int

    package init(count: Int = 1) {
        precondition(Self.allowed.contains(count), "SelfEnsemble: count \(count) is not 1, 2, 4 or 8")
        self.count = count
    }

    package static let single = SelfEnsemble()

    /// Reads `self_ensemble` (default 1) from the `model:` section.
    package init(config c: ConfigMapping) throws {
        self = try Self.read(c, key: "self_ensemble") ?? .single
    }

    /// The count at `key` of `c` (1, 2, 4 or 8), nil when the key is absent or null.
    /// - Throws: ConfigError at `key` for any other count.
    package static func read(_ c: ConfigMapping, key: String) throws -> SelfEnsemble? {
        guard let n: Int = try c.optional(key) else { return nil }
        guard allowed.contains(n) else { throw c.error(key, "must be 1, 2, 4 or 8 (got \(n))") }
        return SelfEnsemble(count: n)
    }

    /// `{self_ensemble}` for the resolved config, only when it is not 1 (so the configs of before resolve as
    /// they did).
    package var json: [String: JSONValue] { count == 1 ? [:] : ["self_ensemble": .integer(count)] }

    /// Transform `index` in 0..<8: bit 2 transposes H and W (first), bit 0 flips W, bit 1 flips H (then).
    package struct Transform: Sendable, Equatable {
        package var transpose: Bool
        package var flipW: Bool
        package var flipH: Bool

        package init(_ index: Int) {
            precondition((0..<8).contains(index), "SelfEnsemble.Transform: index \(index) not in 0..<8")
            transpose = index & 4 != 0
            flipW = index & 1 != 0
            flipH = index & 2 != 0
        }

        /// The transform that undoes this one: the same, except that after a transpose the flips trade axes
        /// (transposing, then flipping W, is flipping H, then transposing).
        package var inverse: Transform {
            var t = self
            if transpose { (t.flipW, t.flipH) = (flipH, flipW) }
            return t
        }
    }

    /// `x` (N, C, H, W) transformed: (N, C, W, H) when transposed, else (N, C, H, W).
    package static func apply(_ t: Transform, _ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "SelfEnsemble.apply: expected (N, C, H, W), got \(x.shape)")
        let (nc, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = t.transpose ? (w, h) : (h, w)
        var out = Tensor(zeros: [x.shape[0], x.shape[1], oh, ow])
        x.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for p in 0..<nc {
                    let s = p * h * w
                    let d = p * oh * ow
                    for i in 0..<oh {
                        // out[i, j] = x1[i', j'] with the flips undone, x1 = x or its transpose.
                        let i1 = t.flipH ? oh - 1 - i : i
                        for j in 0..<ow {
                            let j1 = t.flipW ? ow - 1 - j : j
                            dst[d + i * ow + j] = t.transpose ? src[s + j1 * w + i1] : src[s + i1 * w + j1]
                        }
                    }
                }
            }
        }
        return out
    }

    /// sum += the inverse of transform `t` applied to `y` (the transformed space's (N, C, H', W')); `sum` is
    /// (N, C, H, W) of the untransformed input.
    package static func addInverse(_ t: Transform, _ y: Tensor, into sum: inout Tensor) {
        let back = apply(t.inverse, y)
        precondition(back.shape == sum.shape, "SelfEnsemble.addInverse: \(y.shape) for \(sum.shape)")
        for i in sum.storage.indices { sum.storage[i] += back.storage[i] }
    }
}
