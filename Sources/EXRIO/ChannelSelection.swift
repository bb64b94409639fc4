// Which channels of a file become R, G, B: plain RGB, a named layer, or luminance-only files.

/// How the selected channels are turned into RGB.
enum ChannelPlan: Equatable {
    /// Three channels read as R, G, B.
    case rgb(r: String, g: String, b: String)
    /// One luminance channel copied into R, G and B.
    case grey(String)
    /// Y, RY, BY luminance/chroma channels, converted to RGB by OpenEXR's RGBA interface.
    case luminanceChroma
}

enum ChannelSelection {
    /// Layer names present in a channel list: the text before the last "." of each layered channel.
    static func layers(in names: [String]) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for n in names {
            guard let dot = n.lastIndex(of: ".") else { continue }
            let layer = String(n[..<dot])
            if seen.insert(layer).inserted { out.append(layer) }
        }
        return out
    }

    /// Chooses the channels to read. Alpha and any other channel are ignored; a partial RGB set, an
    /// unknown layer, or no usable channel is an error whose reason lists what the file has.
    static func plan(channels: [ChannelInfo], layer: String?) -> Result<ChannelPlan, ChannelSelectionError> {
        let names = channels.map(\.name)
        let prefix: String
        if let layer {
            guard layers(in: names).contains(layer) else {
                return .failure(.init(reason: "no layer '\(layer)'; \(describe(names))"))
            }
            prefix = layer + "."
        } else {
            prefix = ""
        }
        let has = { (n: String) in names.contains(prefix + n) }
        let rgb = ["R", "G", "B"]
        if rgb.allSatisfy(has) {
            let chosen = rgb.map { prefix + $0 }
            if let bad = subsampled(chosen, channels) { return .failure(bad) }
            return .success(.rgb(r: chosen[0], g: chosen[1], b: chosen[2]))
        }
        if rgb.contains(where: has) {
            let missing = rgb.filter { !has($0) }.map { prefix + $0 }
            return .failure(.init(reason: "missing channel \(missing.joined(separator: ", ")); \(describe(names))"))
        }
        if has("Y") {
            if has("RY") && has("BY") && layer == nil { return .success(.luminanceChroma) }
            if let bad = subsampled([prefix + "Y"], channels) { return .failure(bad) }
            return .success(.grey(prefix + "Y"))
        }
        let what = layer.map { "no R, G, B or Y channel in layer '\($0)'" } ?? "no R, G, B or Y channel"
        return .failure(.init(reason: "\(what); \(describe(names))"))
    }

    private static func subsampled(_ chosen: [String], _ channels: [ChannelInfo]) -> ChannelSelectionError? {
        for c in channels where chosen.contains(c.name) && (c.xSampling != 1 || c.ySampling != 1) {
            return .init(
                reason: "channel \(c.name) is subsampled (\(c.xSampling)x\(c.ySampling)), which is not supported")
        }
        return nil
    }

    private static func describe(_ names: [String]) -> String {
        var text = "channels found: " + (names.isEmpty ? "none" : names.joined(separator: ", "))
        let ls = layers(in: names)
        if !ls.isEmpty { text += "; layers: " + ls.joined(separator: ", ") + " (select one with --layer)" }
        return text
    }
}

struct ChannelSelectionError: Error, Equatable {
    let reason: String
}
