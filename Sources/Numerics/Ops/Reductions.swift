// Sums and means of tensors accumulated in Double (float32 sums of 10^6 terms lose digits), with the
// gradients that spread a scalar back over the elements.

/// Reductions over all elements, or per sample (over everything after the first axis, C*H*W for NCHW).
/// Values are Double; the backward passes take Double upstream gradients and add them as Float.
public enum Reduce {
    /// Sum of every element, accumulated in Double.
    public static func sum(_ x: Tensor) -> Double {
        x.storage.withUnsafeBufferPointer { p in
            var s = 0.0
            for v in p { s += Double(v) }
            return s
        }
    }

    /// Mean of every element (sum / count); NaN for an empty tensor.
    public static func mean(_ x: Tensor) -> Double { sum(x) / Double(x.count) }

    /// Per-sample sums over axis 0: result[n] = sum of x[n, ...], length shape[0].
    public static func sampleSums(_ x: Tensor) -> [Double] {
        precondition(x.rank >= 1, "Reduce.sampleSums: needs a batch axis, got shape \(x.shape)")
        let n = x.shape[0]
        let m = x.sampleCount
        return x.storage.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                var s = 0.0
                for j in 0..<m { s += Double(p[i * m + j]) }
                return s
            }
        }
    }

    /// Per-sample means: sampleSums / (elements per sample).
    public static func sampleMeans(_ x: Tensor) -> [Double] {
        let m = Double(x.sampleCount)
        return sampleSums(x).map { $0 / m }
    }

    /// Gradient of `sum`: dInput += dSum everywhere.
    public static func sumBackward(dInput: inout Tensor, dSum: Double) {
        let g = Float(dSum)
        dInput.storage.withUnsafeMutableBufferPointer { dx in for i in dx.indices { dx[i] += g } }
    }

    /// Gradient of `mean`: dInput += dMean / count everywhere.
    public static func meanBackward(dInput: inout Tensor, dMean: Double) {
        sumBackward(dInput: &dInput, dSum: dMean / Double(dInput.count))
    }

    /// Gradient of `sampleSums`: dInput[n, ...] += dSums[n].
    /// - Parameter dSums: length N.
    public static func sampleSumsBackward(dInput: inout Tensor, dSums: [Double]) {
        precondition(
            dInput.rank >= 1 && dSums.count == dInput.shape[0],
            "Reduce.sampleSumsBackward: \(dSums.count) sums for shape \(dInput.shape)")
        let m = dInput.sampleCount
        dInput.storage.withUnsafeMutableBufferPointer { dx in
            for (i, g) in dSums.enumerated() {
                let gf = Float(g)
                for j in 0..<m { dx[i * m + j] += gf }
            }
        }
    }

    /// Gradient of `sampleMeans`: dInput[n, ...] += dMeans[n] / (elements per sample).
    public static func sampleMeansBackward(dInput: inout Tensor, dMeans: [Double]) {
        let m = Double(dInput.sampleCount)
        sampleSumsBackward(dInput: &dInput, dSums: dMeans.map { $0 / m })
    }
}
