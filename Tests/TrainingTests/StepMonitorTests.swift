// The monitor's building blocks: exact percentiles by selection, overflow pixels and incidents per patch.
import Foundation
import Model
import Numerics
import Testing

@testable import Training

struct StepMonitorTests {
    /// numpy-style linear-interpolation percentile from a full sort, the reference.
    static func reference(_ v: [Float], _ q: Double) -> Double {
        let s = v.sorted()
        let pos = q * Double(s.count - 1)
        let k = Int(pos)
        let k2 = min(k + 1, s.count - 1)
        return Double(s[k]) + (pos - Double(k)) * Double(s[k2] - s[k])
    }

    @Test(arguments: [1, 2, 7, 100, 4097])
    func percentilesBySelectionEqualTheSortedReference(_ n: Int) {
        var r = SeededRNG(seed: UInt64(n))
        // Duplicates included: values from a small set half the time.
        let v = (0..<n).map { i in i % 2 == 0 ? Float(r.below(5)) : Float(r.normal()) }
        let qs = [0, 0.01, 0.05, 0.5, 0.95, 0.99, 1]
        let got = v.withUnsafeBufferPointer { StepMonitor.percentiles($0, qs) }
        for (q, g) in zip(qs, got) { #expect(g == Self.reference(v, q), "n \(n) q \(q)") }
    }

    @Test func overflowPixelsCountPixelsNotChannels() {
        var out = Tensor(zeros: [2, 3, 2, 2])
        out[0, 0, 0, 0] = 70_000
        out[0, 1, 0, 0] = .infinity  // one pixel, two bad channels
        out[0, 2, 1, 1] = .nan
        out[1, 1, 0, 1] = 65_504  // exactly the limit: not an overflow
        #expect(Overflow.perSample(out, reference: nil, limit: 65_504) == [2, 0])
        #expect(Overflow.perSample(out, reference: nil, limit: -1) == [4, 4])
        #expect(Overflow.peaks(out)[0] == .infinity && Overflow.peaks(out)[1] == 65_504)
        // Pixel 3 of a sample with -inf in B: non-finite, whatever the limit.
        let sample: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -.infinity]
        #expect(sample.withUnsafeBufferPointer { Overflow.pixels($0, reference: nil, channels: 3, limit: 1e30) } == 1)
    }

    /// An HDR target beyond the half range (an unclipped sun): reproducing it is not an overflow; exceeding the
    /// limit where the target's same channel is within it is, and a non-finite value always is.
    @Test func overflowIsCountedWhereTheTargetIsWithinTheLimit() {
        var out = Tensor(zeros: [1, 3, 2, 2])
        var target = Tensor(zeros: [1, 3, 2, 2])
        out[0, 0, 0, 0] = 100_000
        target[0, 0, 0, 0] = 106_000  // the sun: asked for
        out[0, 1, 0, 1] = 100_000
        target[0, 0, 0, 1] = 106_000  // another channel of the target is bright, this one is not: overflow
        out[0, 2, 1, 0] = .infinity
        target[0, 2, 1, 0] = 1e30  // never asked for
        #expect(Overflow.perSample(out, reference: nil, limit: 65_504) == [3])
        #expect(Overflow.perSample(out, reference: target, limit: 65_504) == [2])
    }
}

/// The monitor's one combine path: a batch's sums computed in two shares (as two ranks do, each at its offset) and
/// added up give the record of the whole batch computed at once.
struct MonitorSumsTests {
    static let settings = MonitorConfig(overflowLimit: 40)

    static func model() throws -> PatchModel {
        try PatchModel(
            model: .plain(depth: 2, width: 4), residual: ResidualConfig(mode: .adaptive(k: 0.9), clamp: 1.5),
            logNorm: LogNorm(), stateSlots: 0, seed: 3)
    }

