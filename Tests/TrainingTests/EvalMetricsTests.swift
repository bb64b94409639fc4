// ImageMetrics against plain Double formulas written out here, on hand-made 3 x 2 x 2 samples.
import Foundation
import Losses
import TestSupport
import Testing
import Training

/// The NTIRE HDR challenge's own scoring functions (tools/parity/ntire_psnr_mu.py, numpy) on four cases: dark
/// scenes with highlights, zeros and overshoot, a nearly flat image. PSNR-mu must be their number.
struct NTIREPSNRMuTests {
    struct Case: Decodable {
        var name: String
        var shape: [Int]
        var output: String
        var reference: String
        var psnr_mu_db: Double
    }
    struct File: Decodable { var cases: [Case] }

    static func floats(_ base64: String, _ count: Int) throws -> [Float] {
        let bytes = try #require(Data(base64Encoded: base64))
        try #require(bytes.count == 4 * count)
        return bytes.withUnsafeBytes { raw in
            (0..<count).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    @Test func psnrMuIsTheChallengesDefinition() throws {
        let path = ParityFixture.directory + "/../ntire/psnr_mu.json"
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(
            file.cases.map(\.name) == ["log_uniform_noise", "highlights_clipped", "zeros_and_overshoot", "nearly_flat"])
        for c in file.cases {
            let n = c.shape.reduce(1, *)
            let out = try Self.floats(c.output, n)
            let ref = try Self.floats(c.reference, n)
            let ours = ImageMetrics.psnrMu(output: out, reference: ref)
            // Both sides in Double from the same float32 values: only the summation order differs.
            #expect(abs(ours - c.psnr_mu_db) <= 1e-9 * c.psnr_mu_db, "\(c.name): \(ours) vs \(c.psnr_mu_db)")
        }
    }
}

struct EvalMetricsTests {
    /// Reference: 1 ... 12 (3 channels x 2 x 2); output: a perturbed copy.
    static let reference: [Float] = (1...12).map { Float($0) }
    static let output: [Float] = [1.5, 2, 2.5, 4, 5, 7, 7, 8, 9.5, 10, 11, 15]

    @Test func psnrMuFollowsNTIREWithAHandComputedPercentile() {
        // 99th percentile of 1...12: h = 0.99 * 11 = 10.89 -> 11 + 0.89 * (12 - 11) = 11.89.
        let q = 11.89
        let mu = 5000.0
        func t(_ x: Double) -> Double { log(1 + mu * tanh(max(x, 0) / q)) / log(1 + mu) }
        var mse = 0.0
        for (o, r) in zip(Self.output, Self.reference) { mse += pow(t(Double(o)) - t(Double(r)), 2) }
        mse /= 12
        let expected = 10 * log10(1 / mse)
        let got = ImageMetrics.psnrMu(output: Self.output, reference: Self.reference)
        #expect(abs(got - expected) < 1e-9, "\(got) vs \(expected)")
    }

    @Test func psnrMuClampsNegativeOutputsAtZero() {
        let neg: [Float] = Self.output.enumerated().map { $0.offset == 0 ? -1e-4 : $0.element }
        let zero: [Float] = Self.output.enumerated().map { $0.offset == 0 ? 0 : $0.element }
        #expect(
            ImageMetrics.psnrMu(output: neg, reference: Self.reference)
                == ImageMetrics.psnrMu(output: zero, reference: Self.reference))
    }

    @Test func pu21PsnrScalesTheReferenceMaximumTo4000AndUsesPeak256() {
        let s = 4000.0 / 12
        func v(_ x: Double) -> Double { PU21.encode(min(max(s * x, 0.005), 10000)) }
        var mse = 0.0
        for (o, r) in zip(Self.output, Self.reference) { mse += pow(v(Double(o)) - v(Double(r)), 2) }
        mse /= 12
        let expected = 10 * log10(256 * 256 / mse)
        let got = ImageMetrics.pu21Psnr(output: Self.output, reference: Self.reference)
        #expect(abs(got - expected) < 1e-9, "\(got) vs \(expected)")
        // 15 * 4000 / 12 = 5000 cd/m2 is inside the range; a much larger value is clamped at 10000.
        var far = Self.output
        far[11] = 1e6
        var atTop = Self.output
        atTop[11] = 30
        #expect(
            ImageMetrics.pu21Psnr(output: far, reference: Self.reference)
                == ImageMetrics.pu21Psnr(output: atTop, reference: Self.reference))
    }

    @Test func logL1IsTheMeanAbsoluteLogDifference() {
        let eps = 1e-4
        var sum = 0.0
        for (o, r) in zip(Self.output, Self.reference) { sum += abs(log(Double(o) + eps) - log(Double(r) + eps)) }
        let got = ImageMetrics.logL1(output: Self.output, reference: Self.reference, eps: 1e-4)
        #expect(abs(got - sum / 12) < 1e-12)
    }

    @Test func identicalImagesHitThePSNRCap() {
        #expect(ImageMetrics.psnrMu(output: Self.reference, reference: Self.reference) == ImageMetrics.psnrCap)
        #expect(ImageMetrics.pu21Psnr(output: Self.reference, reference: Self.reference) == 100)
        #expect(ImageMetrics.logL1(output: Self.reference, reference: Self.reference, eps: 1e-4) == 0)
    }

    @Test func nanOutputsAreNotHidden() {
        var o = Self.output
        o[3] = .nan
        #expect(ImageMetrics.psnrMu(output: o, reference: Self.reference).isNaN)
        #expect(ImageMetrics.pu21Psnr(output: o, reference: Self.reference).isNaN)
        #expect(ImageMetrics.logL1(output: o, reference: Self.reference, eps: 1e-4).isNaN)
    }
}
