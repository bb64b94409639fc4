// The `model:` config section: which patch network, and its size.
import Config
import Numerics

/// `arch: plain` (keys `depth` default 5, `width` default 32, `conv_algorithm` default auto) or `arch: unet`
/// (`width` default 16, `levels` default 2). A key of the other architecture is a config error, not silently
/// ignored. `inputs` and `clip_level` in the same section are NetworkInputs', `self_ensemble` SelfEnsemble's: read
/// them first (`NetworkInputs(config:)`, `SelfEnsemble(config:)`), then this finishes the section.
package enum ModelConfig: Sendable, Equatable {
    /// conv: how the 3x3 convolutions are computed (auto: Winograd for width -> width layers, direct for the
    /// 3-channel first and last; direct; winograd). Same network and parameters either way.
    case plain(depth: Int, width: Int, conv: Conv3x3Algorithm = .automatic)
    case unet(width: Int, levels: Int)

    package static let archKeys: [String: [String]] = [
        "plain": ["depth", "width", "conv_algorithm"],
        "unet": ["width", "levels"]
    ]

    package init(config c: ConfigMapping) throws {
        let arch: String = try c.required("arch")
        guard let own = Self.archKeys[arch] else {
            throw c.error("arch", DidYouMean.unknown("architecture", arch, among: Self.archKeys.keys.sorted()))
        }
        for (other, keys) in Self.archKeys where other != arch {
            for key in keys where !own.contains(key) && c.contains(key) {
                throw c.error(key, "not used by arch \(arch) (it belongs to arch \(other))")
            }
        }
        if arch == "plain" {
            let name: String = try c.value("conv_algorithm", default: Conv3x3Algorithm.automatic.rawValue)
            guard let conv = Conv3x3Algorithm(rawValue: name) else {
                throw c.error(
                    "conv_algorithm",
                    DidYouMean.unknown("algorithm", name, among: Conv3x3Algorithm.allCases.map(\.rawValue)))
            }
            self = .plain(
                depth: try c.value("depth", default: 5, in: .within(1...64)),
                width: try c.value("width", default: 32, in: .within(1...1024)), conv: conv)
        } else {
            self = .unet(
                width: try c.value("width", default: 16, in: .within(1...1024)),
                levels: try c.value("levels", default: 2, in: .within(1...8)))
        }
        try c.finish(known: own + ["arch"] + NetworkInputs.keys + SelfEnsemble.keys)
    }

    /// A new network of this architecture (parameters still to be allocated and initialised).
    /// - Parameter inputChannels: channels of its input (NetworkInputs.channels; 3 for LogNorm's output alone).
    package func makeNetwork(inputChannels: Int = 3) -> any PatchNetwork {
        switch self {
        case .plain(let depth, let width, let conv):
            let net = PlainNet(depth: depth, width: width, inputChannels: inputChannels)
            net.convAlgorithm = conv
            return net
        case .unet(let width, let levels): return UNet(width: width, levels: levels, inputChannels: inputChannels)
        }
    }

    /// Patch sides must be multiples of this (the U-Net halves the image `levels` times).
    package var sizeMultiple: Int {
        if case .unet(_, let levels) = self { return 1 << levels }
        return 1
    }
}
