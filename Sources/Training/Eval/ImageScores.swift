// One sample's whole-image and in-mask scores from one pass over its values, on the compute threads: what a
// validation spends its time on besides the network (PU21's two pow and PSNR-mu's log1p per value).
import Glibc
import Numerics

extension ImageMetrics {
    /// `psnrMu`, `pu21Psnr`, `logL1` and `inMask` of one sample.
    package struct Scores: Sendable, Equatable {
        package var psnrMu: Double
        package var pu21Psnr: Double
        package var logL1: Double
        /// `inMask`'s (psnrMu, pu21Psnr); nil where it gives nil (an empty mask, or no value in it).
        package var inMaskPsnrMu: Double?
        package var inMaskPu21Psnr: Double?
    }

    /// Values per block of `scores`.
    package static let scoreBlock = 1 << 16

    /// What `psnrMu`, `pu21Psnr`, `logL1` and `inMask(mask:)` give for one (C, H, W) sample, from one pass over
    /// its values: each value's tone-mapped and PU21-encoded errors are computed once, added to the whole-image sums
    /// and, where the pixel's `mask` entry holds, to the in-mask sums. The values are summed in blocks of
    /// `scoreBlock`, each block in order into its own Double sums, and the blocks' sums are added in block order:
    /// the result is the same for every thread count, and for a sample of at most `scoreBlock` values it is the
    /// separate functions' bit for bit (beyond that the sums' order differs, by a few units in the last place).
    package static func scores(
        output: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, mask: [Bool], eps: Float,
        threads: Int = Parallel.threads
    ) -> Scores {
        precondition(output.count == reference.count && !reference.isEmpty, "scores: sizes differ or empty")
        let plane = mask.count
        let masked = plane > 0 && reference.count % plane == 0
        let blocks = (reference.count + scoreBlock - 1) / scoreBlock
        var sums = [BlockSums](repeating: BlockSums(), count: blocks)
        mask.withUnsafeBufferPointer { m in
            sums.withUnsafeMutableBufferPointer { out in
                let job = ScoreJob(
                    output: output, reference: reference, mask: masked ? m : UnsafeBufferPointer(start: nil, count: 0),
                    q: muNormaliser(reference), s: pu21Scale(reference), eps: Double(eps), blocks: blocks,
                    parts: max(1, min(threads, blocks)), sums: out.baseAddress!)
                Parallel.run(job.parts, job)
            }
        }
        var total = BlockSums()
        for b in sums { total.add(b) }
        let n = Double(reference.count)
        var result = Scores(
            psnrMu: psnr(mse: total.mu / n, peak: 1), pu21Psnr: psnr(mse: total.pu21 / n, peak: pu21Peak),
            logL1: total.logL1 / n)
        if total.maskCount > 0 {
            let k = Double(total.maskCount)
            result.inMaskPsnrMu = psnr(mse: total.muMask / k, peak: 1)
            result.inMaskPu21Psnr = psnr(mse: total.pu21Mask / k, peak: pu21Peak)
        }
        return result
    }

    private struct BlockSums {
        var mu = 0.0, pu21 = 0.0, logL1 = 0.0, muMask = 0.0, pu21Mask = 0.0
        var maskCount = 0

        mutating func add(_ b: BlockSums) {
            mu += b.mu
            pu21 += b.pu21
            logL1 += b.logL1
            muMask += b.muMask
            pu21Mask += b.pu21Mask
            maskCount += b.maskCount
        }
    }

    /// Part p sums the blocks of its contiguous share, each into its own slot of `sums`.
    private struct ScoreJob: ParallelJob {
        let output: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<Bool>
        let q: Double, s: Double, eps: Double
        let blocks: Int, parts: Int
        let sums: UnsafeMutablePointer<BlockSums>

        func run(part: Int) {
            let plane = mask.count
            for b in Parallel.share(part, of: parts, total: blocks) {
                var t = BlockSums()
                let lo = b * scoreBlock
                for i in lo..<min(lo + scoreBlock, reference.count) {
                    let (o, r) = (output[i], reference[i])
                    let e = muTonemap(o, q: q) - muTonemap(r, q: q)
                    let f = pu21Encode(o, scale: s) - pu21Encode(r, scale: s)
                    t.mu += e * e
                    t.pu21 += f * f
                    t.logL1 += abs(log(Double(o) + eps) - log(Double(r) + eps))
                    if plane > 0 && mask[i % plane] {
                        t.muMask += e * e
                        t.pu21Mask += f * f
                        t.maskCount += 1
                    }
                }
                sums[b] = t
            }
        }
    }
}
