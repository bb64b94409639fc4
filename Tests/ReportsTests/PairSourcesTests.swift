// Where an incident's file came from: a stored set's manifest, or, for pairs made on the fly, the file itself.
import Foundation
import Testing

@testable import Reports

struct PairSourcesTests {
    @Test func pairsMadeOnTheFlyAreTheirOwnSources() throws {
        let config = #"{"data": {"train": {"sources": "data/real/sources/train", "recipe": "r.yaml"}}}"#
        let (sources, why) = PairSources.load(configText: config)
        let s = try #require(sources)
        #expect(why == nil && s.byFile.isEmpty)
        #expect(s.manifest == "data/real/sources/train: pairs made on the fly, each file its own source")
    }

    /// make frames' manifest: no source image, the rendered scene and frame instead.
    @Test func renderedFramesNameTheirSceneAndFrame() throws {
        let dir = NSTemporaryDirectory() + "pair-sources-\(getpid())-frames"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = """
            {"pairs": [
              {"id": "003_04", "file": "003_04.exr", "sequence": 3, "scene_seed": 3, "environment": "forest_slope.exr",
               "frame": 4, "target_frame": 5, "hole_fraction": 0.02},
              {"id": "003_05", "sequence": 3, "frame": 5}
            ]}
            """
        try manifest.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        let (sources, why) = PairSources.load(configText: "{\"data\": {\"train\": \"\(dir)\"}}")
        let s = try #require(sources, "\(why ?? "")")
        #expect(
            s.byFile["003_04.exr"]
                == PairSources.Source(image: "scene 3 (seed 3, forest_slope.exr), frame 4 -> 5", x: 0, y: 0))
        #expect(s.byFile["003_05.exr"]?.image == "scene 3, frame 5")

        // A pair that names neither is not traced silently to nothing.
        try #"{"pairs": [{"id": "x"}]}"#.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        let bad = PairSources.load(configText: "{\"data\": {\"train\": \"\(dir)\"}}")
        #expect(bad.sources == nil && bad.why == "\(dir)/manifest.json: pair x names no source or frame")
    }

    @Test func aStoredSetWithoutAManifestSaysSo() {
        let (sources, why) = PairSources.load(configText: #"{"data": {"train": "/nonexistent/set"}}"#)
        #expect(sources == nil && why == "no manifest at /nonexistent/set/manifest.json")
        #expect(PairSources.load(configText: nil).why == "the run's config names no training set")
    }
}