    static func sums(
        _ model: PatchModel, _ input: Tensor, _ target: Tensor, batch: Int? = nil, offset: Int = 0
    ) -> MonitorSums {
        let pass = model.forward(input)
        return StepMonitor.sums(
            step: 7, pass: pass, target: target, head: model.head, settings: settings, learnedScale: nil,
            gradNorm: 0.5, skipped: false, scratch: Workspace(), batch: batch, offset: offset)
    }

    /// Samples `range` of a (N, 3, H, W) tensor.
    static func slice(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let m = t.sampleCount
        return Tensor(
            shape: [range.count] + t.shape.dropFirst(),
            storage: Array(t.storage[(range.lowerBound * m)..<(range.upperBound * m)]))
    }

    @Test func twoSharesAddedUpAreTheWholeBatch() throws {
        var rng = SeededRNG(seed: 11)
        let shape = [6, 3, 8, 8]
        let count = shape.reduce(1, *)
        // Radiance over 3 decades, so that some outputs pass the limit of 40 and some targets do too; samples 3-5
        // 200 times darker, so that they cannot overflow.
        let plane = count / shape[0]
        let target = Tensor(
            shape: shape,
            storage: (0..<count).map { i in Float(pow(10, 3 * rng.uniform() - 1) * (i / plane < 3 ? 1 : 0.005)) })
        let input = Tensor(shape: shape, storage: target.storage.map { min($0, 20) })
        let model = try Self.model()
        let whole = Self.sums(model, input, target).finalize()
        let first = Self.sums(model, Self.slice(input, 0..<4), Self.slice(target, 0..<4), batch: 6, offset: 0)
        var both = Self.sums(model, Self.slice(input, 4..<6), Self.slice(target, 4..<6), batch: 6, offset: 4)
        both.summed = zip(first.summed, both.summed).map { $0 + $1 }
        both.minima = zip(first.minima, both.minima).map { Swift.min($0, $1) }
        let (record, perPatch, peaks) = both.finalize()
        let w = whole.record
        #expect(w.overflowIncidents > 0 && w.overflowIncidents < 6, "a mix: \(whole.overflowPerPatch)")
        #expect(perPatch == whole.overflowPerPatch)
        for (i, k) in perPatch.enumerated() where k > 0 { #expect(peaks[i] == whole.peaks[i]) }
        #expect(record.patches == 6 && record.step == 7 && record.gradNorm == 0.5)
        #expect(record.overflowPixels == w.overflowPixels && record.overflowIncidents == w.overflowIncidents)
        #expect(record.clampHitRate == w.clampHitRate && record.saturationRate == w.saturationRate)
        #expect(record.negativePixels == w.negativePixels)
        #expect(record.deltaMin == w.deltaMin && record.deltaMax == w.deltaMax)
        #expect(record.denomMin == w.denomMin && record.denomMax == w.denomMax)
        #expect(abs(record.denomMean - w.denomMean) <= 1e-12 * w.denomMean)
        #expect(abs(record.denomStd - w.denomStd) <= 1e-9 * w.denomStd && w.denomStd > 0)
        #expect(abs(record.collapse - w.collapse) <= 1e-12 && w.collapse > 0)
    }

    /// One process: the denominator's std is the two-pass one, bit for bit (Chan's between-ranks term is exactly 0).
    @Test func oneShareKeepsTheTwoPassStd() throws {
        var rng = SeededRNG(seed: 5)
        let shape = [5, 3, 8, 8]
        let target = Tensor(
            shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float(pow(10, 2 * rng.uniform())) })
        let model = try Self.model()
        let record = Self.sums(model, target, target).finalize().record
        let d: [Double] = model.forward(target).norm.denom.map { Double($0) }
        var sum = 0.0
        for v in d { sum += v }
        let mean = sum / Double(d.count)
        var squares = 0.0
        for v in d { squares += (v - mean) * (v - mean) }
        let std = (squares / Double(d.count)).squareRoot()
        #expect(record.denomMean == mean && record.denomStd == std)
    }
}
