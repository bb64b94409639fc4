// x2 upsampling of NCHW tensors, nearest and bilinear, with PyTorch `F.interpolate(scale_factor=2)` semantics;
// backward is the exact adjoint (each output gradient scattered back with the forward's weights).

/// Output (N, C, 2H, 2W): out[oh, ow] = in[oh / 2, ow / 2] (mode='nearest').
public enum UpsampleNearest2x {
    /// - Parameter output: (N, C, 2H, 2W), overwritten.
    /// - Parameter input: (N, C, H, W)
    public static func forward(output: inout Tensor, input: Tensor) {
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
    public static func backward(dInput: inout Tensor, dOutput: Tensor) {
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

/// Output (N, C, 2H, 2W) by bilinear interpolation, mode='bilinear', align_corners=False: the source coordinate
/// of output index o is max((o + 0.5) / 2 - 0.5, 0); i0 = floor of it, i1 = min(i0 + 1, size - 1), weights
/// (1 - frac, frac). Borders therefore replicate the edge pixel.
public enum UpsampleBilinear2x {
    /// - Parameter output: (N, C, 2H, 2W), overwritten.
    /// - Parameter input: (N, C, H, W)
    public static func forward(output: inout Tensor, input: Tensor) {
        let (planes, h, w) = upsampleGeometry(output: output.shape, input: input.shape, "UpsampleBilinear2x.forward")
        input.storage.withUnsafeBufferPointer { x in
            output.storage.withUnsafeMutableBufferPointer { y in
                guard var x = x.baseAddress, var y = y.baseAddress else { return }
                for _ in 0..<planes {
                    for oh in 0..<(2 * h) {
                        let r = bilinearTap(oh, size: h)
                        let row0 = x + r.i0 * w
                        let row1 = x + r.i1 * w
                        let dst = y + oh * 2 * w
                        for ow in 0..<(2 * w) {
                            let c = bilinearTap(ow, size: w)
                            dst[ow] =
                                r.l0 * (c.l0 * row0[c.i0] + c.l1 * row0[c.i1])
                                + r.l1 * (c.l0 * row1[c.i0] + c.l1 * row1[c.i1])
                        }
                    }
                    x += h * w
                    y += 4 * h * w
                }
            }
        }
    }

    /// dInput += the adjoint of forward: each output gradient goes to its four taps with their weights.
    /// - Parameter dInput: (N, C, H, W), added to.
    /// - Parameter dOutput: (N, C, 2H, 2W)
    public static func backward(dInput: inout Tensor, dOutput: Tensor) {
        let (planes, h, w) = upsampleGeometry(output: dOutput.shape, input: dInput.shape, "UpsampleBilinear2x.backward")
        dOutput.storage.withUnsafeBufferPointer { dy in
            dInput.storage.withUnsafeMutableBufferPointer { dx in
                guard var dx = dx.baseAddress, var dy = dy.baseAddress else { return }
                for _ in 0..<planes {
                    for oh in 0..<(2 * h) {
                        let r = bilinearTap(oh, size: h)
                        let row0 = dx + r.i0 * w
                        let row1 = dx + r.i1 * w
                        let src = dy + oh * 2 * w
                        for ow in 0..<(2 * w) {
                            let c = bilinearTap(ow, size: w)
                            let g = src[ow]
                            row0[c.i0] += r.l0 * c.l0 * g
                            row0[c.i1] += r.l0 * c.l1 * g
                            row1[c.i0] += r.l1 * c.l0 * g
                            row1[c.i1] += r.l1 * c.l1 * g
                        }
                    }
                    dx += h * w
                    dy += 4 * h * w
                }
            }
        }
    }
}

/// The two source indices and weights of output index `o` along an axis of input length `size` (PyTorch's
/// area_pixel_compute_source_index with scale 0.5, clamped at 0; i1 stays at the last index on the far edge).
@inline(__always)
func bilinearTap(_ o: Int, size: Int) -> (i0: Int, i1: Int, l0: Float, l1: Float) {
    let src = max((Float(o) + 0.5) * 0.5 - 0.5, 0)
    let i0 = Int(src)
    let i1 = i0 < size - 1 ? i0 + 1 : i0
    let l1 = src - Float(i0)
    return (i0, i1, 1 - l1, l1)
}

/// (N*C planes, H, W) after checking output is (N, C, 2H, 2W) for input (N, C, H, W).
func upsampleGeometry(output: [Int], input: [Int], _ what: String) -> (planes: Int, h: Int, w: Int) {
    precondition(
        input.count == 4 && output == [input[0], input[1], 2 * input[2], 2 * input[3]],
        "\(what): output \(output) is not input \(input) upsampled x2")
    return (input[0] * input[1], input[2], input[3])
}
