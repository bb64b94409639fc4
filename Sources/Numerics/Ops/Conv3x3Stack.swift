// A stack of 3x3 convolutions (stride 1, padding 1) with LeakyReLU between them, run image by image on the
// padded-width grid of the direct kernels: activations stay padded from layer to layer (no pad/unpad, no
// separate activation pass), and each thread takes whole images through every layer, so one image's
// activations stay in its core's cache.
import CKernels

/// How `Conv3x3Stack` computes a layer (and the d input of its backward pass).
package enum Conv3x3Algorithm: String, Sendable, CaseIterable {
    /// `winograd` for layers with at least `Conv3x3Algorithm.winogradMinChannels` input and output channels,
    /// `direct` for the rest (the 3-channel first and last layers).
    case automatic = "auto"
    /// The direct kernels: one dot product of 9 x cin terms per output, float rounding of a plain sum.
    case direct
    /// Winograd F(4x4, 3x3): 4x fewer multiplications, worst rounding error about 10x the direct one's
    /// (1.4-1.9e-6 vs 1.2-1.6e-7 of the largest output on a 32-channel layer: tools/winograd/points.py;
    /// OpsWinogradTests bounds it).
    case winograd

    /// Below this many channels in or out, `automatic` keeps a layer direct: its transforms would cost more
    /// than the products they save.
    package static let winogradMinChannels = 8

    /// Whether a cin -> cout layer runs Winograd under this choice.
    package func usesWinograd(cin: Int, cout: Int) -> Bool {
        switch self {
        case .direct: return false
        case .winograd: return true
        case .automatic: return min(cin, cout) >= Self.winogradMinChannels
        }
    }
}

