// The overflow rule: one definition for the training monitor, `evaluate` and `restore` (docs/conventions.md,
// "The overflow-incident monitor").
import Numerics

package enum Overflow {
    /// The default limit (`monitor.overflow_limit`): the largest half float, since restored images are stored and
    /// deployed as half.
    package static let defaultLimit: Float = 65504

    /// Pixels (not values) of one (C, H, W) sample that overflow: some channel of the output is non-finite, or above
    /// `limit` where the reference's same channel is not. HDR references can hold values beyond the limit (a sun in
    /// an unclipped frame): reproducing them is not an overflow. Without a reference (`restore`) every value above
    /// the limit counts.
    /// - Parameters: output and reference: C planes of the same size each.
    package static func pixels(
        _ output: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>?, channels: Int, limit: Float
    ) -> Int {
        precondition(
            channels >= 1 && output.count % channels == 0,
            "Overflow.pixels: \(output.count) values for \(channels) channels")
        precondition(
            reference.map { $0.count == output.count } ?? true, "Overflow.pixels: the reference's size differs")
        let plane = output.count / channels
        var count = 0
        for p in 0..<plane {
            for c in 0..<channels {
                let j = c * plane + p
                let v = output[j]
                if !v.isFinite || (v > limit && (reference.map { $0[j] <= limit } ?? true)) {
                    count += 1
                    break
                }
            }
        }
        return count
    }

    /// `pixels` of every sample of an (N, C, H, W) output against the same-shaped reference (nil: none).
    package static func perSample(_ output: Tensor, reference: Tensor?, limit: Float) -> [Int] {
        if let reference { precondition(reference.shape == output.shape, "Overflow: reference \(reference.shape)") }
        let n = output.shape[0]
        let m = output.sampleCount
        return output.storage.withUnsafeBufferPointer { o in
            (0..<n).map { s in
                let sample = UnsafeBufferPointer(rebasing: o[(s * m)..<((s + 1) * m)])
                guard let reference else {
                    return pixels(sample, reference: nil, channels: output.shape[1], limit: limit)
                }
                return reference.storage.withUnsafeBufferPointer { t in
                    pixels(
                        sample, reference: UnsafeBufferPointer(rebasing: t[(s * m)..<((s + 1) * m)]),
                        channels: output.shape[1], limit: limit)
                }
            }
        }
    }

    /// The largest output value of each sample (+inf when any is non-finite): what the incidents table shows.
    package static func peaks(_ output: Tensor) -> [Float] {
        let n = output.shape[0]
        let m = output.sampleCount
        return (0..<n).map { s in
            var mx = -Float.infinity
            for v in output.storage[(s * m)..<((s + 1) * m)] { mx = v.isFinite ? max(mx, v) : .infinity }
            return mx
        }
    }
}
