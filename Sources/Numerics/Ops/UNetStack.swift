// The U-Net (Sources/Model/UNet.swift) on the padded-width grids of the direct kernels, image by image: every
// activation stays padded from layer to layer (no pad/unpad per layer, no separate LeakyReLU pass), the decoder's
// concatenation is never copied (the encoder writes its output straight into the skip half of the decoder's input,
// the upsampling into the other half), stride-2 convolutions run on the four phases of their input with the
// direct kernels' inner loop (hp_taps_forward), and each thread takes whole images through the large levels,
// forward and backward, so one image's activations stay in its core's cache. The small levels take a thread's
// images together: there Winograd runs on mosaics of them (Sources/CKernels/mosaic.c), whose tile rows fill the
// vector lanes that a small image's own tile rows leave empty.
import CKernels

#if canImport(Glibc)
    import Glibc
#endif

/// The U-Net's convolutions with LeakyReLU(slope) after every 3x3 one and the 1x1 output layer without:
///   enc.0 = 3x3 (cin -> w), 3x3 (w -> w); enc.l = 3x3 stride 2 (w_{l-1} -> w_l), 3x3 (w_l -> w_l), l = 1 ... L;
///   dec.l (l = L-1 ... 0) = 3x3 over concat(upsample2x(dec.(l+1) or enc.L), enc.l) -> w_l, 3x3 (w_l -> w_l);
///   out = 1x1 (w -> 3).  (w_l = width * 2^l; H and W divisible by 2^L.)
/// Layer index order (the weights' and gradients' arrays): enc.0.conv1, enc.0.conv2, ..., enc.L.conv2,
/// dec.0.conv1, dec.0.conv2, ..., dec.(L-1).conv2, out: the order of UNet.parameterLayout.
///
/// forward saves every layer's padded input for backward; call them in pairs. Buffers grow on the first call for a
/// batch shape and are reused; a steady-state call allocates nothing. Weight and bias gradients are summed per
/// thread and added in thread order: bit-identical run to run for a given thread count.
package final class UNetStack: @unchecked Sendable {
    package let inputChannels, width, levels, outputChannels: Int
    package let slope: Float
    /// Instruction set of the kernels (default: the best this CPU runs).
    package var simdLevel: SIMDLevel = .best { didSet { if simdLevel != oldValue { shape = nil } } }
    /// Threads; nil (the default) follows `Parallel.threads`. The stack runs min(threads, images) parts.
    package var threads: Int?
    /// Direct or Winograd for the 3x3 stride-1 layers (`automatic`: Winograd where
    /// `Conv3x3Algorithm.usesWinograd` says so, on the levels that run on mosaics and on those whose image is at
    /// least `winogradMinSide` on each side).
    package var algorithm: Conv3x3Algorithm = .automatic { didSet { if algorithm != oldValue { shape = nil } } }
    /// Per-layer wall-clock sums while attached (`hdrpatch bench --layers`); nil: nothing is timed.
    package var profile: LayerProfile?
    /// One line per layer, in layer order: its name (the parameter prefix), kind, channels and level.
    package var layerDescriptions: [String] {
        layers.enumerated().map { i, layer in
            let name: String
            if i == layers.count - 1 {
                name = "out"
            } else if i < 2 * (levels + 1) {
                name = "enc.\(i / 2).conv\(i % 2 + 1)"
            } else {
                let j = i - 2 * (levels + 1)
                name = "dec.\(j / 2).conv\(j % 2 + 1)"
            }
            let kind = layer.kind == .conv3 ? "3x3" : layer.kind == .stride2 ? "3x3 s2" : "1x1"
            return "\(name) \(kind) \(layer.cin)->\(layer.cout) level \(layer.level)"
        }
    }

    /// Below this side (pixels) `automatic` keeps a layer direct unless its level runs on mosaics: a small image's
    /// own 4x4 tiles fill few of Winograd's vector lanes (16 tiles per AVX-512 vector). Measured on the w16 l3 step
    /// (batch 16 x 64x64, AVX-512, one thread), before mosaics: 8 -> 191 ms, 16 -> 185, 32 -> 174, 64 -> 199 (then
    /// 32 -> 155 ms, 64 -> 168 after the direct layers' batched weight gradients). With mosaics every level below
    /// 64 pixels runs Winograd on them at AVX-512 (below 32 at AVX2): this side matters where a mosaic would not
    /// fill more lanes (the generic level's 4-lane vectors).
    package static let winogradMinSide = 32

    enum Kind { case conv3, stride2, pointwise }
    struct Layer {
        let kind: Kind
        let cin, cout, level: Int
    }

    let layers: [Layer]
    /// Floats of each layer's weights, and their sum (for the copy `packForward` keeps: computed once, so a step
    /// allocates nothing).
    private let weightCounts: [Int]
    private let weightTotal: Int
    /// Layer indices by weight count, largest first: the weight transforms and the gradients' finish are split over
    /// the threads by layer, position k of this list to part `snake(k, parts)`.
    private let bySize: [Int]
    private var shape: (n: Int, h: Int, w: Int)?
    private var geo: [DirectGeometry] = []
    private var threadsUsed = 1
    // Saved activations, (n, c, plane_l) each: the padded input, enc conv1 outputs, the decoder inputs (whose skip
    // half is enc.l's output), the bottom encoder output, the decoder conv1 and conv2 outputs.
    private let x0 = Workspace(), eBottom = Workspace()
    private let a1: [Workspace], cat: [Workspace], d1: [Workspace], dOut: [Workspace]
    /// The phases of each stride-2 layer's input (level l >= 1: (n, 4 w_{l-1}, plane_l)), kept for its weight gradient.
    private let phases: [Workspace]
    /// Each direct layer's pre-activation gradient per image, (n, cout, plane), for the weight gradients taken over
    /// all of a thread's images at once after their chains.
    private let dzSaved: [Workspace]
    private let packed = Workspace(), packedAdjoint = Workspace()
    /// The weights `packed` was made from (all layers, in order) and whether it matches the current shape.
    private let packedFrom = Workspace()
    private var packedValid = false
    private let scratch = Workspace()
    /// Levels from this one down run over all of a part's images together, their Winograd layers on mosaics of up
    /// to `mosaicImages` images (hp_mosaic_gather), where a mosaic's tile rows fill more vector lanes than the images'
    /// own (levels + 1: none; set by `prepare`).
    private var groupLevel = Int.max
    /// Tiles per Winograd vector at the current SIMD level.
    private var winoLanes = 16
    /// Images in one mosaic: a 16 x 16 level's 8 images in bands of 4 rows are 32 segments, 160 tiles of which
    /// 128 are the images' (10 AVX-512 vectors where the images alone take 32).
    static let mosaicImages = 8
    /// Per-image gradient planes where a part's images are between two layers at once: A, B and the decoder input's
    /// of the levels that run together; above them, when some levels do, the skip halves of the decoder inputs'
    /// gradients, which wait for the encoder's way up after those levels (a third of the whole at level 0 of a
    /// U-Net: the upsampled half is summed down as soon as it is made).
    private let gImageA: [Workspace], gImageB: [Workspace], dCatImage: [Workspace], skipImage: [Workspace]
    // Layouts for the current shape (computed when it changes, so steady-state calls allocate nothing).
    private var packOffsets: [Int] = [], adjointOffsets: [[Int]] = []
    private var accOffsets: [Int] = [], sumOffsets: [Int] = []
    private var scratchLayout = ScratchLayout()
    /// Stride-2 taps: forward offsets per level (on the phase planes), and per phase the taps and offsets of d input.
    private var stride2Offsets: [[Int32]] = []
    private static let phaseTaps: [[Int32]] = [[0, 2, 6, 8], [1, 7], [3, 5], [4]]
    private var phaseOffsets: [[[Int32]]] = []
    private var outOffsets: [Int32] = [0]
    /// The 3x3 stride-1 taps per level: ky * wp + kx.
    private var conv3Offsets: [[Int32]] = []

    package init(inputChannels: Int, width: Int, levels: Int, outputChannels: Int = 3, slope: Float) {
        precondition(inputChannels >= 1 && width >= 1 && levels >= 1 && outputChannels >= 1, "UNetStack: bad shape")
        self.inputChannels = inputChannels
        self.width = width
        self.levels = levels
        self.outputChannels = outputChannels
        self.slope = slope
        let w = (0...levels).map { width << $0 }
        var list: [Layer] = []
        for l in 0...levels {
            list.append(
                Layer(kind: l == 0 ? .conv3 : .stride2, cin: l == 0 ? inputChannels : w[l - 1], cout: w[l], level: l))
            list.append(Layer(kind: .conv3, cin: w[l], cout: w[l], level: l))
        }
        for l in 0..<levels {
            list.append(Layer(kind: .conv3, cin: w[l + 1] + w[l], cout: w[l], level: l))
            list.append(Layer(kind: .conv3, cin: w[l], cout: w[l], level: l))
        }
        list.append(Layer(kind: .pointwise, cin: w[0], cout: outputChannels, level: 0))
        layers = list
        let counts = list.map { $0.cout * $0.cin * ($0.kind == .pointwise ? 1 : 9) }
        weightCounts = counts
        weightTotal = counts.reduce(0, +)
        bySize = counts.indices.sorted { (counts[$0], $1) > (counts[$1], $0) }
        a1 = (0...levels).map { _ in Workspace() }
        cat = (0..<levels).map { _ in Workspace() }
        d1 = (0..<levels).map { _ in Workspace() }
        dOut = (0..<levels).map { _ in Workspace() }
        phases = (0...levels).map { _ in Workspace() }
        dzSaved = list.map { _ in Workspace() }
        gImageA = (0...levels).map { _ in Workspace() }
        gImageB = (0...levels).map { _ in Workspace() }
        dCatImage = (0..<levels).map { _ in Workspace() }
        skipImage = (0..<levels).map { _ in Workspace() }
    }

    private func ch(_ l: Int) -> Int { width << l }
    private func encConv1(_ l: Int) -> Int { 2 * l }
    private func encConv2(_ l: Int) -> Int { 2 * l + 1 }
    private func decConv1(_ l: Int) -> Int { 2 * (levels + 1) + 2 * l }
    private func decConv2(_ l: Int) -> Int { 2 * (levels + 1) + 2 * l + 1 }
    private var outLayer: Int { layers.count - 1 }

    /// Per-thread scratch: Winograd scratch, a stride-2 layer's d input per phase, the output plane, gradient planes per
    /// level (two of w_l, the decoder input's gradient), then the weight-gradient accumulators and bias sums.
    struct ScratchLayout {
        var wino = 0, dPhases = 0, outPlane = 0, gA: [Int] = [], gB: [Int] = [], dCat: [Int] = []
        /// Three mosaics (hp_mosaic_gather) of the largest channel count of a layer that runs on them.
        var mosaic: [Int] = []
        var grads = 0, gradFloats = 0, total = 0
    }

    private func prepare(n: Int, h: Int, w: Int) {
        if let s = shape, s.n == n, s.h == h, s.w == w { return }
        let f = 1 << levels
        precondition(
            h % f == 0 && w % f == 0 && h > 0 && w > 0, "UNetStack: \(h) x \(w) is not divisible by 2^\(levels)")
        let level = simdLevel.rawValue
        geo = (0...levels).map { DirectGeometry(height: h >> $0, width: w >> $0, level: simdLevel) }
        winoLanes = Int(hp_wino_lanes(level))
        let chunk = min(n, Self.mosaicImages)
        groupLevel = levels + 1
        if algorithm != .direct {
            for l in stride(from: levels, through: 0, by: -1) {
                let g = geo[l]
                let alone = chunk * ((g.height + 3) / 4) * (((g.width + 3) / 4 + winoLanes - 1) / winoLanes)
                guard g.width <= mosaicMaxSide, mosaicShape(l, images: chunk).vectors < alone else { break }
                groupLevel = l
            }
        }
        wino = layers.map { layer in
            layer.kind == .conv3 && algorithm.usesWinograd(cin: layer.cin, cout: layer.cout)
                && (algorithm == .winograd || layer.level >= groupLevel
                    || min(h, w) >> layer.level >= Self.winogradMinSide)
        }
        // Packed weights (forward) and adjoint weights (d input; four phase packs for a stride-2 layer).
        var total = 0
        packOffsets = []
        var adjTotal = 0
        adjointOffsets = []
        for (i, layer) in layers.enumerated() {
            packOffsets.append(total)
            let (a, b) = (Int32(layer.cout), Int32(layer.cin))
            switch layer.kind {
            case .conv3:
                total += wino[i] ? hp_wino_packed_count(level, a, b) : hp_conv3x3_packed_count(level, a, b)
            case .stride2: total += hp_taps_packed_count(level, a, b, 9)
            case .pointwise: total += hp_taps_packed_count(level, a, b, 1)
            }
            total = (total + 15) / 16 * 16
            var offsets: [Int] = []
            if i != encConv1(0) {
                switch layer.kind {
                case .conv3:
                    offsets.append(adjTotal)
                    adjTotal += wino[i] ? hp_wino_packed_count(level, b, a) : hp_conv3x3_packed_count(level, b, a)
                case .stride2:
                    for taps in Self.phaseTaps {
                        offsets.append(adjTotal)
                        adjTotal += hp_taps_packed_count(level, b, a, Int32(taps.count))
                        adjTotal = (adjTotal + 15) / 16 * 16
                    }
                case .pointwise:
                    offsets.append(adjTotal)
                    adjTotal += hp_taps_packed_count(level, b, a, 1)
                }
                adjTotal = (adjTotal + 15) / 16 * 16
            }
            adjointOffsets.append(offsets)
        }
        _ = packed.reserve(total)
        _ = packedAdjoint.reserve(adjTotal)
        // Stride-2 offsets: the forward's taps on the phase planes of the level-l grid (qplane = its plane), and
        // d input's per phase on the padded output gradient.
        stride2Offsets = (0...levels).map { l in
            guard l > 0 else { return [] }
            let (qplane, wq) = (geo[l].plane, geo[l].wp)
            return (0..<9).map { (k: Int) -> Int32 in
                let (ky, kx) = (k / 3, k % 3)
                let phase: Int = (ky % 2) * 2 + kx % 2
                let offset: Int = phase * qplane + (ky / 2) * wq + kx / 2
                return Int32(offset)
            }
        }
        phaseOffsets = (0...levels).map { l in
            guard l > 0 else { return [] }
            let wq = geo[l].wp
            return Self.phaseTaps.map { (taps: [Int32]) -> [Int32] in
                taps.map { (k: Int32) -> Int32 in
                    let (ky, kx) = (Int(k) / 3, Int(k) % 3)
                    let offset: Int = (1 - ky / 2) * wq + (1 - kx / 2)
                    return Int32(offset)
                }
            }
        }
        outOffsets = [Int32(geo[0].wp + 1)]
        conv3Offsets = (0...levels).map { l in (0..<9).map { (k: Int) -> Int32 in Int32(k / 3 * geo[l].wp + k % 3) } }
        // Saved activations, with room after the last plane for the kernels' block-rounded writes.
        let tail = geo[0].wp + 128
        _ = x0.reserve(n * inputChannels * geo[0].plane + tail)
        for l in 0...levels { _ = a1[l].reserve(n * ch(l) * geo[l].plane + tail) }
        for l in 0..<levels {
            _ = cat[l].reserve(n * (ch(l + 1) + ch(l)) * geo[l].plane + tail)
            _ = d1[l].reserve(n * ch(l) * geo[l].plane + tail)
            _ = dOut[l].reserve(n * ch(l) * geo[l].plane + tail)
        }
        _ = eBottom.reserve(n * ch(levels) * geo[levels].plane + tail)
        for l in 1...levels { _ = phases[l].reserve(n * 4 * ch(l - 1) * geo[l].plane + tail) }
        for (i, layer) in layers.enumerated() where !wino[i] {
            _ = dzSaved[i].reserve(n * layer.cout * geo[layer.level].plane + tail)
        }
        for l in 0...levels {
            if l >= groupLevel {
                _ = gImageA[l].reserve(n * ch(l) * geo[l].plane + tail)
                _ = gImageB[l].reserve(n * ch(l) * geo[l].plane + tail)
            }
            if l < levels && l >= groupLevel {
                _ = dCatImage[l].reserve(n * (ch(l + 1) + ch(l)) * geo[l].plane + tail)
            } else if l < levels && groupLevel <= levels {
                _ = skipImage[l].reserve(n * ch(l) * geo[l].plane + tail)
            }
        }
        // Per-thread scratch.
        var s = ScratchLayout()
        var at = 0
        func take(_ floats: Int) -> Int {
            let start = at
            at += (floats + 15) / 16 * 16
            return start
        }
        var winoFloats = 0
        for (i, layer) in layers.enumerated() where wino[i] {
            let (a, b) = (Int32(layer.cout), Int32(layer.cin))
            winoFloats = max(
                winoFloats, hp_wino_scratch_count(level, a, b), hp_wino_scratch_count(level, b, a),
                hp_wino_grad_scratch_count(level, a, b))
        }
        s.wino = take(winoFloats + 16)
        var mosaicFloats = 0
        for (i, layer) in layers.enumerated() where isMosaic(i) {
            for c in 1...chunk {
                let m = mosaicShape(layer.level, images: c)
                mosaicFloats = max(mosaicFloats, max(layer.cin, layer.cout) * m.plane)
            }
        }
        s.mosaic = (0..<3).map { _ in take(mosaicFloats) }
        let phaseFloats = (1...levels).map { 4 * ch($0 - 1) * geo[$0].plane }.max()!
        s.dPhases = take(phaseFloats + tail)
        s.outPlane = take(max(outputChannels, inputChannels) * geo[0].plane + tail)
        for l in 0...levels {
            s.gA.append(take(ch(l) * geo[l].plane + tail))
            s.gB.append(take(ch(l) * geo[l].plane + tail))
            if l < levels { s.dCat.append(take((ch(l + 1) + ch(l)) * geo[l].plane + tail)) }
        }
        s.grads = at
        accOffsets = []
        sumOffsets = []
        var g = 0
        for (i, layer) in layers.enumerated() {
            accOffsets.append(g)
            let (a, b) = (Int32(layer.cout), Int32(layer.cin))
            let lanes = geo[0].lanes
            switch layer.kind {
            case .conv3: g += wino[i] ? hp_wino_grad_acc_count(level, a, b) : layer.cout * layer.cin * 9 * lanes
            case .stride2: g += layer.cout * layer.cin * 9 * lanes
            case .pointwise: g += layer.cout * layer.cin * lanes
            }
            g = (g + 15) / 16 * 16
        }
        for layer in layers {
            sumOffsets.append(g)
            g += 2 * layer.cout  // doubles
        }
        s.gradFloats = g
        s.total = at + g
        scratchLayout = s
        shape = (n, h, w)
        packedValid = false
    }

    /// Whether layer i runs Winograd at the current shape (set by `prepare`).
    private var wino: [Bool] = []

    /// Levels wider than this never run on mosaics (tuning and tests; the default lets `prepare` choose by lanes).
    package var mosaicMaxSide = Int.max { didSet { if mosaicMaxSide != oldValue { shape = nil } } }

    /// The first level that runs on mosaics at the current shape (levels + 1: none).
    package var mosaicLevel: Int { min(groupLevel, levels + 1) }

    /// Whether 3x3 layer i runs Winograd on mosaics of a part's images.
    @inline(__always)
    private func isMosaic(_ i: Int) -> Bool { wino[i] && layers[i].level >= groupLevel }

    /// A mosaic of `images` images of level l (hp_mosaic_gather): its band rows, segment width and segments, the
    /// tile vectors one Winograd pass over it computes (the fewest; the widest band on ties) and its plane.
    struct MosaicShape {
        let band, seg, segs, vectors, plane: Int
        var wp: Int { segs * seg }
    }

    private func mosaicShape(_ l: Int, images: Int) -> MosaicShape {
        let g = geo[l]
        let seg = (g.width + 5) / 4 * 4
        let th = (g.height + 3) / 4
        var best = (b: 1, segs: images * th, vectors: Int.max)
        for b in 1...th {
            let segs = images * ((th + b - 1) / b)
            let vectors = b * ((segs * seg / 4 + winoLanes - 1) / winoLanes)
            if vectors <= best.vectors { best = (b, segs, vectors) }
        }
        let band = 4 * best.b
        let plane = ((band + 2) * best.segs * seg + Int(hp_conv3x3_slack()) + 15) / 16 * 16
        return MosaicShape(band: band, seg: seg, segs: best.segs, vectors: best.vectors, plane: plane)
    }

    /// Planes of consecutive images a fixed number of floats apart: image i's at base + (i - first) * stride.
    struct ImagePlanes {
        let base: UnsafeMutablePointer<Float>, stride: Int, first: Int
        init(_ images: Range<Int>, _ of: (Int) -> UnsafeMutablePointer<Float>) {
            first = images.lowerBound
            base = of(first)
            stride = base.distance(to: of(first + 1))
        }
        subscript(_ i: Int) -> UnsafeMutablePointer<Float> { base + (i - first) * stride }
    }

    // MARK: forward

    /// - Parameter input: (N, inputChannels, H, W). - Parameter output: (N, outputChannels, H, W), overwritten
    ///   (reallocated only if its shape differs). - Parameter weights, biases: per layer, in layer order.
    package func forward(
        input: Tensor, output: inout Tensor, weights: [UnsafePointer<Float>], biases: [UnsafePointer<Float>]
    ) {
        precondition(
            input.rank == 4 && input.shape[1] == inputChannels,
            "UNetStack: input \(input.shape), expected (N, \(inputChannels), H, W)")
        precondition(weights.count == layers.count && biases.count == layers.count)
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let o = output.shape
        if o.count != 4 || o[0] != n || o[1] != outputChannels || o[2] != h || o[3] != w {
            output = Tensor(zeros: [n, outputChannels, h, w])
        }
        prepare(n: n, h: h, w: w)
        packForward(weights)
        let wanted = max(1, self.threads ?? Parallel.threads)
        let threads = min(wanted, n)
        // Fewer images than threads (restoring one large tile): each layer's rows split into bands instead, in groups
        // of 4 rows (Winograd's tiles), so every output is computed as on one thread.
        let bands = n < wanted && h >> levels >= 4 * wanted ? wanted : 1
        threadsUsed = threads
        scratch.ensureSlots(max(threads, bands))
        for t in 0..<max(threads, bands) { _ = scratch.slot(t).reserve(scratchLayout.total) }
        input.storage.withUnsafeBufferPointer { xb in
            output.storage.withUnsafeMutableBufferPointer { yb in
                guard let x = xb.baseAddress, let y = yb.baseAddress else { return }
                let job = ForwardJob(stack: self, threads: threads, x: x, y: y, biases: biases)
                if bands > 1 {
                    for i in 0..<n { forwardBanded(image: i, bands: bands, of: job) }
                } else {
                    Parallel.run(threads, job)
                }
            }
        }
    }

    /// Packs the forward weights, unless they equal those packed last (inference: the weights a restore's tiles share;
    /// the Winograd transform of a w16 l3 U-Net's weights took 14% of a 256 x 256 forward). The comparison and copy
    /// cost about 1/100 of the transform.
    private func packForward(_ weights: [UnsafePointer<Float>]) {
        let counts = weightCounts
        let total = weightTotal
        let copy = packedFrom.reserve(total)
        if packedValid {
            var same = true
            var at = 0
            for (i, c) in counts.enumerated() where same {
                same = memcmp(copy + at, weights[i], c * MemoryLayout<Float>.size) == 0
                at += c
            }
            if same { return }
        }
        var at = 0
        for (i, c) in counts.enumerated() {
            (copy + at).update(from: weights[i], count: c)
            at += c
        }
        packedValid = true
        let parts = min(max(1, threads ?? Parallel.threads), layers.count)
        Parallel.run(parts, LayerJob(stack: self, parts: parts, op: .pack, weights: weights, dWeights: []))
    }

    /// Per-layer work split over the threads: the forward's weight transforms, the adjoint ones (backward), or the
    /// weight gradients from the parts' accumulators.
    private struct LayerJob: ParallelJob {
        enum Op { case pack, packAdjoint, finish }
        let stack: UNetStack, parts: Int, op: Op
        let weights: [UnsafePointer<Float>], dWeights: [UnsafeMutablePointer<Float>]
        func run(part: Int) {
            for (k, i) in stack.bySize.enumerated() where UNetStack.snake(k, parts) == part {
                stack.timed(part, i, .transforms) {
                    switch op {
                    case .pack: stack.pack(i, weights[i])
                    case .packAdjoint: stack.packAdjoint(i, weights[i])
                    case .finish: stack.finishGradient(i, dWeights[i])
                    }
                }
            }
        }
    }

    /// 0, 1, ..., parts - 1, parts - 1, ..., 0, 0, 1, ...: layers largest first dealt out evenly.
    static func snake(_ k: Int, _ parts: Int) -> Int {
        let r = k % (2 * parts)
        return r < parts ? r : 2 * parts - 1 - r
    }

    /// Runs body, timed as (part t, layer i, phase) when a profile is attached.
    @inline(__always)
    private func timed(_ t: Int, _ i: Int, _ phase: LayerProfile.Phase, _ body: () -> Void) {
        if let profile { profile.time(t, i, phase, body) } else { body() }
    }

    private func pack(_ i: Int, _ weights: UnsafePointer<Float>) {
        let level = simdLevel.rawValue
        let layer = layers[i]
        let p = packed.pointer + packOffsets[i]
        let (a, b) = (Int32(layer.cout), Int32(layer.cin))
        switch layer.kind {
        case .conv3:
            if wino[i] {
                hp_wino_pack(level, weights, a, b, 0, p)
            } else {
                hp_conv3x3_pack(level, weights, a, b, 0, p)
            }
        case .stride2: hp_conv3x3_pack(level, weights, a, b, 0, p)
        case .pointwise:
            var tap: Int32 = 0
            hp_taps_pack(level, weights, a, b, 1, 1, &tap, 0, p)
        }
    }

    /// The weights of layer i's d-input convolution (four phase packs for a stride-2 layer).
    private func packAdjoint(_ i: Int, _ weights: UnsafePointer<Float>) {
        guard i != encConv1(0) else { return }
        let level = simdLevel.rawValue
        let layer = layers[i]
        let offs = adjointOffsets[i]
        let (a, b) = (Int32(layer.cout), Int32(layer.cin))
        switch layer.kind {
        case .conv3:
            let p = packedAdjoint.pointer + offs[0]
            if wino[i] {
                hp_wino_pack(level, weights, a, b, 1, p)
            } else {
                hp_conv3x3_pack(level, weights, a, b, 1, p)
            }
        case .stride2:
            for (ph, taps) in Self.phaseTaps.enumerated() {
                taps.withUnsafeBufferPointer { tp in
                    hp_taps_pack(
                        level, weights, a, b, 9, Int32(taps.count), tp.baseAddress, 1, packedAdjoint.pointer + offs[ph])
                }
            }
        case .pointwise:
            var tap: Int32 = 0
            hp_taps_pack(level, weights, a, b, 1, 1, &tap, 1, packedAdjoint.pointer + offs[0])
        }
    }

    /// dw += layer i's weight gradient from the parts' accumulators: a Winograd layer's summed in the transformed
    /// domain in part order (the transform back is linear), then transformed back once; a direct layer's lanes
    /// reduced part by part.
    private func finishGradient(_ i: Int, _ dw: UnsafeMutablePointer<Float>) {
        let level = simdLevel.rawValue
        let layer = layers[i]
        let s = scratchLayout
        let first = scratch.slot(0).pointer + s.grads + accOffsets[i]
        if wino[i] {
            let count = Int(hp_wino_grad_acc_count(level, Int32(layer.cout), Int32(layer.cin)))
            for t in 1..<threadsUsed {
                let acc = scratch.slot(t).pointer + s.grads + accOffsets[i]
                for j in 0..<count { first[j] += acc[j] }
            }
            hp_wino_grad_finish(level, first, Int32(layer.cout), Int32(layer.cin), dw)
        } else {
            for t in 0..<threadsUsed {
                hp_reduce_lanes(
                    level, scratch.slot(t).pointer + s.grads + accOffsets[i],
                    layer.cout * layer.cin * (layer.kind == .pointwise ? 1 : 9), dw)
            }
        }
    }

    private struct ForwardJob: ParallelJob {
        let stack: UNetStack, threads: Int
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, biases: [UnsafePointer<Float>]
        func run(part: Int) { stack.forward(part: part, of: self) }
    }

    /// Planes of image i of a saved activation.
    @inline(__always)
    private func at(_ ws: Workspace, _ i: Int, _ c: Int, _ l: Int) -> UnsafeMutablePointer<Float> {
        ws.pointer + i * c * geo[l].plane
    }
    /// enc.l's output for image i: the skip half of dec.l's input, or the bottom buffer.
    @inline(__always)
    private func encOut(_ i: Int, _ l: Int) -> UnsafeMutablePointer<Float> {
        l == levels
            ? at(eBottom, i, ch(l), l)
            : at(cat[l], i, ch(l + 1) + ch(l), l) + ch(l + 1) * geo[l].plane
    }

    /// A 3x3 stride-1 layer on one image: src (its cin planes) -> dst's padded grid, LeakyReLU applied, border zero.
    private func conv3(
        _ i: Int, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
        wino scratch: UnsafeMutablePointer<Float>
    ) {
        let layer = layers[i]
        let g = geo[layer.level]
        let p = packed.pointer + packOffsets[i]
        let level = simdLevel.rawValue
        if wino[i] {
            hp_wino_forward(
                level, p, bias, Int32(layer.cout), Int32(layer.cin), src, g.plane, Int32(g.height), Int32(g.width),
                dst + g.wp + 1, g.plane, scratch, Int32(HP_ACT_LEAKY), slope, nil)
            hp_finish_padded(dst, Int32(layer.cout), Int32(g.height), Int32(g.width), g.plane, 0, slope)
        } else {
            hp_conv3x3_forward(
                level, p, bias, Int32(layer.cout), Int32(layer.cin), src, g.plane, Int32(g.wp), dst + g.wp + 1,
                g.plane, 0, Int32(g.outCount))
            hp_finish_padded(dst, Int32(layer.cout), Int32(g.height), Int32(g.width), g.plane, 1, slope)
        }
    }

    /// A part's images: one by one down to the levels that run together, all of them there, one by one up again.
    private func forward(part t: Int, of job: ForwardJob) {
        let share = Parallel.share(t, of: job.threads, total: shape!.n)
        let m = min(groupLevel, levels + 1)
        for i in share {
            for l in 0..<m { encoderForward(l, i..<i + 1, part: t, job) }
        }
        if m <= levels {
            for l in m...levels { encoderForward(l, share, part: t, job) }
            for l in stride(from: levels - 1, through: m, by: -1) { decoderForward(l, share, part: t, job) }
        }
        for i in share {
            for l in stride(from: min(m, levels) - 1, through: 0, by: -1) { decoderForward(l, i..<i + 1, part: t, job) }
            outputForward(i, part: t, job)
        }
    }

    /// enc.l on `images`: the padding and conv1 (level 0) or the stride-2 conv1, then conv2 into the skip half.
    private func encoderForward(_ l: Int, _ images: Range<Int>, part t: Int, _ job: ForwardJob) {
        let level = simdLevel.rawValue
        let g = geo[l]
        if l == 0 {
            let imageIn = inputChannels * g.height * g.width
            for i in images {
                hp_pad(
                    job.x + i * imageIn, Int32(inputChannels), Int32(g.height), Int32(g.width),
                    at(x0, i, inputChannels, 0), g.plane)
            }
            conv3Images(encConv1(0), images, part: t, bias: job.biases[encConv1(0)])
        } else {
            let gp = geo[l - 1]
            timed(t, encConv1(l), .forward) {
                for i in images {
                    let a = at(a1[l], i, ch(l), l)
                    let q = at(phases[l], i, 4 * ch(l - 1), l)
                    hp_phase_split(
                        encOut(i, l - 1), gp.plane, Int32(ch(l - 1)), Int32(gp.height), Int32(gp.width), q, g.plane)
                    stride2Offsets[l].withUnsafeBufferPointer { off in
                        hp_taps_forward(
                            level, packed.pointer + packOffsets[encConv1(l)], job.biases[encConv1(l)], Int32(ch(l)),
                            Int32(ch(l - 1)), 9, off.baseAddress, q, 4 * g.plane, a + g.wp + 1, g.plane, 0,
                            Int32(g.outCount))
                    }
                    hp_finish_padded(a, Int32(ch(l)), Int32(g.height), Int32(g.width), g.plane, 1, slope)
                }
            }
        }
        conv3Images(encConv2(l), images, part: t, bias: job.biases[encConv2(l)])
    }

    /// dec.l on `images`: the upsampling into the decoder input's other half, conv1, conv2.
    private func decoderForward(_ l: Int, _ images: Range<Int>, part t: Int, _ job: ForwardJob) {
        let (g, below) = (geo[l], geo[l + 1])
        timed(t, decConv1(l), .forward) {
            for i in images {
                let up = l + 1 == levels ? encOut(i, levels) : at(dOut[l + 1], i, ch(l + 1), l + 1)
                hp_upsample2x_padded(
                    up, below.plane, Int32(ch(l + 1)), Int32(below.height), Int32(below.width),
                    at(cat[l], i, ch(l + 1) + ch(l), l), g.plane)
            }
        }
        conv3Images(decConv1(l), images, part: t, bias: job.biases[decConv1(l)])
        conv3Images(decConv2(l), images, part: t, bias: job.biases[decConv2(l)])
    }

    /// The 1x1 output layer of image i, unpadded into the output tensor.
    private func outputForward(_ i: Int, part t: Int, _ job: ForwardJob) {
        timed(t, outLayer, .forward) { outputForwardUntimed(i, part: t, job) }
    }
    private func outputForwardUntimed(_ i: Int, part t: Int, _ job: ForwardJob) {
        let g0 = geo[0]
        let o = scratch.slot(t).pointer + scratchLayout.outPlane
        outOffsets.withUnsafeBufferPointer { off in
            hp_taps_forward(
                simdLevel.rawValue, packed.pointer + packOffsets[outLayer], job.biases[outLayer],
                Int32(outputChannels), Int32(width), 1, off.baseAddress, at(dOut[0], i, width, 0), g0.plane, o,
                g0.plane, 0, Int32(g0.outCount))
        }
        let imageOut = outputChannels * g0.height * g0.width
        hp_unpad(o, g0.plane, Int32(outputChannels), Int32(g0.height), Int32(g0.width), job.y + i * imageOut, 0)
    }

    /// 3x3 stride-1 layer k on `images`: image by image, or on mosaics of up to `mosaicImages` of them.
    private func conv3Images(_ k: Int, _ images: Range<Int>, part t: Int, bias: UnsafePointer<Float>?) {
        timed(t, k, .forward) { conv3ImagesUntimed(k, images, part: t, bias: bias) }
    }
    private func conv3ImagesUntimed(_ k: Int, _ images: Range<Int>, part t: Int, bias: UnsafePointer<Float>?) {
        let base = scratch.slot(t).pointer
        let winoScratch = base + scratchLayout.wino
        guard isMosaic(k) else {
            for i in images {
                let (src, dst) = planes(k, i)
                conv3(k, src: src, dst: dst, bias: bias, wino: winoScratch)
            }
            return
        }
        let layer = layers[k]
        let g = geo[layer.level]
        let src = ImagePlanes(images) { planes(k, $0).src }
        let dst = ImagePlanes(images) { planes(k, $0).dst }
        let (mx, my) = (base + scratchLayout.mosaic[0], base + scratchLayout.mosaic[1])
        let (cin, cout, h, w) = (Int32(layer.cin), Int32(layer.cout), Int32(g.height), Int32(g.width))
        var first = images.lowerBound
        while first < images.upperBound {
            let c = min(Self.mosaicImages, images.upperBound - first)
            let m = mosaicShape(layer.level, images: c)
            hp_mosaic_gather(
                src[first], src.stride, g.plane, Int32(c), cin, h, w, Int32(m.band), Int32(m.seg), mx, m.plane)
            hp_wino_forward(
                simdLevel.rawValue, packed.pointer + packOffsets[k], bias, cout, cin, mx, m.plane, Int32(m.band),
                Int32(m.wp - 2), my + m.wp + 1, m.plane, winoScratch, Int32(HP_ACT_LEAKY), slope, nil)
            hp_mosaic_scatter(
                my, m.plane, cout, h, w, Int32(m.band), Int32(m.seg), Int32(c), dst[first], dst.stride, g.plane)
            for i in first..<first + c { hp_finish_padded(dst[i], cout, h, w, g.plane, 0, slope) }
            first += c
        }
    }

    /// One step of a banded forward over one image: every part takes its band of rows (groups of 4) or its share of
    /// the channels.
    private enum BandOp {
        case pad
        case conv3(Int)
        case finish(Int)
        case phaseSplit(Int)
        case stride2(Int)
        case upsample(Int)
        case output, unpad
    }

    private struct BandJob: ParallelJob {
        let stack: UNetStack, bands: Int, image: Int, op: BandOp, job: ForwardJob
        func run(part: Int) { stack.band(part: part, of: self) }
    }

    /// Image i through every layer, each layer's rows split into `bands` bands computed in parallel (a barrier
    /// between steps: a layer reads its input's rows beside its band). The outputs equal the one-thread forward's bit
    /// for bit: direct kernels compute each output alone, and Winograd bands start at multiples of 4 rows.
    private func forwardBanded(image i: Int, bands: Int, of job: ForwardJob) {
        func step(_ op: BandOp) { Parallel.run(bands, BandJob(stack: self, bands: bands, image: i, op: op, job: job)) }
        step(.pad)
        for l in 0...levels {
            if l > 0 {
                step(.phaseSplit(l))
                step(.stride2(l))
                step(.finish(encConv1(l)))
            } else {
                step(.conv3(encConv1(0)))
                step(.finish(encConv1(0)))
            }
            step(.conv3(encConv2(l)))
            step(.finish(encConv2(l)))
        }
        for l in stride(from: levels - 1, through: 0, by: -1) {
            step(.upsample(l))
            for k in [decConv1(l), decConv2(l)] {
                step(.conv3(k))
                step(.finish(k))
            }
        }
        step(.output)
        step(.unpad)
    }

    /// Layer k's input and output planes for image i (3x3 stride-1 layers and the stride-2 ones' outputs).
    private func planes(_ k: Int, _ i: Int) -> (src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>) {
        let layer = layers[k]
        let l = layer.level
        switch k {
        case encConv1(0): return (at(x0, i, inputChannels, 0), at(a1[0], i, ch(0), 0))
        case encConv1(l): return (at(phases[l], i, 4 * ch(l - 1), l), at(a1[l], i, ch(l), l))
        case encConv2(l): return (at(a1[l], i, ch(l), l), encOut(i, l))
        case decConv1(l): return (at(cat[l], i, ch(l + 1) + ch(l), l), at(d1[l], i, ch(l), l))
        default: return (at(d1[l], i, ch(l), l), at(dOut[l], i, ch(l), l))
        }
    }

    private func band(part t: Int, of job: BandJob) {
        let i = job.image
        let level = simdLevel.rawValue
        let g0 = geo[0]
        /// Rows [r0, r1) of an h-row image for this part, in groups of 4.
        func rows(_ h: Int) -> (Int, Int) {
            let share = Parallel.share(t, of: job.bands, total: (h + 3) / 4)
            return (min(share.lowerBound * 4, h), min(share.upperBound * 4, h))
        }
        /// Output indices of rows [r0, r1) on the padded-width grid, edges rounded down to the kernels' block.
        func indices(_ g: DirectGeometry, _ r0: Int, _ r1: Int) -> (Int32, Int32) {
            (Int32(r0 * g.wp / g.block * g.block), Int32(r1 == g.height ? g.outCount : r1 * g.wp / g.block * g.block))
        }
        func channels(_ c: Int) -> Range<Int> { Parallel.share(t, of: job.bands, total: c) }
        let outPlane = scratch.slot(0).pointer + scratchLayout.outPlane
        switch job.op {
        case .pad:
            let c = channels(inputChannels)
            guard !c.isEmpty else { return }
            hp_pad(
                job.job.x + (i * inputChannels + c.lowerBound) * g0.height * g0.width, Int32(c.count),
                Int32(g0.height), Int32(g0.width), at(x0, i, inputChannels, 0) + c.lowerBound * g0.plane, g0.plane)
        case .conv3(let k):
            let layer = layers[k]
            let g = geo[layer.level]
            let (r0, r1) = rows(g.height)
            guard r0 < r1 else { return }
            let (src, dst) = planes(k, i)
            let p = packed.pointer + packOffsets[k]
            if wino[k] {
                hp_wino_forward(
                    level, p, job.job.biases[k], Int32(layer.cout), Int32(layer.cin), src + r0 * g.wp, g.plane,
                    Int32(r1 - r0), Int32(g.width), dst + g.wp + 1 + r0 * g.wp, g.plane,
                    scratch.slot(t).pointer + scratchLayout.wino, Int32(HP_ACT_LEAKY), slope, nil)
            } else {
                let (j0, j1) = indices(g, r0, r1)
                hp_conv3x3_forward(
                    level, p, job.job.biases[k], Int32(layer.cout), Int32(layer.cin), src, g.plane, Int32(g.wp),
                    dst + g.wp + 1, g.plane, j0, j1)
            }
        case .finish(let k):
            let layer = layers[k]
            let g = geo[layer.level]
            let (r0, r1) = rows(g.height)
            guard r0 < r1 else { return }
            hp_finish_padded_rows(
                planes(k, i).dst, Int32(layer.cout), Int32(g.height), Int32(g.width), g.plane, wino[k] ? 0 : 1, slope,
                Int32(r0), Int32(r1))
        case .phaseSplit(let l):
            let c = channels(ch(l - 1))
            guard !c.isEmpty else { return }
            let gp = geo[l - 1]
            let g = geo[l]
            hp_phase_split(
                encOut(i, l - 1) + c.lowerBound * gp.plane, gp.plane, Int32(c.count), Int32(gp.height),
                Int32(gp.width), at(phases[l], i, 4 * ch(l - 1), l) + 4 * c.lowerBound * g.plane, g.plane)
        case .stride2(let l):
            let g = geo[l]
            let (r0, r1) = rows(g.height)
            guard r0 < r1 else { return }
            let (j0, j1) = indices(g, r0, r1)
            let k = encConv1(l)
            let (q, a) = planes(k, i)
            stride2Offsets[l].withUnsafeBufferPointer { off in
                hp_taps_forward(
                    level, packed.pointer + packOffsets[k], job.job.biases[k], Int32(ch(l)), Int32(ch(l - 1)), 9,
                    off.baseAddress, q, 4 * g.plane, a + g.wp + 1, g.plane, j0, j1)
            }
        case .upsample(let l):
            let c = channels(ch(l + 1))
            guard !c.isEmpty else { return }
            let (g, below) = (geo[l], geo[l + 1])
            let up = l + 1 == levels ? encOut(i, levels) : at(dOut[l + 1], i, ch(l + 1), l + 1)
            hp_upsample2x_padded(
                up + c.lowerBound * below.plane, below.plane, Int32(c.count), Int32(below.height),
                Int32(below.width), at(cat[l], i, ch(l + 1) + ch(l), l) + c.lowerBound * g.plane, g.plane)
        case .output:
            let (r0, r1) = rows(g0.height)
            guard r0 < r1 else { return }
            let (j0, j1) = indices(g0, r0, r1)
            outOffsets.withUnsafeBufferPointer { off in
                hp_taps_forward(
                    level, packed.pointer + packOffsets[outLayer], job.job.biases[outLayer], Int32(outputChannels),
                    Int32(width), 1, off.baseAddress, at(dOut[0], i, width, 0), g0.plane, outPlane, g0.plane, j0, j1)
            }
        case .unpad:
            let c = channels(outputChannels)
            guard !c.isEmpty else { return }
            let imageOut = outputChannels * g0.height * g0.width
            hp_unpad(
                outPlane + c.lowerBound * g0.plane, g0.plane, Int32(c.count), Int32(g0.height), Int32(g0.width),
                job.job.y + i * imageOut + c.lowerBound * g0.height * g0.width, 0)
        }
    }

    // MARK: backward

    /// Accumulates (+=) every layer's weight and bias gradient from d output (N, outputChannels, H, W), for the last
    /// `forward`. The input gets no gradient (it is data).
    package func backward(
        dOutput: Tensor, weights: [UnsafePointer<Float>], dWeights: [UnsafeMutablePointer<Float>],
        dBiases: [UnsafeMutablePointer<Float>]
    ) {
        guard let sh = shape else { preconditionFailure("UNetStack.backward before forward") }
        let d = dOutput.shape
        precondition(
            d.count == 4 && d[0] == sh.n && d[1] == outputChannels && d[2] == sh.h && d[3] == sh.w,
            "UNetStack.backward: d output \(dOutput.shape)")
        let parts = min(max(1, threads ?? Parallel.threads), layers.count)
        Parallel.run(parts, LayerJob(stack: self, parts: parts, op: .packAdjoint, weights: weights, dWeights: []))
        let threads = threadsUsed
        dOutput.storage.withUnsafeBufferPointer { db in
            guard let dy = db.baseAddress else { return }
            Parallel.run(threads, BackwardJob(stack: self, threads: threads, dy: dy))
        }
        Parallel.run(parts, LayerJob(stack: self, parts: parts, op: .finish, weights: weights, dWeights: dWeights))
        let s = scratchLayout
        for t in 0..<threads {
            let grads = scratch.slot(t).pointer + s.grads
            for (i, layer) in layers.enumerated() {
                let sums = UnsafeMutableRawPointer(grads + sumOffsets[i]).assumingMemoryBound(to: Double.self)
                for co in 0..<layer.cout { dBiases[i][co] += Float(sums[co]) }
            }
        }
    }

    private struct BackwardJob: ParallelJob {
        let stack: UNetStack, threads: Int
        let dy: UnsafePointer<Float>
        func run(part: Int) { stack.backward(part: part, of: self) }
    }

    /// Weight and bias gradient of 3x3 stride-1 layer i from dz (its padded pre-activation gradient) and its saved
    /// padded input; with `dst`, d input too (raw, or times LeakyReLU's derivative at `mask` when given), border zero.
    private func conv3Backward(
        _ i: Int, dz: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>?,
        mask: UnsafePointer<Float>?, grads: UnsafeMutablePointer<Float>, wino scratch: UnsafeMutablePointer<Float>
    ) {
        let layer = layers[i]
        let g = geo[layer.level]
        let level = simdLevel.rawValue
        let (cin, cout) = (Int32(layer.cin), Int32(layer.cout))
        let sums = UnsafeMutableRawPointer(grads + sumOffsets[i]).assumingMemoryBound(to: Double.self)
        hp_plane_sums(dz, cout, g.plane, sums)
        // A direct layer's weight gradient comes after the images' chains, over all of them at once (gradientsOfDirectLayers).
        if wino[i] {
            hp_wino_weight_grad(
                level, dz, g.plane, cout, input, g.plane, cin, Int32(g.height), Int32(g.width), scratch,
                grads + accOffsets[i])
        }
        guard let dst else { return }
        let p = packedAdjoint.pointer + adjointOffsets[i][0]
        if wino[i] {
            hp_wino_forward(
                level, p, nil, cin, cout, dz, g.plane, Int32(g.height), Int32(g.width), dst + g.wp + 1, g.plane,
                scratch,
                Int32(mask == nil ? HP_ACT_NONE : HP_ACT_LEAKY_GRAD), slope, mask.map { $0 + g.wp + 1 })
            hp_finish_padded(dst, cin, Int32(g.height), Int32(g.width), g.plane, 0, slope)
        } else {
            hp_conv3x3_forward(
                level, p, nil, cin, cout, dz, g.plane, Int32(g.wp), dst + g.wp + 1, g.plane, 0, Int32(g.outCount))
            if let mask {
                hp_finish_padded_grad(dst, mask, cin, Int32(g.height), Int32(g.width), g.plane, slope)
            } else {
                hp_finish_padded(dst, cin, Int32(g.height), Int32(g.width), g.plane, 0, slope)
            }
        }
    }

    /// Where layer i's pre-activation gradient of image `img` goes: the image's saved slot for a direct layer (its
    /// weight gradient comes later, over all images), else the thread's scratch at `scratch`.
    @inline(__always)
    private func zbuf(_ i: Int, _ img: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        wino[i] ? scratch : dzSaved[i].pointer + img * layers[i].cout * geo[layers[i].level].plane
    }

    /// Gradient planes A and B of level l for image i: the image's own where a part's images are there together,
    /// else the part's scratch at `base`.
    @inline(__always)
    private func gradA(_ l: Int, _ i: Int, _ base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        l >= groupLevel ? gImageA[l].pointer + i * ch(l) * geo[l].plane : base + scratchLayout.gA[l]
    }
    @inline(__always)
    private func gradB(_ l: Int, _ i: Int, _ base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        l >= groupLevel ? gImageB[l].pointer + i * ch(l) * geo[l].plane : base + scratchLayout.gB[l]
    }
    /// The gradient of dec.l's input (the upsampled half, then the skip half) for image i.
    @inline(__always)
    private func dCatGrad(_ l: Int, _ i: Int, _ base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        l >= groupLevel
            ? dCatImage[l].pointer + i * (ch(l + 1) + ch(l)) * geo[l].plane : base + scratchLayout.dCat[l]
    }
    /// Whether the skip half of dec.l's input gradient is copied out of the part's scratch to wait for the encoder.
    @inline(__always)
    private func skipWaits(_ l: Int) -> Bool { l < groupLevel && groupLevel <= levels }
    /// The skip half of dec.l's input gradient for image i: the d of enc.l's output.
    @inline(__always)
    private func skipGrad(_ l: Int, _ i: Int, _ base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        skipWaits(l) ? skipImage[l].pointer + i * ch(l) * geo[l].plane : dCatGrad(l, i, base) + ch(l + 1) * geo[l].plane
    }
    /// The pre-activation gradient of dec.l's conv2 for image i.
    private func dzDecoder(_ l: Int, _ i: Int, _ base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        zbuf(decConv2(l), i, gradA(l, i, base))
    }
    /// The pre-activation gradient of enc.l's conv2 for image i: the skip half of dec.l's input gradient (or the
    /// bottom's plane), or its copy in the saved slot of a direct layer.
    private func dzEncoder(_ l: Int, _ i: Int, _ base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        l == levels
            ? zbuf(encConv2(l), i, gradA(l, i, base))
            : zbuf(encConv2(l), i, skipGrad(l, i, base))
    }

    /// A part's images: one by one from the output down to the levels that run together, all of them there, one by
    /// one up the encoder again; then the direct layers' weight gradients over all of them.
    private func backward(part t: Int, of job: BackwardJob) {
        let base = scratch.slot(t).pointer
        let grads = base + scratchLayout.grads
        grads.update(repeating: 0, count: scratchLayout.gradFloats)
        let share = Parallel.share(t, of: job.threads, total: shape!.n)
        let m = min(groupLevel, levels + 1)
        func down(_ i: Int) {
            outputBackward(i, part: t, job)
            for l in 0..<min(m, levels) { decoderBackward(l, i..<i + 1, part: t) }
        }
        func up(_ i: Int) {
            for l in stride(from: m - 1, through: 0, by: -1) { encoderBackward(l, i..<i + 1, part: t) }
        }
        if m <= levels {
            for i in share { down(i) }
            for l in m..<levels { decoderBackward(l, share, part: t) }
            for l in stride(from: levels, through: m, by: -1) { encoderBackward(l, share, part: t) }
            for i in share { up(i) }
        } else {
            for i in share {
                down(i)
                up(i)
            }
        }
        gradientsOfDirectLayers(share, part: t, grads: grads)
    }

    /// The 1x1 output layer of image i: d output padded, its bias gradient, the pre-activation gradient of dec.0's
    /// conv2.
    private func outputBackward(_ i: Int, part t: Int, _ job: BackwardJob) {
        timed(t, outLayer, .backward) { outputBackwardUntimed(i, part: t, job) }
    }
    private func outputBackwardUntimed(_ i: Int, part t: Int, _ job: BackwardJob) {
        let level = simdLevel.rawValue
        let base = scratch.slot(t).pointer
        let grads = base + scratchLayout.grads
        let g0 = geo[0]
        let imageOut = outputChannels * g0.height * g0.width
        let dyp = zbuf(outLayer, i, base + scratchLayout.outPlane)
        hp_pad(job.dy + i * imageOut, Int32(outputChannels), Int32(g0.height), Int32(g0.width), dyp, g0.plane)
        let sums = UnsafeMutableRawPointer(grads + sumOffsets[outLayer]).assumingMemoryBound(to: Double.self)
        hp_plane_sums(dyp, Int32(outputChannels), g0.plane, sums)
        var zero: Int32 = 0
        let dz = dzDecoder(0, i, base)
        hp_taps_forward(
            level, packedAdjoint.pointer + adjointOffsets[outLayer][0], nil, Int32(width), Int32(outputChannels), 1,
            &zero, dyp, g0.plane, dz, g0.plane, 0, Int32((g0.height + 2) * g0.wp))
        hp_finish_padded_grad(
            dz, at(dOut[0], i, width, 0), Int32(width), Int32(g0.height), Int32(g0.width), g0.plane, slope)
    }

    /// dec.l backward on `images`: conv2, conv1 (d input into dec.l's input gradient), then the upsampled half's
    /// gradient summed back to level l + 1: the pre-activation gradient of dec.(l+1)'s conv2 or enc.L's.
    private func decoderBackward(_ l: Int, _ images: Range<Int>, part t: Int) {
        let base = scratch.slot(t).pointer
        let mid = ImagePlanes(images) { at(d1[l], $0, ch(l), l) }
        let dzMid = ImagePlanes(images) { zbuf(decConv1(l), $0, gradB(l, $0, base)) }
        conv3BackwardImages(
            decConv2(l), images, part: t, dz: ImagePlanes(images) { dzDecoder(l, $0, base) }, input: mid, dst: dzMid,
            mask: mid)
        conv3BackwardImages(
            decConv1(l), images, part: t, dz: dzMid,
            input: ImagePlanes(images) { at(cat[l], $0, ch(l + 1) + ch(l), l) },
            dst: ImagePlanes(images) { dCatGrad(l, $0, base) }, mask: nil)
        let (g, below) = (geo[l], geo[l + 1])
        let bottom = l + 1 == levels
        timed(t, decConv1(l), .backward) {
            for i in images {
                if skipWaits(l) {
                    skipGrad(l, i, base).update(
                        from: dCatGrad(l, i, base) + ch(l + 1) * g.plane, count: ch(l) * g.plane)
                }
                let next = bottom ? dzEncoder(levels, i, base) : dzDecoder(l + 1, i, base)
                hp_upsample2x_adjoint(
                    dCatGrad(l, i, base), g.plane, Int32(ch(l + 1)), Int32(below.height), Int32(below.width), next,
                    below.plane)
                let act = bottom ? encOut(i, levels) : at(dOut[l + 1], i, ch(l + 1), l + 1)
                hp_finish_padded_grad(
                    next, act, Int32(ch(l + 1)), Int32(below.height), Int32(below.width), below.plane, slope)
            }
        }
    }

    /// enc.l backward on `images`: conv2, then conv1: at level 0 its weight gradient only, else the stride-2
    /// layer's bias gradient and d input per phase, merged into the skip half of dec.(l-1)'s input gradient (which
    /// already holds the skip's share): the pre-activation gradient of enc.(l-1)'s conv2. A stride-2 layer's weight
    /// gradient comes after the chains.
    private func encoderBackward(_ l: Int, _ images: Range<Int>, part t: Int) {
        let level = simdLevel.rawValue
        let base = scratch.slot(t).pointer
        let grads = base + scratchLayout.grads
        let g = geo[l]
        let a = ImagePlanes(images) { at(a1[l], $0, ch(l), l) }
        let dzA = ImagePlanes(images) { zbuf(encConv1(l), $0, gradB(l, $0, base)) }
        conv3BackwardImages(
            encConv2(l), images, part: t, dz: ImagePlanes(images) { dzEncoder(l, $0, base) }, input: a, dst: dzA,
            mask: a)
        if l == 0 {
            conv3BackwardImages(
                encConv1(0), images, part: t, dz: dzA, input: ImagePlanes(images) { at(x0, $0, inputChannels, 0) },
                dst: nil, mask: nil)
            return
        }
        let i1 = encConv1(l)
        let up = geo[l - 1]
        let (cin, cout) = (Int32(ch(l - 1)), Int32(ch(l)))
        let sums = UnsafeMutableRawPointer(grads + sumOffsets[i1]).assumingMemoryBound(to: Double.self)
        let dq = base + scratchLayout.dPhases
        timed(t, i1, .backward) {
            for i in images {
                hp_plane_sums(dzA[i], cout, g.plane, sums)
                for ph in 0..<4 {
                    phaseOffsets[l][ph].withUnsafeBufferPointer { off in
                        hp_taps_forward(
                            level, packedAdjoint.pointer + adjointOffsets[i1][ph], nil, cin, cout, Int32(off.count),
                            off.baseAddress, dzA[i], g.plane, dq + ph * g.plane, 4 * g.plane, 0,
                            Int32((g.height + 1) * g.wp))
                    }
                }
                let skip = skipGrad(l - 1, i, base)
                hp_phase_merge_add(dq, g.plane, cin, Int32(up.height), Int32(up.width), skip, up.plane)
                hp_finish_padded_grad(skip, encOut(i, l - 1), cin, Int32(up.height), Int32(up.width), up.plane, slope)
                let target = dzEncoder(l - 1, i, base)
                if target != skip { target.update(from: skip, count: Int(cin) * up.plane) }
            }
        }
    }

    /// conv3Backward of layer k on `images`: image by image, or on mosaics of up to `mosaicImages` of them (the
    /// bias sums image by image as there).
    private func conv3BackwardImages(
        _ k: Int, _ images: Range<Int>, part t: Int, dz: ImagePlanes, input: ImagePlanes, dst: ImagePlanes?,
        mask: ImagePlanes?
    ) {
        timed(t, k, .backward) {
            conv3BackwardImagesUntimed(k, images, part: t, dz: dz, input: input, dst: dst, mask: mask)
        }
    }
    private func conv3BackwardImagesUntimed(
        _ k: Int, _ images: Range<Int>, part t: Int, dz: ImagePlanes, input: ImagePlanes, dst: ImagePlanes?,
        mask: ImagePlanes?
    ) {
        let base = scratch.slot(t).pointer
        let grads = base + scratchLayout.grads
        let winoScratch = base + scratchLayout.wino
        guard isMosaic(k) else {
            for i in images {
                conv3Backward(
                    k, dz: dz[i], input: input[i], dst: dst?[i], mask: mask.map { UnsafePointer($0[i]) }, grads: grads,
                    wino: winoScratch)
            }
            return
        }
        let layer = layers[k]
        let g = geo[layer.level]
        let level = simdLevel.rawValue
        let (cin, cout, h, w) = (Int32(layer.cin), Int32(layer.cout), Int32(g.height), Int32(g.width))
        let sums = UnsafeMutableRawPointer(grads + sumOffsets[k]).assumingMemoryBound(to: Double.self)
        for i in images { hp_plane_sums(dz[i], cout, g.plane, sums) }
        let s = scratchLayout
        let (mz, mx, my) = (base + s.mosaic[0], base + s.mosaic[1], base + s.mosaic[2])
        var first = images.lowerBound
        while first < images.upperBound {
            let c = min(Self.mosaicImages, images.upperBound - first)
            let m = mosaicShape(layer.level, images: c)
            let (band, seg) = (Int32(m.band), Int32(m.seg))
            hp_mosaic_gather(dz[first], dz.stride, g.plane, Int32(c), cout, h, w, band, seg, mz, m.plane)
            hp_mosaic_gather(input[first], input.stride, g.plane, Int32(c), cin, h, w, band, seg, mx, m.plane)
            hp_wino_weight_grad(
                level, mz, m.plane, cout, mx, m.plane, cin, band, Int32(m.wp - 2), winoScratch, grads + accOffsets[k])
            if let dst {
                hp_wino_forward(
                    level, packedAdjoint.pointer + adjointOffsets[k][0], nil, cin, cout, mz, m.plane, band,
                    Int32(m.wp - 2), my + m.wp + 1, m.plane, winoScratch, Int32(HP_ACT_NONE), slope, nil)
                hp_mosaic_scatter(my, m.plane, cin, h, w, band, seg, Int32(c), dst[first], dst.stride, g.plane)
                for i in first..<first + c {
                    if let mask {
                        hp_finish_padded_grad(dst[i], mask[i], cin, h, w, g.plane, slope)
                    } else {
                        hp_finish_padded(dst[i], cin, h, w, g.plane, 0, slope)
                    }
                }
            }
            first += c
        }
    }

    /// The weight gradients of the direct layers over the images `share` (their saved pre-activation gradients and
    /// inputs), into the thread's accumulators: small images a group at a time (hp_taps_weight_grad_images).
    private func gradientsOfDirectLayers(_ share: Range<Int>, part t: Int, grads: UnsafeMutablePointer<Float>) {
        guard !share.isEmpty else { return }
        for i in layers.indices where !wino[i] {
            timed(t, i, .weightGradient) { directWeightGradient(i, share, grads: grads) }
        }
    }

    /// Direct layer i's weight gradient over the images `share`, into the thread's accumulators at `grads`.
    private func directWeightGradient(_ i: Int, _ share: Range<Int>, grads: UnsafeMutablePointer<Float>) {
        let level = simdLevel.rawValue
        let first = share.lowerBound
        let layer = layers[i]
        let g = geo[layer.level]
        let dzImage = layer.cout * g.plane
        let dz = dzSaved[i].pointer + first * dzImage
        let acc = grads + accOffsets[i]
        let (cin, cout) = (Int32(layer.cin), Int32(layer.cout))
        switch layer.kind {
        case .pointwise:
            let x = at(dOut[0], first, width, 0)
            var zero: Int32 = 0
            hp_taps_weight_grad_images(
                level, dz, g.plane, dzImage, cout, x, g.plane, width * g.plane, cin, 1, &zero, Int32(g.plane),
                Int32(share.count), acc)
        case .stride2:
            let l = layer.level
            let x = at(phases[l], first, 4 * layer.cin, l)
            stride2Offsets[l].withUnsafeBufferPointer { off in
                hp_taps_weight_grad_images(
                    level, dz + g.wp + 1, g.plane, dzImage, cout, x, 4 * g.plane, 4 * layer.cin * g.plane, cin, 9,
                    off.baseAddress, Int32(g.laneEnd), Int32(share.count), acc)
            }
        case .conv3:
            let (x, xImage) = directInput(i, first)
            conv3Offsets[layer.level].withUnsafeBufferPointer { off in
                hp_taps_weight_grad_images(
                    level, dz + g.wp + 1, g.plane, dzImage, cout, x, g.plane, xImage, cin, 9, off.baseAddress,
                    Int32(g.laneEnd), Int32(share.count), acc)
            }
        }
    }

    /// The saved input of 3x3 stride-1 layer i at image `first`, and the floats from one image's to the next.
    private func directInput(_ i: Int, _ first: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let layer = layers[i]
        let l = layer.level
        let plane = geo[l].plane
        if i == encConv1(0) { return (at(x0, first, inputChannels, 0), inputChannels * plane) }
        if i == encConv2(l) { return (at(a1[l], first, ch(l), l), ch(l) * plane) }
        if i == decConv1(l) { return (at(cat[l], first, ch(l + 1) + ch(l), l), (ch(l + 1) + ch(l)) * plane) }
        return (at(d1[l], first, ch(l), l), ch(l) * plane)
    }
}
