// Where each training pair came from: the data set's manifest.json (written by `hdrpatch synth`) names every
// pair's source image and the crop's corner in it, so an incident in pair 000144.exr at (32, 1) is reported as
// forest.exr at (332, 162). Read here with only the three fields the report needs (Reports does not link the
// data pipeline). `make frames` writes no source image but the rendered scene and frame of each pair, so an incident
// in 003_04.exr at (12, 40) is reported in "scene 3 (seed 3, forest_slope.exr), frame 4 -> 5" at (12, 40).
import Foundation

package struct PairSources: Sendable, Equatable {
    package struct Source: Sendable, Equatable {
        /// The source image's file name.
        package var image: String
        /// The crop's top-left corner in the source (0, 0 for full-image pairs).
        package var x: Int
        package var y: Int
        package init(image: String, x: Int, y: Int) {
            self.image = image
            self.x = x
            self.y = y
        }
    }

    /// By pair file name (`000144.exr`).
    package var byFile: [String: Source]
    /// The manifest read.
    package var manifest: String

    package init(byFile: [String: Source], manifest: String) {
        self.byFile = byFile
        self.manifest = manifest
    }

    /// The manifest of the run's training set (`data.train` of its config.yaml). nil, with why, when the config
    /// names no training set or the set has no readable manifest (a set not made by `hdrpatch synth`).
    package static func load(configText: String?) -> (sources: PairSources?, why: String?) {
        struct Config: Decodable {
            struct DataSection: Decodable { var train: String? }
            var data: DataSection?
        }
        struct Manifest: Decodable {
            struct Pair: Decodable {
                struct Crop: Decodable { var x: Int, y: Int }
                var id: String
                var source: String?
                var crop: Crop?
                // make frames: the rendered sequence and frame the pair was warped from.
                var sequence: Int?
                var scene_seed: Int?
                var environment: String?
                var frame: Int?
                var target_frame: Int?

                /// What the report names as the pair's source.
                var origin: String? {
                    if let source { return (source as NSString).lastPathComponent }
                    guard let sequence, let frame else { return nil }
                    let scene = [scene_seed.map { "seed \($0)" }, environment].compactMap { $0 }.joined(separator: ", ")
                    return "scene \(sequence)" + (scene.isEmpty ? "" : " (\(scene))") + ", frame \(frame)"
                        + (target_frame.map { " -> \($0)" } ?? "")
                }
            }
            var pairs: [Pair]
        }
        // Pairs made on the fly (`data.train: {sources, recipe}`): every patch's file is its source image already.
        if let text = configText,
            let root = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let data = root["data"] as? [String: Any], let online = data["train"] as? [String: Any],
            let dir = online["sources"] as? String
        {
            return (PairSources(byFile: [:], manifest: "\(dir): pairs made on the fly, each file its own source"), nil)
        }
        guard let text = configText, let config = try? JSONDecoder().decode(Config.self, from: Data(text.utf8)),
            let train = config.data?.train
        else { return (nil, "the run's config names no training set") }
        let path = train + "/manifest.json"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            return (nil, "no manifest at \(path)")
        }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: bytes) else {
            return (nil, "\(path) is not a synth manifest")
        }
        var byFile: [String: Source] = [:]
        for p in manifest.pairs {
            guard let origin = p.origin else { return (nil, "\(path): pair \(p.id) names no source or frame") }
            byFile[p.id + ".exr"] = Source(image: origin, x: p.crop?.x ?? 0, y: p.crop?.y ?? 0)
        }
        return (PairSources(byFile: byFile, manifest: path), nil)
    }
}