/// channels[0] -> channels[1] -> ... -> channels.last, LeakyReLU(slope) after every layer but the last.
///
/// forward saves every layer's padded input for backward; call them in pairs. Buffers grow on the first
/// call for a batch shape and are reused; a steady-state call allocates nothing. The weight and bias
/// gradients of a step are summed per thread and then added in thread order, so results are bit-identical
/// run to run for a given thread count (a different count rounds the sums differently, within float precision).
package final class Conv3x3Stack: @unchecked Sendable {
    package let channels: [Int]
    package let slope: Float
    /// Instruction set of the kernels (default: the best this CPU runs).
    package var simdLevel: SIMDLevel = .best
    /// Threads for this stack; nil (the default) follows `Parallel.threads`.
    package var threads: Int?
    /// Whether a large image, or fewer images than threads, goes through the layers in strips of rows
    /// (`forwardInRows`); false: always whole images per thread, layer after layer. The outputs and saved
    /// activations are the same bit for bit either way (PlainNetKernelTests); only the speed differs.
    package var rowOrder = true
    /// Direct or Winograd, per layer (forward, d input and weight gradient alike).
    package var algorithm: Conv3x3Algorithm = .automatic {
        didSet { if algorithm != oldValue { geometry = nil } }
    }

    private var layers: Int { channels.count - 1 }
    private var geometry: DirectGeometry?
    private var batch = 0
    /// acts[l]: padded inputs of layer l, (N, channels[l], plane).
    private let acts: [Workspace]
    /// forwardInRows' progress per layer: output rows computed so far and rows finished (kept here so that a
    /// steady-state forward allocates nothing).
    private var rowsComputed: [Int]
    private var rowsFinished: [Int]
    private let packed: Workspace, packedAdjoint: Workspace
    /// Per-thread scratch.
    private let scratch = Workspace()
    private var threadsUsed = 1
    /// Layouts for the current geometry and level (computed when either changes, so steady-state calls
    /// allocate nothing).
    private var forwardPacking: (offsets: [Int], total: Int) = ([], 0)
    private var adjointPacking: (offsets: [Int], total: Int) = ([], 0)
    private var gradients: (acc: [Int], sums: [Int], floats: Int) = ([], [], 0)

    package init(channels: [Int], slope: Float) {
        precondition(channels.count >= 2 && channels.allSatisfy { $0 >= 1 }, "Conv3x3Stack: bad channels \(channels)")
        self.channels = channels
        self.slope = slope
        acts = (0..<(channels.count - 1)).map { _ in Workspace() }
        rowsComputed = [Int](repeating: 0, count: channels.count - 1)
        rowsFinished = [Int](repeating: 0, count: channels.count - 1)
        packed = Workspace()
        packedAdjoint = Workspace()
    }

    private func winograd(_ l: Int) -> Bool { algorithm.usesWinograd(cin: channels[l], cout: channels[l + 1]) }

    private func packedOffsets(adjoint: Bool) -> (offsets: [Int], total: Int) {
        var offsets: [Int] = []
        var total = 0
        for l in 0..<layers {
            offsets.append(total)
            if adjoint && l == 0 { continue }  // the first layer's input is data: no d input, no adjoint weights
            let (a, b) = adjoint ? (channels[l], channels[l + 1]) : (channels[l + 1], channels[l])
            total +=
                winograd(l)
                ? hp_wino_packed_count(simdLevel.rawValue, Int32(a), Int32(b))
                : hp_conv3x3_packed_count(simdLevel.rawValue, Int32(a), Int32(b))
            total = (total + 15) / 16 * 16
        }
        return (offsets, total)
    }

    /// Floats of Winograd scratch one thread needs for any layer: forward, d input or weight gradient.
    private func winogradScratch() -> Int {
        var most = 0
        let level = simdLevel.rawValue
        for l in 0..<layers where winograd(l) {
            let (cin, cout) = (Int32(channels[l]), Int32(channels[l + 1]))
            most = max(
                most, hp_wino_scratch_count(level, cout, cin), hp_wino_scratch_count(level, cin, cout),
                hp_wino_grad_scratch_count(level, cout, cin))
        }
        return (most + 15) / 16 * 16
    }

    private func pack(_ l: Int, _ weights: UnsafePointer<Float>, adjoint: Bool, into p: UnsafeMutablePointer<Float>) {
        let (cout, cin, a) = (Int32(channels[l + 1]), Int32(channels[l]), Int32(adjoint ? 1 : 0))
        if winograd(l) {
            hp_wino_pack(simdLevel.rawValue, weights, cout, cin, a, p)
        } else {
            hp_conv3x3_pack(simdLevel.rawValue, weights, cout, cin, a, p)
        }
    }

    /// One layer (or its adjoint) on one image: src (cin planes) -> y, y at output pixel (0, 0) of its grid.
    /// Winograd applies `act` as it writes (mask: the saved activations, y's layout, for HP_ACT_LEAKY_GRAD) and
    /// returns true; the direct kernels leave it to the caller's finishing pass and return false.
    private func convolve(
        _ l: Int, adjoint: Bool, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        src: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        act: Int32 = Int32(HP_ACT_NONE), mask: UnsafePointer<Float>? = nil
    ) -> Bool {
        let g = geometry!
        let level = simdLevel.rawValue
        let (cin, cout) = adjoint ? (channels[l + 1], channels[l]) : (channels[l], channels[l + 1])
        if winograd(l) {
            hp_wino_forward(
                level, packed, bias, Int32(cout), Int32(cin), src, g.plane, Int32(g.height), Int32(g.width),
                y, g.plane, scratch, act, slope, mask)
            return true
        }
        hp_conv3x3_forward(
            level, packed, bias, Int32(cout), Int32(cin), src, g.plane, Int32(g.wp), y, g.plane, 0,
            Int32(g.outCount))
        return false
    }

    /// Weight-gradient accumulators (direct: lanes per tap; Winograd: transformed-domain sums) and bias sums of
    /// every layer, per thread.
    private func gradientLayout(_ g: DirectGeometry) -> (acc: [Int], sums: [Int], floats: Int) {
        var acc: [Int] = []
        var sums: [Int] = []
        var total = 0
        for l in 0..<layers {
            acc.append(total)
            let (cin, cout) = (channels[l], channels[l + 1])
            total +=
                winograd(l)
                ? hp_wino_grad_acc_count(simdLevel.rawValue, Int32(cout), Int32(cin)) : cout * cin * 9 * g.lanes
            total = (total + 15) / 16 * 16
        }
        for l in 0..<layers {
            sums.append(total)
            total += 2 * channels[l + 1]  // doubles
        }
        return (acc, sums, total)
    }

    /// - Parameter input: (N, channels[0], H, W).
    /// - Parameter output: (N, channels.last, H, W), overwritten (reallocated only if its shape differs).
    /// - Parameter weights: layer l's (channels[l+1], channels[l], 3, 3). - Parameter biases: layer l's (channels[l+1]).
    package func forward(
        input: Tensor, output: inout Tensor, weights: [UnsafePointer<Float>], biases: [UnsafePointer<Float>]
    ) {
        precondition(
            input.rank == 4 && input.shape[1] == channels[0],
            "Conv3x3Stack: input \(input.shape), expected (N, \(channels[0]), H, W)")
        precondition(weights.count == layers && biases.count == layers)
        let n = input.shape[0]
        let h = input.shape[2]
        let w = input.shape[3]
        let cOut = channels[layers]
        let o = output.shape
        if o.count != 4 || o[0] != n || o[1] != cOut || o[2] != h || o[3] != w {
            output = Tensor(zeros: [n, cOut, h, w])
        }
        if geometry?.height != h || geometry?.width != w || batch != n
            || geometry?.block != Int(hp_conv3x3_block(simdLevel.rawValue))
        {
            geometry = DirectGeometry(height: h, width: w, level: simdLevel)
            batch = n
            forwardPacking = packedOffsets(adjoint: false)
            adjointPacking = packedOffsets(adjoint: true)
            gradients = gradientLayout(geometry!)
        }
        let g = geometry!
        let plane = g.plane
        for l in 0..<layers { _ = acts[l].reserve(n * channels[l] * plane) }
        let (offsets, total) = forwardPacking
        let pk = packed.reserve(total)
        for l in 0..<layers { pack(l, weights[l], adjoint: false, into: pk + offsets[l]) }
        let wanted = max(1, self.threads ?? Parallel.threads)
        let threads = min(wanted, n)
        // Fewer images than threads (inference on one image): every layer split into bands of rows instead.
        let bands = rowOrder && n < wanted && h >= 8 * wanted ? wanted : 1
        // Large images go through the layers a strip of rows at a time (forwardInRows), so that what one layer
        // writes is still in cache when the next reads it.
        let inRows = rowOrder && (bands > 1 || (threads == 1 && h * w >= Self.rowOrderMinPixels))
        threadsUsed = threads
        scratch.ensureSlots(max(threads, bands))
        let winoFloats = winogradScratch()
        for t in 0..<max(threads, bands) { _ = scratch.slot(t).reserve(cOut * plane + winoFloats) }
        input.storage.withUnsafeBufferPointer { xb in
            output.storage.withUnsafeMutableBufferPointer { yb in
                guard let x = xb.baseAddress, let y = yb.baseAddress else { return }
                if inRows {
                    forwardInRows(bands, batch: n, x: x, y: y, packed: pk, biases: biases)
                    return
                }
                Parallel.run(
                    threads,
                    ForwardJob(
                        stack: self, threads: threads, batch: n, x: x, y: y, packed: pk,
                        biases: biases))
            }
        }
    }

    /// Images of at least this many pixels take forwardInRows even on one thread (a 16-channel activation of
    /// 256 x 256 is 4 MB, past the L2 cache).
    package static let rowOrderMinPixels = 256 * 256

    /// Rows of the first layer's output per step of forwardInRows and band (a multiple of 4). Measured on the
    /// default network (d4 w16, 1024 x 1024, AVX2): 4 to 64 rows alike on one thread (171 ms against 200 for
    /// layer after layer); with two bands 32 per band (91 ms) against 110 for 4 (a barrier per layer and step).
    static let stripRowsPerBand = 32

    /// The forward one image at a time, in steps: each step computes the first layer's next
    /// `stripRowsPerBand` x `bands` rows and then, in every later layer, the rows whose inputs are now final, so
    /// each layer reads rows the layer before wrote moments ago (in cache) instead of a whole-image activation
    /// from memory. Each layer's rows of a step are split into `bands` bands computed in parallel (a barrier
    /// between layers: a layer reads its input's rows beside its band), then finished (LeakyReLU, border). Row
    /// ranges start at multiples of 4 rows for Winograd (its tiles fall where they fall for the whole image) and
    /// the direct kernels' output ranges at multiples of their block, so every output is computed exactly as in
    /// the image-per-thread forward: the results are bit for bit the same (PlainNetKernelTests).
    private func forwardInRows(
        _ bands: Int, batch n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        packed: UnsafeMutablePointer<Float>, biases: [UnsafePointer<Float>]
    ) {
        let g = geometry!
        let h = g.height
        let cOut = channels[layers]
        for i in 0..<n {
            hp_pad(
                x + i * channels[0] * g.height * g.width, Int32(channels[0]), Int32(g.height), Int32(g.width),
                acts[0].pointer + i * channels[0] * g.plane, g.plane)
            // Per layer: output rows computed so far (the next range starts there) and rows finished (final).
            rowsComputed.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            rowsFinished.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            var top = 0
            while rowsComputed[layers - 1] < h {
                top = min(h, top + Self.stripRowsPerBand * bands)
                for l in 0..<layers {
                    // Output rows [a, b) need input rows up to b final (the 3x3 window), all of them at the bottom.
                    var b = top
                    if l > 0 { b = rowsFinished[l - 1] == h ? h : min(h, rowsFinished[l - 1] - 1) }
                    if winograd(l) && b < h { b = b / 4 * 4 }
                    let a = rowsComputed[l]
                    guard b > a else { continue }
                    let job = BandJob(
                        stack: self, bands: bands, image: i, layer: l, rows: a..<b, packed: packed, bias: biases[l])
                    Parallel.run(bands, job)
                    rowsComputed[l] = b
                    guard l + 1 < layers else { continue }
                    // A direct kernel's range ends at a multiple of its block: the rest of row b - 1 comes with
                    // the next range, and so does that row's finishing.
                    let done = winograd(l) || b == h ? b : min(b, b * g.wp / g.block * g.block / g.wp)
                    if done > rowsFinished[l] {
                        Parallel.run(bands, BandJob(job, finishing: rowsFinished[l]..<done))
                        rowsFinished[l] = done
                    }
                }
            }
            hp_unpad(
                scratch.slot(0).pointer, g.plane, Int32(cOut), Int32(g.height), Int32(g.width),
                y + i * cOut * g.height * g.width, 0)
        }
    }

    private struct BandJob: ParallelJob {
        let stack: Conv3x3Stack, bands: Int, image: Int, layer: Int
        var rows: Range<Int>
        let packed: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>
        var finishing = false
        init(
            stack: Conv3x3Stack, bands: Int, image: Int, layer: Int, rows: Range<Int>,
            packed: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>
        ) {
            (self.stack, self.bands, self.image, self.layer, self.rows, self.packed, self.bias) =
                (stack, bands, image, layer, rows, packed, bias)
        }
        init(_ other: BandJob, finishing rows: Range<Int>) {
            self = other
            self.rows = rows
            self.finishing = true
        }
        func run(part: Int) { stack.band(part: part, of: self) }
    }

    /// Band `t` of one layer's rows `job.rows` of one image: its rows of the convolution, or (finishing) their
    /// LeakyReLU and border. Bands split the rows in groups of 4 from the range's start.
    private func band(part t: Int, of job: BandJob) {
        let g = geometry!
        let l = job.layer
        let groups = (job.rows.count + 3) / 4
        let share = Parallel.share(t, of: job.bands, total: groups)
        let r0 = min(job.rows.lowerBound + share.lowerBound * 4, job.rows.upperBound)
        let r1 = min(job.rows.lowerBound + share.upperBound * 4, job.rows.upperBound)
        let (cin, cout) = (channels[l], channels[l + 1])
        let lastLayer = l + 1 == layers
        let dst = lastLayer ? scratch.slot(0).pointer : acts[l + 1].pointer + job.image * cout * g.plane
        guard r0 < r1 else { return }
        if job.finishing {
            hp_finish_padded_rows(
                dst, Int32(cout), Int32(g.height), Int32(g.width), g.plane, winograd(l) ? 0 : 1, slope, Int32(r0),
                Int32(r1))
            return
        }
        let src = acts[l].pointer + job.image * cin * g.plane
        let out = lastLayer ? dst : dst + g.wp + 1
        let packed = job.packed + forwardPacking.offsets[l]
        let level = simdLevel.rawValue
        if winograd(l) {
            hp_wino_forward(
                level, packed, job.bias, Int32(cout), Int32(cin), src + r0 * g.wp, g.plane, Int32(r1 - r0),
                Int32(g.width), out + r0 * g.wp, g.plane, scratch.slot(t).pointer + cOutPlane(g),
                Int32(lastLayer ? HP_ACT_NONE : HP_ACT_LEAKY), slope, nil)
        } else {
            // Output indices on the padded-width grid, band edges rounded down to the kernels' block.
            let j0 = r0 * g.wp / g.block * g.block
            let j1 = r1 == g.height ? g.outCount : r1 * g.wp / g.block * g.block
            hp_conv3x3_forward(
                level, packed, job.bias, Int32(cout), Int32(cin), src, g.plane, Int32(g.wp), out, g.plane,
                Int32(j0), Int32(j1))
        }
    }

    /// Where a scratch slot's Winograd scratch starts: after the last layer's padded output.
    private func cOutPlane(_ g: DirectGeometry) -> Int { channels[layers] * g.plane }

    private struct ForwardJob: ParallelJob {
        let stack: Conv3x3Stack, threads: Int, batch: Int
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, packed: UnsafeMutablePointer<Float>
        let biases: [UnsafePointer<Float>]
        func run(part: Int) { stack.forward(part: part, of: self) }
    }

    /// Part `part` of a forward: its share of the images through every layer.
    private func forward(part t: Int, of job: ForwardJob) {
        let g = geometry!
        let plane = g.plane
        let h = g.height
        let w = g.width
        let cOut = channels[layers]
        let pk = job.packed
        let offsets = forwardPacking.offsets
        let imageIn = channels[0] * h * w
        let imageOut = cOut * h * w
        let last = scratch.slot(t).pointer
        let wino = last + cOut * plane
        for i in Parallel.share(t, of: job.threads, total: job.batch) {
            hp_pad(
                job.x + i * imageIn, Int32(channels[0]), Int32(h), Int32(w), acts[0].pointer + i * channels[0] * plane,
                plane)
            for l in 0..<layers {
                let cin = channels[l]
                let cout = channels[l + 1]
                let src = acts[l].pointer + i * cin * plane
                if l + 1 < layers {
                    let dst = acts[l + 1].pointer + i * cout * plane
                    let activated = convolve(
                        l, adjoint: false, packed: pk + offsets[l], bias: job.biases[l],
                        src: src, y: dst + g.wp + 1, scratch: wino, act: Int32(HP_ACT_LEAKY))
                    hp_finish_padded(dst, Int32(cout), Int32(h), Int32(w), plane, activated ? 0 : 1, slope)
                } else {
                    _ = convolve(
                        l, adjoint: false, packed: pk + offsets[l], bias: job.biases[l], src: src, y: last,
                        scratch: wino)
                    hp_unpad(last, plane, Int32(cout), Int32(h), Int32(w), job.y + i * imageOut, 0)
                }
            }
        }
    }

    /// Accumulates (+=) every layer's weight and bias gradient from d output (N, channels.last, H, W), for the
    /// last `forward`. The stack's input gets no gradient (it is data).
    package func backward(
        dOutput: Tensor, weights: [UnsafePointer<Float>], dWeights: [UnsafeMutablePointer<Float>],
        dBiases: [UnsafeMutablePointer<Float>]
    ) {
        guard let g = geometry else { preconditionFailure("Conv3x3Stack.backward before forward") }
        let n = batch
        let h = g.height
        let w = g.width
        let plane = g.plane
        let level = simdLevel.rawValue
        let d = dOutput.shape
        precondition(
            d.count == 4 && d[0] == n && d[1] == channels[layers] && d[2] == h && d[3] == w,
            "Conv3x3Stack.backward: d output \(dOutput.shape)")
        let (offsets, total) = adjointPacking
        let pk = packedAdjoint.reserve(total)
        for l in 1..<max(1, layers) { pack(l, weights[l], adjoint: true, into: pk + offsets[l]) }
        let threads = threadsUsed
        let widest = channels.max()!
        let layout = gradients
        let winoFloats = winogradScratch()
        let perThread = 2 * widest * plane + layout.floats + winoFloats
        for t in 0..<threads { _ = scratch.slot(t).reserve(perThread) }
        dOutput.storage.withUnsafeBufferPointer { db in
            guard let dy = db.baseAddress else { return }
            Parallel.run(threads, BackwardJob(stack: self, threads: threads, dy: dy, packed: pk))
        }
        for t in 0..<threads {
            let grads = scratch.slot(t).pointer + 2 * widest * plane
            for l in 0..<layers {
                let cin = channels[l]
                let cout = channels[l + 1]
                if winograd(l) {
                    hp_wino_grad_finish(level, grads + layout.acc[l], Int32(cout), Int32(cin), dWeights[l])
                } else {
                    hp_reduce_lanes(level, grads + layout.acc[l], cout * cin * 9, dWeights[l])
                }
                let sums = UnsafeMutableRawPointer(grads + layout.sums[l]).assumingMemoryBound(to: Double.self)
                for co in 0..<cout { dBiases[l][co] += Float(sums[co]) }
            }
        }
    }

    private struct BackwardJob: ParallelJob {
        let stack: Conv3x3Stack, threads: Int
        let dy: UnsafePointer<Float>, packed: UnsafeMutablePointer<Float>
        func run(part: Int) { stack.backward(part: part, of: self) }
    }

    /// Part `part` of a backward: its share of the images back through every layer, weight and bias gradients
    /// summed into the part's own accumulators.
    private func backward(part t: Int, of job: BackwardJob) {
        let g = geometry!
        let n = batch
        let h = g.height
        let w = g.width
        let plane = g.plane
        let level = simdLevel.rawValue
        let widest = channels.max()!
        let layout = gradients
        let pk = job.packed
        let offsets = adjointPacking.offsets
        let imageOut = channels[layers] * h * w
        let base = scratch.slot(t).pointer
        var gCur = base
        var gNext = base + widest * plane
        let grads = base + 2 * widest * plane
        let wino = grads + layout.floats
        grads.update(repeating: 0, count: layout.floats)
        for i in Parallel.share(t, of: job.threads, total: n) {
            gCur = base
            gNext = base + widest * plane
            hp_pad(job.dy + i * imageOut, Int32(channels[layers]), Int32(h), Int32(w), gCur, plane)
            for l in stride(from: layers - 1, through: 0, by: -1) {
                let cin = channels[l]
                let cout = channels[l + 1]
                let act = acts[l].pointer + i * cin * plane
                let sums = UnsafeMutableRawPointer(grads + layout.sums[l]).assumingMemoryBound(to: Double.self)
                hp_plane_sums(gCur, Int32(cout), plane, sums)
                if winograd(l) {
                    hp_wino_weight_grad(
                        level, gCur, plane, Int32(cout), act, plane, Int32(cin), Int32(h), Int32(w),
                        wino, grads + layout.acc[l])
                } else {
                    // d output on the output grid = the padded gradient shifted by one row and one column.
                    hp_conv3x3_weight_grad(
                        level, gCur + g.wp + 1, plane, Int32(cout), act, plane, Int32(cin),
                        Int32(g.wp), 0, Int32(g.laneEnd), grads + layout.acc[l])
                }
                if l > 0 {
                    if convolve(
                        l, adjoint: true, packed: pk + offsets[l], bias: nil, src: gCur, y: gNext + g.wp + 1,
                        scratch: wino, act: Int32(HP_ACT_LEAKY_GRAD), mask: act + g.wp + 1)
                    {
                        hp_finish_padded(gNext, Int32(cin), Int32(h), Int32(w), plane, 0, slope)
                    } else {
                        hp_finish_padded_grad(gNext, act, Int32(cin), Int32(h), Int32(w), plane, slope)
                    }
                    swap(&gCur, &gNext)
                }
            }
        }
    }
}
