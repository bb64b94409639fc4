// The `model:` config section: which patch network, and its size.
import Config

/// `arch: plain` (keys `depth` default 5, `width` default 32) or `arch: unet` (`width` default 16,
/// `levels` default 2). A key of the other architecture is a config error, not silently ignored.
public enum ModelConfig: Sendable, Equatable {
    case plain(depth: Int, width: Int)
    case unet(width: Int, levels: Int)

    public static let archKeys: [String: [String]] = ["plain": ["depth", "width"], "unet": ["width", "levels"]]

    public init(config c: ConfigMapping) throws {
        let arch: String = try c.required("arch")
        guard let own = Self.archKeys[arch] else {
            let known = Self.archKeys.keys.sorted()
            let hint = DidYouMean.suggest(arch, among: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw c.error("arch", "unknown architecture '\(arch)'\(hint); known: \(known.joined(separator: ", "))")
        }
        for (other, keys) in Self.archKeys where other != arch {
            for key in keys where !own.contains(key) && c.contains(key) {
                throw c.error(key, "not used by arch \(arch) (it belongs to arch \(other))")
            }
        }
        if arch == "plain" {
            self = .plain(depth: try c.value("depth", default: 5, in: .within(1...64)),
                          width: try c.value("width", default: 32, in: .within(1...1024)))
        } else {
            self = .unet(width: try c.value("width", default: 16, in: .within(1...1024)),
                         levels: try c.value("levels", default: 2, in: .within(1...8)))
        }
        try c.finish(known: own + ["arch"])
    }

    /// A new network of this architecture (parameters still to be allocated and initialised).
    public func makeNetwork() -> any PatchNetwork {
        switch self {
        case .plain(let depth, let width): return PlainNet(depth: depth, width: width)
        case .unet(let width, let levels): return UNet(width: width, levels: levels)
        }
    }

    /// Patch sides must be multiples of this (the U-Net halves the image `levels` times).
    public var sizeMultiple: Int {
        if case .unet(_, let levels) = self { return 1 << levels }
        return 1
    }
}
