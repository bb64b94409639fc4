// Training pairs made on the fly: each patch cut from a clean source and degraded by a recipe as the batch is built.
import EXRIO
import Numerics

/// The recipe and the streams of on-the-fly pairs (`data.train: {sources, recipe}`).
///
/// Sample i of epoch e (the sampler's numbering) is the clean patch the sampler cuts (source, crop, flips,
/// quarter turns), then `recipe.apply(clean:seed:pair:)` with pair id e * samplesPerEpoch + i and the stream
/// seed `streamSeed(seed)`: a pure function of (seed, epoch, index), so any worker can make any sample and a
/// run resumed at a step makes the same patches again. Every epoch degrades every patch anew (its own noise,
/// and its own exposure draw where the recipe gives a range).
package struct OnlineDegradation: Sendable {
    package let recipe: DegradationRecipe
    /// The recipe file (or name), for logs and the run record.
    package let recipeName: String
    /// The run's seed (the sampler's); the recipe's streams are keyed by `streamSeed`.
    package let seed: UInt64

    /// The recipe's seed: the run's, offset so that its streams are never the sampler's.
    package static func streamSeed(_ seed: UInt64) -> UInt64 { seed ^ 0x6f6e_6c69_6e65_0001 }

    /// Pair id of sample `index` of `epoch`.
    package static func pairID(epoch: Int, index: Int, samplesPerEpoch: Int) -> Int { epoch * samplesPerEpoch + index }

    /// The (input, target) patch of a clean patch for sample `pairID`; `source`: the statistics of the image it
    /// was cut from, when the recipe exposes by the whole image (`recipe.needsSourceStatistics`).
    package func degrade(
        clean: HDRImage, pairID: Int, source: SourceStatistics? = nil
    ) -> (input: HDRImage, target: HDRImage) {
        recipe.apply(clean: clean, seed: Self.streamSeed(seed), pair: pairID, source: source)
    }
}
