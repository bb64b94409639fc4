// Channel concatenation of two NCHW tensors (U-Net skip connections) and its gradient split.

/// output = cat([a, b], dim=1): per sample, a's channels then b's.
package enum ChannelConcat {
    /// (N, Ca + Cb, H, W) for a (N, Ca, H, W) and b (N, Cb, H, W).
    package static func outputShape(a: [Int], b: [Int]) -> [Int] {
        let c = outputChannels(a: a, b: b)
        return [a[0], c, a[2], a[3]]
    }

    /// Ca + Cb, after checking that a and b agree outside the channel axis.
    static func outputChannels(a: [Int], b: [Int]) -> Int {
        precondition(
            a.count == 4 && b.count == 4 && a[0] == b[0] && a[2] == b[2] && a[3] == b[3] && a[1] > 0 && b[1] > 0,
            "ChannelConcat: shapes \(a) and \(b) differ outside the channel axis (or one has no channels)")
        return a[1] + b[1]
    }

    /// Traps unless `t` is (N, Ca + Cb, H, W) for a and b; builds no array.
    private static func requireConcatShape(_ t: Tensor, a: [Int], b: [Int], _ what: @autoclosure () -> String) {
        requireShape(t, a[0], outputChannels(a: a, b: b), a[2], a[3], what())
    }

    /// - Parameter output: (N, Ca + Cb, H, W), overwritten.
    /// - Parameter a: (N, Ca, H, W)
    /// - Parameter b: (N, Cb, H, W)
    package static func forward(output: inout Tensor, a: Tensor, b: Tensor) {
        requireConcatShape(output, a: a.shape, b: b.shape, "ChannelConcat.forward output")
        let n = a.shape[0]
        let sa = a.sampleCount
        let sb = b.sampleCount
        if output.count == 0 { return }
        a.storage.withUnsafeBufferPointer { a in
            b.storage.withUnsafeBufferPointer { b in
                output.storage.withUnsafeMutableBufferPointer { y in
                    for i in 0..<n {
                        let yi = y.baseAddress! + i * (sa + sb)
                        yi.update(from: a.baseAddress! + i * sa, count: sa)
                        (yi + sa).update(from: b.baseAddress! + i * sb, count: sb)
                    }
                }
            }
        }
    }

    /// dA += dOutput's first Ca channels, dB += the remaining Cb.
    /// - Parameter dA: (N, Ca, H, W), added to.
    /// - Parameter dB: (N, Cb, H, W), added to.
    /// - Parameter dOutput: (N, Ca + Cb, H, W)
    package static func backward(dA: inout Tensor, dB: inout Tensor, dOutput: Tensor) {
        requireConcatShape(dOutput, a: dA.shape, b: dB.shape, "ChannelConcat.backward dOutput")
        let n = dA.shape[0]
        let sa = dA.sampleCount
        let sb = dB.sampleCount
        if dOutput.count == 0 { return }
        dOutput.storage.withUnsafeBufferPointer { dy in
            dA.storage.withUnsafeMutableBufferPointer { da in
                dB.storage.withUnsafeMutableBufferPointer { db in
                    for i in 0..<n {
                        let dyi = dy.baseAddress! + i * (sa + sb)
                        let dai = da.baseAddress! + i * sa
                        let dbi = db.baseAddress! + i * sb
                        for j in 0..<sa { dai[j] += dyi[j] }
                        for j in 0..<sb { dbi[j] += dyi[sa + j] }
                    }
                }
            }
        }
    }
}
