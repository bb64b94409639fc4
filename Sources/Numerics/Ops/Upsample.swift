// x2 nearest upsampling of NCHW tensors (the U-Net decoder's), with PyTorch `F.interpolate(scale_factor=2)`
// semantics; backward is the exact adjoint (each output gradient added back to its source pixel).

/// Output (N, C, 2H, 2W): out[oh, ow] = in[oh / 2, ow / 2] (mode='nearest').
package enum UpsampleNearest2x {
    /// - Parameter output: (N, C, 2H, 2W), overwritten.
    /// - Parameter input: (N, C, H, W)
    package static func forward(output: inout Tensor, input: Tensor) {
        let (planes, h, w) = upsampleGeometry(output: output.shape, input: input.shape, "UpsampleNearest2x.forward")
        input.storage.withUnsafeBufferPointer { x in
            output.storage.withUnsafeMutableBufferPointer { y in
                guard var x = x.baseAddress, var y = y.baseAddress else { return }
                for _ in 0..<planes {
                    for oh in 0..<(2 * h) {
                        let src = x + (oh / 2) * w
                        let dst = y + oh * 2 * w
                        for ow in 0..<(2 * w) { dst[ow] = src[ow / 2] }
                    }
                    x += h * w
                    y += 4 * h * w
                }
            }
        }
    }

    /// dInput[h, w] += sum of the 2x2 output gradients it was copied to.
    /// - Parameter dInput: (N, C, H, W), added to.
    /// - Parameter dOutput: (N, C, 2H, 2W)
    package static func backward(dInput: inout Tensor, dOutput: Tensor) {
        let (planes, h, w) = upsampleGeometry(output: dOutput.shape, input: dInput.shape, "UpsampleNearest2x.backward")
        dOutput.storage.withUnsafeBufferPointer { dy in
            dInput.storage.withUnsafeMutableBufferPointer { dx in
                guard var dx = dx.baseAddress, var dy = dy.baseAddress else { return }
                for _ in 0..<planes {
                    for oh in 0..<(2 * h) {
                        let dst = dx + (oh / 2) * w
                        let src = dy + oh * 2 * w
                        for ow in 0..<(2 * w) { dst[ow / 2] += src[ow] }
                    }
                    dx += h * w
                    dy += 4 * h * w
                }
            }
        }
    }
}

/// (N*C planes, H, W) after checking output is (N, C, 2H, 2W) for input (N, C, H, W).
func upsampleGeometry(output: [Int], input: [Int], _ what: String) -> (planes: Int, h: Int, w: Int) {
    precondition(
        input.count == 4 && output == [input[0], input[1], 2 * input[2], 2 * input[3]],
        "\(what): output \(output) is not input \(input) upsampled x2")
    return (input[0] * input[1], input[2], input[3])
}
