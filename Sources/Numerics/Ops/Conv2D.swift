// 2-D convolution with PyTorch nn.Conv2d semantics: direct vectorised kernels for 3x3 / stride 1 / padding 1
// (Conv2DDirect.swift), im2col + one sgemm per image for every other geometry.

/// A convolution layer's geometry and scratch space; the parameters live in a `ParameterStore` and come in
/// as pointers, so one op instance serves any batch size and image size.
///
/// Layouts (PyTorch): input (N, Cin, H, W), weight (Cout, Cin, kh, kw), bias (Cout), output (N, Cout, Ho, Wo)
/// with Ho = floor((H + 2p - kh) / s) + 1 and Wo likewise; zero padding p on all four sides.
///
/// Cache: backward needs the forward's `input` and `weight` unchanged (the caller keeps them); the columns are
/// recomputed from `input` rather than kept, because keeping them costs Cin*kh*kw*Ho*Wo floats per image.
///
/// Workspace: Cin*kh*kw*Ho*Wo floats, grown on the first call for the largest image and then reused; pass one
/// `Workspace` to several layers to share it (they must not run concurrently). Sendable so a network can be
/// handed to its training task; it is not safe to call from two threads at once.
public final class Conv2D: @unchecked Sendable {
    public let inChannels, outChannels, kernelHeight, kernelWidth, stride, padding: Int
    public let workspace: Workspace
    /// `.automatic` (the default) takes the direct kernels where they apply; tests pin either path.
    public var algorithm: ConvAlgorithm = .automatic
    /// Instruction set of the direct kernels (default: the best this CPU runs; lower it to test the others).
    public var simdLevel: SIMDLevel = .best
    /// Threads of the direct kernels for this layer; nil (the default) follows `Parallel.threads`.
    public var threads: Int?

