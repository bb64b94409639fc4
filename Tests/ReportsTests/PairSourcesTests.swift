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

    @Test func aStoredSetWithoutAManifestSaysSo() {
        let (sources, why) = PairSources.load(configText: #"{"data": {"train": "/nonexistent/set"}}"#)
        #expect(sources == nil && why == "no manifest at /nonexistent/set/manifest.json")
        #expect(PairSources.load(configText: nil).why == "the run's config names no training set")
    }
}
