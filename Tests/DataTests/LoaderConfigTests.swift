// LoaderConfig.validate: each bad field is refused with its YAML name; defaults are valid.
import Testing

@testable import Data

struct LoaderConfigTests {
    func message(_ c: LoaderConfig) -> String? {
        do {
            try c.validate()
            return nil
        } catch { return "\(error)" }
    }

    @Test func defaultsAreValidAndDocumented() {
        let c = LoaderConfig()
        #expect(message(c) == nil)
        #expect(c.patchSize == 64 && c.batchSize == 16 && c.seed == 0 && c.workers == 2 && c.prefetch == 4)
        #expect(!c.cache && !c.strict && c.augment == .none && c.samplesPerEpoch == nil)
    }

    @Test func badFieldsAreNamed() {
        #expect(message(LoaderConfig(patchSize: 0)) == "patch_size must be in 1...8192 (got 0)")
        #expect(message(LoaderConfig(batchSize: 0)) == "batch_size must be >= 1 (got 0)")
        #expect(message(LoaderConfig(workers: -1)) == "workers must be in 0...256 (got -1)")
        #expect(message(LoaderConfig(workers: 100_000)) == "workers must be in 0...256 (got 100000)")
        #expect(message(LoaderConfig(prefetch: 0)) == "prefetch must be >= 1 (got 0)")
        #expect(
            message(LoaderConfig(batchSize: 8, samplesPerEpoch: 7))
                == "samples_per_epoch (7) must be >= batch_size (8): an epoch would hold no full batch")
        #expect(
            message(LoaderConfig(patchSize: 8192, batchSize: Int.max))
                == "batch_size \(Int.max) x 3 x 8192 x 8192 exceeds 1073741824 values per batch tensor")
    }
}
