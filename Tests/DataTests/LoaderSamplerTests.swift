// EpochSampler: pure function of (seed, epoch, index); pair coverage per epoch; crops in range; flags.
import Testing

@testable import Data

struct LoaderSamplerTests {
    let sizes: [(width: Int, height: Int)] = [(40, 30), (20, 10), (8, 8), (33, 9), (12, 50), (9, 9), (64, 8)]

    func sampler(_ c: LoaderConfig) throws -> EpochSampler { try EpochSampler(sizes: sizes, config: c) }

    @Test func everyPairOncePerEpochWhenSamplesEqualPairs() throws {
        let s = try sampler(LoaderConfig(patchSize: 8, batchSize: 1))
        #expect(s.samplesPerEpoch == 7 && s.batchesPerEpoch == 7)
        var orders: Set<[Int]> = []
        for e in 0..<6 {
            let pairs = try s.samples(epoch: e, range: 0..<7).map(\.pair)
            #expect(pairs.sorted() == Array(0..<7))
            orders.insert(pairs)
        }
        #expect(orders.count > 1, "every epoch drew the same order")
    }

    @Test func moreSamplesThanPairsArePassesOfPermutations() throws {
        let s = try sampler(LoaderConfig(patchSize: 8, batchSize: 4, samplesPerEpoch: 18))
        #expect(s.batchesPerEpoch == 4)  // 18 / 4: the incomplete fifth batch is dropped
        let pairs = try s.samples(epoch: 3, range: 0..<18).map(\.pair)
        #expect(Array(pairs[0..<7]) == s.permutation(epoch: 3, pass: 0))
        #expect(Array(pairs[7..<14]) == s.permutation(epoch: 3, pass: 1))
        #expect(Array(pairs[14..<18]) == Array(s.permutation(epoch: 3, pass: 2)[0..<4]))
        for p in 0..<7 {
            let n = pairs.filter { $0 == p }.count
            #expect(n == 2 || n == 3)
        }
    }

    @Test func samplesArePureFunctionsOfSeedEpochIndex() throws {
        let s = try sampler(LoaderConfig(patchSize: 8, batchSize: 1, seed: 11, augment: .all, samplesPerEpoch: 20))
        let again = try sampler(LoaderConfig(patchSize: 8, batchSize: 1, seed: 11, augment: .all, samplesPerEpoch: 20))
        let other = try sampler(LoaderConfig(patchSize: 8, batchSize: 1, seed: 12, augment: .all, samplesPerEpoch: 20))
        let all = try s.samples(epoch: 2, range: 0..<20)
        #expect(try all == again.samples(epoch: 2, range: 0..<20))
        #expect(try all != other.samples(epoch: 2, range: 0..<20))
        #expect(try all != s.samples(epoch: 3, range: 0..<20))
        // Computing a sample alone or inside any range gives the same answer.
        for i in [0, 6, 7, 13, 19] { #expect(try s.sample(epoch: 2, index: i) == all[i]) }
        #expect(try Array(all[5..<12]) == s.samples(epoch: 2, range: 5..<12))
    }

    @Test func cropsCoverEveryValidPositionAndStayInside() throws {
        let s = try sampler(LoaderConfig(patchSize: 8, batchSize: 1, samplesPerEpoch: 7 * 400))
        var seenX: [Int: Set<Int>] = [:]
        var seenY: [Int: Set<Int>] = [:]
        for spec in try s.samples(epoch: 0, range: 0..<(7 * 400)) {
            let (w, h) = sizes[spec.pair]
            #expect(spec.x >= 0 && spec.x <= w - 8 && spec.y >= 0 && spec.y <= h - 8)
            seenX[spec.pair, default: []].insert(spec.x)
            seenY[spec.pair, default: []].insert(spec.y)
        }
        // 400 draws per pair over at most 57 positions: every position is hit (the chance of a miss is < 1e-2).
        for (p, (w, h)) in sizes.enumerated() {
            #expect(seenX[p] == Set(0...(w - 8)), "pair \(p) x")
            #expect(seenY[p] == Set(0...(h - 8)), "pair \(p) y")
        }
    }

    @Test func augmentationFlagsAreUniformAndOffWhenDisabled() throws {
        let n = 4000
        let on = try sampler(LoaderConfig(patchSize: 8, batchSize: 1, augment: .all, samplesPerEpoch: n))
        let off = try sampler(LoaderConfig(patchSize: 8, batchSize: 1, samplesPerEpoch: n))
        let onlyRot = try sampler(
            LoaderConfig(patchSize: 8, batchSize: 1, augment: .init(rot90: true), samplesPerEpoch: n))
        let a = try on.samples(epoch: 1, range: 0..<n)
        let b = try off.samples(epoch: 1, range: 0..<n)
        let r = try onlyRot.samples(epoch: 1, range: 0..<n)
        #expect(b.allSatisfy { !$0.flipH && !$0.flipV && $0.rot90 == 0 })
        // Toggling augmentations changes no crop and no other flag.
        #expect(a.map { [$0.pair, $0.x, $0.y] } == b.map { [$0.pair, $0.x, $0.y] })
        #expect(a.map(\.rot90) == r.map(\.rot90) && r.allSatisfy { !$0.flipH && !$0.flipV })
        let h = a.filter(\.flipH).count
        let v = a.filter(\.flipV).count
        #expect(abs(h - n / 2) < 200 && abs(v - n / 2) < 200)  // ~6 standard deviations
        for k in 0..<4 { #expect(abs(a.filter { $0.rot90 == k }.count - n / 4) < 180) }
    }

    @Test func badEpochsIndicesAndSizesAreRefused() throws {
        #expect(
            throws: LoaderError(
                "an epoch of 7 samples holds no full batch of batch_size 8; lower batch_size or set samples_per_epoch")
        ) {
            _ = try EpochSampler(sizes: sizes, config: LoaderConfig(patchSize: 8, batchSize: 8))
        }
        let s = try EpochSampler(sizes: sizes, config: LoaderConfig(patchSize: 8, batchSize: 2))
        #expect(throws: LoaderError("samples 6..<8 of epoch 0 are outside epochs >= 0 of 7 samples")) {
            _ = try s.samples(epoch: 0, range: 6..<8)
        }
        #expect(throws: LoaderError.self) { _ = try s.sample(epoch: 0, index: -1) }
        #expect(throws: LoaderError.self) { _ = try s.sample(epoch: -1, index: 0) }
        #expect(throws: LoaderError("sampler: pair 2 is 8x8, smaller than patch_size 9")) {
            _ = try EpochSampler(sizes: sizes, config: LoaderConfig(patchSize: 9, batchSize: 1))
        }
    }
}
