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
package final class Conv2D: @unchecked Sendable {
    package let inChannels, outChannels, kernelHeight, kernelWidth, stride, padding: Int
    package let workspace: Workspace
    /// `.automatic` (the default) takes the direct kernels where they apply; tests pin either path.
    package var algorithm: ConvAlgorithm = .automatic
    /// Instruction set of the direct kernels (default: the best this CPU runs; lower it to test the others).
    package var simdLevel: SIMDLevel = .best
    /// Threads of the direct kernels for this layer; nil (the default) follows `Parallel.threads`.
    package var threads: Int?

    package init(
        inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        stride: Int = 1, padding: Int = 0, workspace: Workspace = Workspace()
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0,
            "Conv2D: bad geometry")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.workspace = workspace
    }

    /// Square kernel.
    package convenience init(
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        workspace: Workspace = Workspace()
    ) {
        self.init(
            inChannels: inChannels, outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
            stride: stride, padding: padding, workspace: workspace)
    }

    /// (Cout, Cin, kh, kw)
    package var weightShape: [Int] { [outChannels, inChannels, kernelHeight, kernelWidth] }
    /// (Cout)
    package var biasShape: [Int] { [outChannels] }

    /// (N, Cout, Ho, Wo) for an input of shape (N, Cin, H, W).
    package func outputShape(input shape: [Int]) -> [Int] {
        let g = geometry(input: shape)
        return [shape[0], outChannels, g.outHeight, g.outWidth]
    }

    /// The output's height and width for an (N, inChannels, H, W) input (no shape array built).
    package func outputSize(input shape: [Int]) -> (height: Int, width: Int) {
        let g = geometry(input: shape)
        return (g.outHeight, g.outWidth)
    }

    func geometry(input shape: [Int]) -> ConvGeometry {
        precondition(
            shape.count == 4 && shape[1] == inChannels, "Conv2D: input \(shape), expected (N, \(inChannels), H, W)")
        return ConvGeometry(
            channels: inChannels, height: shape[2], width: shape[3], kernelHeight: kernelHeight,
            kernelWidth: kernelWidth, stride: stride, padding: padding)
    }

    /// output = conv(input, weight) + bias. Overwrites `output`.
    /// - Parameter output: (N, Cout, Ho, Wo), allocated by the caller; keep it uniquely referenced so writing
    ///   it does not copy.
    /// - Parameter input: (N, Cin, H, W)
    /// - Parameter weight: (Cout, Cin, kh, kw)
    /// - Parameter bias: (Cout), or nil for none.
    package func forward(output: inout Tensor, input: Tensor, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?)
    {
        let g = geometry(input: input.shape)
        let n = input.shape[0]
        requireShape(output, n, outChannels, g.outHeight, g.outWidth, "Conv2D.forward output")
        if directApplies {
            input.storage.withUnsafeBufferPointer { x in
                output.storage.withUnsafeMutableBufferPointer { y in
                    guard let x = x.baseAddress, let y = y.baseAddress else { return }
                    directForward(
                        output: y, input: x, n: n, height: g.height, width: g.width, weight: weight, bias: bias)
                }
            }
            return
        }
        input.storage.withUnsafeBufferPointer { x in
            output.storage.withUnsafeMutableBufferPointer { y in
                guard let x = x.baseAddress, let y = y.baseAddress else { return }
                let threads = im2colThreads(n)
                let job = Im2colForwardJob(
                    conv: self, g: g, threads: threads, n: n, x: x, y: y, weight: weight, bias: bias)
                Parallel.run(threads, job)
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
    package func backward(
        dInput: inout Tensor, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
        dOutput: Tensor, input: Tensor, weight: UnsafePointer<Float>
    ) {
        requireSameShape(dInput, input, "Conv2D.backward dInput")
        dInput.storage.withUnsafeMutableBufferPointer { dx in
            backward(
                dInput: dx.baseAddress, dWeight: dWeight, dBias: dBias, dOutput: dOutput, input: input, weight: weight)
        }
    }

    /// The same without the input gradient (the first layer, whose input is data): saves the col2im pass.
    package func backward(
        dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?, dOutput: Tensor, input: Tensor
    ) {
        backward(dInput: nil, dWeight: dWeight, dBias: dBias, dOutput: dOutput, input: input, weight: nil)
    }

    private func backward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
        dOutput: Tensor, input: Tensor, weight: UnsafePointer<Float>?
    ) {
        let g = geometry(input: input.shape)
        let n = input.shape[0]
        let k = g.columnRows
        requireShape(dOutput, n, outChannels, g.outHeight, g.outWidth, "Conv2D.backward dOutput")
        if directApplies {
            input.storage.withUnsafeBufferPointer { x in
                dOutput.storage.withUnsafeBufferPointer { dy in
                    guard let x = x.baseAddress, let dy = dy.baseAddress else { return }
                    directBackward(
                        dInput: dInput, dWeight: dWeight, dBias: dBias, dOutput: dy, input: x, n: n,
                        height: g.height, width: g.width, weight: weight)
                }
            }
            return
        }
        input.storage.withUnsafeBufferPointer { x in
            dOutput.storage.withUnsafeBufferPointer { dy in
                guard let x = x.baseAddress, let dy = dy.baseAddress else { return }
                let threads = im2colThreads(n)
                if threads == 1 {
                    // One part: straight into dWeight and dBias, image after image.
                    let job = Im2colBackwardJob(
                        conv: self, g: g, threads: 1, n: n, x: x, dy: dy, dInput: dInput,
                        weight: weight, dWeight: dWeight, dBias: dBias)
                    job.run(part: 0)
                    return
                }
                // Several: each part sums its images' weight and bias gradients in its own slot; the slots are then
                // added in order (deterministic for a given thread count).
                let weightCount = outChannels * k
                for t in 0..<threads { _ = workspace.slot(t).reserve(columnFloats(g) + weightCount + outChannels) }
                Parallel.run(
                    threads,
                    Im2colBackwardJob(
                        conv: self, g: g, threads: threads, n: n, x: x, dy: dy,
                        dInput: dInput, weight: weight, dWeight: nil, dBias: dBias))
                for t in 0..<threads {
                    let partial = workspace.slot(t).pointer + columnFloats(g)
                    for j in 0..<weightCount { dWeight[j] += partial[j] }
                    if let dBias {
                        for co in 0..<outChannels { dBias[co] += partial[weightCount + co] }
                    }
                }
            }
        }
    }

    /// Parts the im2col path splits a batch of n images into. Several parts each call a single-threaded sgemm
    /// (OpenBLAS limited to one thread: its threaded sgemm allocates on every call, and small per-image GEMMs gain
    /// little from it); one part, when the batch has a single image or one thread is asked for, leaves OpenBLAS
    /// its threads.
    func im2colThreads(_ n: Int) -> Int {
        let threads = max(1, self.threads ?? Parallel.threads)
        let parts = min(threads, n)
        BLASThreads.set(parts > 1 ? 1 : threads)
        if parts > 1 { workspace.ensureSlots(parts) }
        return parts
    }

    /// Floats of one image's column matrix (none for a pointwise convolution, whose columns are the image).
    func columnFloats(_ g: ConvGeometry) -> Int { g.isPointwise ? 0 : g.columnRows * g.columnCount }

    /// The columns part `t` of `parts` unfolds into: the layer's workspace for a single part, else its slot.
    func columns(part t: Int, of parts: Int, _ g: ConvGeometry) -> UnsafeMutablePointer<Float>? {
        if g.isPointwise { return nil }
        return parts == 1 ? workspace.reserve(columnFloats(g)) : workspace.slot(t).reserve(columnFloats(g))
    }

    /// One image's column matrix: unfolded into `cols`, or the image itself when there are none (pointwise).
    @inline(__always)
    private static func columnMatrix(
        _ image: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>?,
        _ g: ConvGeometry
    ) -> UnsafePointer<Float> {
        guard let cols else { return image }
        im2col(columns: cols, image: image, geometry: g)
        return UnsafePointer(cols)
    }

    /// The im2col forward of a share of the batch: per image, columns then one sgemm.
    private struct Im2colForwardJob: ParallelJob {
        let conv: Conv2D, g: ConvGeometry, threads: Int, n: Int
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        let weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?

        func run(part t: Int) {
            let cols = conv.columns(part: t, of: threads, g)
            let cin = conv.inChannels
            let cout = conv.outChannels
            let k = g.columnRows
            let l = g.columnCount
            for i in Parallel.share(t, of: threads, total: n) {
                let xi = x + i * cin * g.height * g.width
                let yi = y + i * cout * l
                if let bias {
                    for co in 0..<cout { (yi + co * l).update(repeating: bias[co], count: l) }
                }
                // (Cout, L) = weight (Cout, K) x columns (K, L)
                sgemm(
                    c: yi, a: weight, b: Conv2D.columnMatrix(xi, cols, g), m: cout, n: l, k: k,
                    beta: bias == nil ? 0 : 1)
            }
        }
    }

    /// The im2col backward of a share of the batch. With `dWeight` given (a single part) it accumulates into it
    /// and into dBias directly; with nil, into the part's slot after its columns: Cout*K weight-gradient floats,
    /// then Cout bias sums.
    private struct Im2colBackwardJob: ParallelJob {
        let conv: Conv2D, g: ConvGeometry, threads: Int, n: Int
        let x: UnsafePointer<Float>, dy: UnsafePointer<Float>
        let dInput: UnsafeMutablePointer<Float>?, weight: UnsafePointer<Float>?
        let dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?

        func run(part t: Int) {
            let cin = conv.inChannels
            let cout = conv.outChannels
            let k = g.columnRows
            let l = g.columnCount
            let imageSize = cin * g.height * g.width
            let cols = conv.columns(part: t, of: threads, g)
            let partial = dWeight == nil ? conv.workspace.slot(t).pointer + conv.columnFloats(g) : nil
            if let partial { partial.update(repeating: 0, count: cout * k + cout) }
            let dW = dWeight ?? partial!
            let biasSums = dBias == nil ? nil : (partial.map { $0 + cout * k } ?? dBias)
            for i in Parallel.share(t, of: threads, total: n) {
                let xi = x + i * imageSize
                let dyi = dy + i * cout * l
                if let biasSums {
                    for co in 0..<cout {
                        let r = dyi + co * l
                        // Ho*Wo can reach 10^4 terms: a Double sum keeps the bias gradient to float precision.
                        var s = 0.0
                        for j in 0..<l { s += Double(r[j]) }
                        biasSums[co] += Float(s)
                    }
                }
                // dWeight (Cout, K) += dOutput (Cout, L) x columns^T (L, K)
                sgemm(
                    c: dW, a: dyi, b: Conv2D.columnMatrix(xi, cols, g), m: cout, n: k, k: l, transposeB: true, beta: 1)
                guard let dInput, let weight else { continue }
                let dxi = dInput + i * imageSize
                if let cols {
                    // dColumns (K, L) = weight^T (K, Cout) x dOutput (Cout, L), reusing the column buffer.
                    sgemm(c: cols, a: weight, b: dyi, m: k, n: l, k: cout, transposeA: true, beta: 0)
                    col2imAccumulate(image: dxi, columns: cols, geometry: g)
                } else {
                    sgemm(c: dxi, a: weight, b: dyi, m: k, n: l, k: cout, transposeA: true, beta: 1)
                }
            }
        }
    }
}