    public init(
        inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        stride: Int = 1, padding: Int = 0, workspace: Workspace = Workspace()
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0,
                     "Conv2D: bad geometry")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride; self.padding = padding
        self.workspace = workspace
    }

    /// Square kernel.
    public convenience init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                            workspace: Workspace = Workspace()) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
                  stride: stride, padding: padding, workspace: workspace)
    }

    /// (Cout, Cin, kh, kw)
    public var weightShape: [Int] { [outChannels, inChannels, kernelHeight, kernelWidth] }
    /// (Cout)
    public var biasShape: [Int] { [outChannels] }

    /// (N, Cout, Ho, Wo) for an input of shape (N, Cin, H, W).
    public func outputShape(input shape: [Int]) -> [Int] {
        let g = geometry(input: shape)
        return [shape[0], outChannels, g.outHeight, g.outWidth]
    }

    /// The output's height and width for an (N, inChannels, H, W) input (no shape array built).
    public func outputSize(input shape: [Int]) -> (height: Int, width: Int) {
        let g = geometry(input: shape)
        return (g.outHeight, g.outWidth)
    }

    func geometry(input shape: [Int]) -> ConvGeometry {
        precondition(shape.count == 4 && shape[1] == inChannels, "Conv2D: input \(shape), expected (N, \(inChannels), H, W)")
        return ConvGeometry(channels: inChannels, height: shape[2], width: shape[3], kernelHeight: kernelHeight,
                            kernelWidth: kernelWidth, stride: stride, padding: padding)
    }

    /// output = conv(input, weight) + bias. Overwrites `output`.
    /// - Parameter output: (N, Cout, Ho, Wo), allocated by the caller; keep it uniquely referenced so writing
    ///   it does not copy.
    /// - Parameter input: (N, Cin, H, W)
    /// - Parameter weight: (Cout, Cin, kh, kw)
    /// - Parameter bias: (Cout), or nil for none.
    public func forward(output: inout Tensor, input: Tensor, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) {
        let g = geometry(input: input.shape)
        let n = input.shape[0], k = g.columnRows, l = g.columnCount
        requireShape(output, [n, outChannels, g.outHeight, g.outWidth], "Conv2D.forward output")
        if directApplies {
            input.storage.withUnsafeBufferPointer { x in
                output.storage.withUnsafeMutableBufferPointer { y in
                    guard let x = x.baseAddress, let y = y.baseAddress else { return }
                    directForward(output: y, input: x, n: n, height: g.height, width: g.width, weight: weight, bias: bias)
                }
            }
            return
        }
        let cols = g.isPointwise ? nil : workspace.reserve(k * l)
        input.storage.withUnsafeBufferPointer { x in
            output.storage.withUnsafeMutableBufferPointer { y in
                guard let x = x.baseAddress, let y = y.baseAddress else { return }
                for i in 0..<n {
                    let xi = x + i * inChannels * g.height * g.width, yi = y + i * outChannels * l
                    if let bias {
                        for co in 0..<outChannels { (yi + co * l).update(repeating: bias[co], count: l) }
                    }
                    let b: UnsafePointer<Float>
                    if let cols {
                        im2col(columns: cols, image: xi, geometry: g)
                        b = UnsafePointer(cols)
                    } else {
                        b = xi
                    }
                    // (Cout, L) = weight (Cout, K) x columns (K, L)
                    sgemm(c: yi, a: weight, b: b, m: outChannels, n: l, k: k, beta: bias == nil ? 0 : 1)
                }
            }
        }
    }

    /// Gradients of `forward`, accumulated (+=) into `dInput`, `dWeight` and `dBias`.
    /// - Parameter dInput: (N, Cin, H, W), added to.
    /// - Parameter dWeight: (Cout, Cin, kh, kw), added to.
    /// - Parameter dBias: (Cout), added to; nil when the layer has no bias.
    /// - Parameter dOutput: (N, Cout, Ho, Wo)
    /// - Parameter input: (N, Cin, H, W), the forward's input.
    /// - Parameter weight: (Cout, Cin, kh, kw), the forward's weight.
    public func backward(
        dInput: inout Tensor, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
        dOutput: Tensor, input: Tensor, weight: UnsafePointer<Float>
    ) {
        requireSameShape(dInput, input, "Conv2D.backward dInput")
        dInput.storage.withUnsafeMutableBufferPointer { dx in
            backward(dInput: dx.baseAddress, dWeight: dWeight, dBias: dBias, dOutput: dOutput, input: input, weight: weight)
        }
    }

    /// The same without the input gradient (the first layer, whose input is data): saves the col2im pass.
    public func backward(dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?, dOutput: Tensor, input: Tensor) {
        backward(dInput: nil, dWeight: dWeight, dBias: dBias, dOutput: dOutput, input: input, weight: nil)
    }

    private func backward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
        dOutput: Tensor, input: Tensor, weight: UnsafePointer<Float>?
    ) {
        let g = geometry(input: input.shape)
        let n = input.shape[0], k = g.columnRows, l = g.columnCount, imageSize = inChannels * g.height * g.width
        requireShape(dOutput, [n, outChannels, g.outHeight, g.outWidth], "Conv2D.backward dOutput")
        if directApplies {
            input.storage.withUnsafeBufferPointer { x in
                dOutput.storage.withUnsafeBufferPointer { dy in
                    guard let x = x.baseAddress, let dy = dy.baseAddress else { return }
                    directBackward(dInput: dInput, dWeight: dWeight, dBias: dBias, dOutput: dy, input: x, n: n,
                                   height: g.height, width: g.width, weight: weight)
                }
            }
            return
        }
        let cols = g.isPointwise ? nil : workspace.reserve(k * l)
        input.storage.withUnsafeBufferPointer { x in
            dOutput.storage.withUnsafeBufferPointer { dy in
                guard let x = x.baseAddress, let dy = dy.baseAddress else { return }
                for i in 0..<n {
                    let xi = x + i * imageSize, dyi = dy + i * outChannels * l
                    if let dBias {
                        for co in 0..<outChannels {
                            let r = dyi + co * l
                            // Ho*Wo can reach 10^4 terms: a Double sum keeps the bias gradient to float precision.
                            var s = 0.0
                            for j in 0..<l { s += Double(r[j]) }
                            dBias[co] += Float(s)
                        }
                    }
                    let columns: UnsafePointer<Float>
                    if let cols {
                        im2col(columns: cols, image: xi, geometry: g)
                        columns = UnsafePointer(cols)
                    } else {
                        columns = xi
                    }
                    // dWeight (Cout, K) += dOutput (Cout, L) x columns^T (L, K)
                    sgemm(c: dWeight, a: dyi, b: columns, m: outChannels, n: k, k: l, transposeB: true, beta: 1)
                    guard let dInput, let weight else { continue }
                    let dxi = dInput + i * imageSize
                    if let cols {
                        // dColumns (K, L) = weight^T (K, Cout) x dOutput (Cout, L), reusing the column buffer.
                        sgemm(c: cols, a: weight, b: dyi, m: k, n: l, k: outChannels, transposeA: true, beta: 0)
                        col2imAccumulate(image: dxi, columns: cols, geometry: g)
                    } else {
                        sgemm(c: dxi, a: weight, b: dyi, m: k, n: l, k: outChannels, transposeA: true, beta: 1)
                    }
                }
            }
        }
    }
}
