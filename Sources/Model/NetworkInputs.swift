// `model.inputs` and `model.clip_level`: which planes the patch network sees, stacked along the channel axis.
import Config
import Numerics

/// The network's input planes, in the listed order:
/// - `log_norm` (3 planes): LogNorm's normalized log image, in [0, 1] per patch. Always first, always present.
/// - `log_level` (3 planes): log(x + eps) itself, the absolute level that the per-patch normalization removes.
/// - `clip_mask` (3 planes): 1 where the input channel is >= `clip_level`, else 0: which values a sensor or an
///   8-bit file has clipped, and so carry no information about the scene above that level.
/// - `clip_depth` (3 planes, the same in each): how deep inside a clipped region each pixel lies: min(d, 24) / 24, d
///   the octagonal distance (the unclipped region grown by a 3x3 square and a 3-pixel cross in turn) to the nearest
///   pixel whose largest channel is below `clip_level` in the patch (pixels outside the patch do not count), 0
///   where no channel clips. One plane for all channels: per channel, the network boosted each channel by its
///   own depth and tinted clipped regions at their edges. It
///   tells a network whose receptive field is a few pixels how large a clipped region is and where its centre
///   lies, so that a highlight can get a shape. In the ONNX export: 23 MaxPool steps of the unclipped mask.
/// - `hole_mask` (3 planes, the same in each): the data set's region mask (`root/mask/`, e.g. the disocclusions
///   of a warped frame: 1 where the input holds no view of the surface). Training and validation sets must have
///   masks; `restore` takes one with `--mask`; the ONNX export does not carry it (one graph input).
///
/// None of them carries a gradient (they are data), so only the network's first layer grows.
package struct NetworkInputs: Sendable, Equatable {
    package enum Plane: String, Sendable, CaseIterable {
        case logNorm = "log_norm"
        case logLevel = "log_level"
        case clipMask = "clip_mask"
        case clipDepth = "clip_depth"
        case holeMask = "hole_mask"
    }

    /// `clip_depth`'s reach: distances saturate here (pixels).
    package static let clipDepthReach = 24

    /// Pixels of context the planes take beyond the network's own receptive field (`clip_depth`'s reach).
    package var contextRadius: Int { planes.contains(.clipDepth) ? Self.clipDepthReach : 0 }

    /// Whether a plane reads the batch's region masks (`hole_mask`).
    package var usesRegions: Bool { planes.contains(.holeMask) }

    /// Whether a plane reads `clip_level`.
    var usesClipLevel: Bool { planes.contains(.clipMask) || planes.contains(.clipDepth) }

    package var planes: [Plane]
    /// The level at or above which `clip_mask` marks an input value as clipped (linear, the input's own scale).
    package var clipLevel: Float

    package static let defaultClipLevel: Float = 1.0
    /// The network sees only LogNorm's output: 3 planes, the layout of every checkpoint before `inputs` existed.
    package static let logNormOnly = NetworkInputs(planes: [.logNorm], clipLevel: defaultClipLevel)
    /// The keys this reads from the `model:` section.
    package static let keys = ["inputs", "clip_level"]

    package init(planes: [Plane], clipLevel: Float = NetworkInputs.defaultClipLevel) {
        precondition(planes.first == .logNorm, "NetworkInputs: log_norm comes first")
        self.planes = planes
        self.clipLevel = clipLevel
    }

    /// Reads `inputs` (default [log_norm]) and `clip_level` (default 1.0, only with clip_mask; null: not set) from the `model:`
    /// section; the section's other keys are ModelConfig's.
    package init(config c: ConfigMapping) throws {
        var planes: [Plane] = [.logNorm]
        if c.contains("inputs") {
            let names: [String] = try c.values("inputs")
            planes = []
            for name in names {
                guard let plane = Plane(rawValue: name) else {
                    throw c.error(
                        "inputs", DidYouMean.unknown("input plane", name, among: Plane.allCases.map(\.rawValue)))
                }
                if planes.contains(plane) { throw c.error("inputs", "\(name) is listed twice") }
                planes.append(plane)
            }
            guard planes.first == .logNorm else {
                throw c.error("inputs", "must start with log_norm (the normalized log image the residual is added to)")
            }
        }
        // null is no level: what a config over a base with clip_mask writes when it drops the mask.
        let level: Double? = try c.optional("clip_level", in: .greaterThan(0.0))
        if level != nil && !(planes.contains(.clipMask) || planes.contains(.clipDepth)) {
            throw c.error("clip_level", "only used with clip_mask or clip_depth in model.inputs")
        }
        self.init(planes: planes, clipLevel: Float(level ?? Double(Self.defaultClipLevel)))
    }

    /// Channels of the network's input.
    package var channels: Int { 3 * planes.count }

    /// `{inputs, clip_level}` for the resolved config; clip_level only with clip_mask or clip_depth.
    package var json: [String: JSONValue] {
        var o: [String: JSONValue] = ["inputs": .array(planes.map { .string($0.rawValue) })]
        if usesClipLevel { o["clip_level"] = .number(Double(clipLevel)) }
        return o
    }

    /// Writes the network input (N, channels, H, W) for `input` (N, 3, H, W, linear) and its LogNorm result.
    /// With only log_norm the caller passes `norm.normalized` itself; this is for the other layouts.
    /// `regions` (N, 1, H, W) fill `hole_mask`; without them it is 0 (no hole).
    package func assemble(input: Tensor, norm: LogNormalized, regions: Tensor? = nil, into out: inout Tensor) {
        let n = input.shape[0]
        let h = input.shape[2]
        let w = input.shape[3]
        // Compared element by element: an array literal here would be a heap allocation every step.
        let s = out.shape
        if !(s.count == 4 && s[0] == n && s[1] == channels && s[2] == h && s[3] == w) {
            out = Tensor(zeros: [n, channels, h, w])
        }
        let plane = 3 * h * w
        let level = clipLevel
        let planes = planes
        if let regions {
            precondition(
                regions.shape.count == 4 && regions.shape[0] == n && regions.shape[1] == 1 && regions.shape[2] == h
                    && regions.shape[3] == w, "NetworkInputs.assemble: regions \(regions.shape) for input \(s)")
        }
        let none: [Float] = []
        (regions?.storage ?? none).withUnsafeBufferPointer { r in
            input.storage.withUnsafeBufferPointer { x in
                norm.normalized.storage.withUnsafeBufferPointer { xn in
                    norm.logImage.storage.withUnsafeBufferPointer { logs in
                        out.storage.withUnsafeMutableBufferPointer { o in
                            // Every (sample, plane) is a copy of its own: split them over the compute threads.
                            let parts = max(1, min(Parallel.threads, n * planes.count))
                            Parallel.run(
                                parts,
                                AssembleJob(
                                    x: x, normalized: xn, logs: logs, regions: r, out: o, planes: planes, plane: plane,
                                    level: level, samples: n, parts: parts, height: h, width: w))
                        }
                    }
                }
            }
        }
    }

    /// Part `part` of the (sample, plane) copies (run every step: no closure, nothing allocated).
    private struct AssembleJob: ParallelJob {
        let x: UnsafeBufferPointer<Float>, normalized: UnsafeBufferPointer<Float>, logs: UnsafeBufferPointer<Float>
        /// (N, 1, H, W) region masks, or empty (no region: hole_mask is 0).
        let regions: UnsafeBufferPointer<Float>
        let out: UnsafeMutableBufferPointer<Float>
        let planes: [Plane]
        let plane: Int, level: Float, samples: Int, parts: Int, height: Int, width: Int

        func run(part: Int) {
            for job in Parallel.share(part, of: parts, total: samples * planes.count) {
                let (s, k) = job.quotientAndRemainder(dividingBy: planes.count)
                let dst = (s * planes.count + k) * plane
                let src = s * plane
                switch planes[k] {
                case .logNorm:
                    for i in 0..<plane { out[dst + i] = normalized[src + i] }
                case .logLevel:
                    for i in 0..<plane { out[dst + i] = logs[src + i] }
                case .clipMask:
                    for i in 0..<plane { out[dst + i] = x[src + i] >= level ? 1 : 0 }
                case .clipDepth:
                    NetworkInputs.clipDepth(
                        UnsafeBufferPointer(rebasing: x[src..<(src + plane)]), level: level, height: height,
                        width: width, into: UnsafeMutableBufferPointer(rebasing: out[dst..<(dst + plane)]))
                case .holeMask:
                    let hw = height * width
                    for c in 0..<3 {
                        for i in 0..<hw { out[dst + c * hw + i] = regions.isEmpty ? 0 : regions[s * hw + i] }
                    }
                }
            }
        }
    }

    /// `clip_depth` of one sample's 3 channel planes (height x width each), the same in all 3: min(d, reach) /
    /// reach, d the octagonal distance to the nearest pixel whose largest channel is below `level`: the unclipped region grown one step at a time, by the 3 x 3 square on odd steps
    /// and by the 3-pixel cross on even ones, d the step that first reaches the value. Alternating the two makes
    /// the distance's level sets octagons, close to circles (the square alone makes squares, whose corners a
    /// network turns into spikes); the ONNX graph grows the region with the same MaxPools. Pixels outside the plane
    /// are not there: they neither stop nor carry the growth. `out` holds the region as it grows, then the plane.
    package static func clipDepth(
        _ x: UnsafeBufferPointer<Float>, level: Float, height h: Int, width w: Int,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        let n = h * w
        precondition(x.count == 3 * n && out.count == 3 * n, "clipDepth: 3 planes of \(h) x \(w)")
        let reach = clipDepthReach
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3 * n) { buffer in
            // Three planes: the region grown so far, the region grown in this step, one horizontal pass.
            let grown = UnsafeMutableBufferPointer(rebasing: buffer[0..<n])
            let next = UnsafeMutableBufferPointer(rebasing: buffer[n..<(2 * n)])
            let rows = UnsafeMutableBufferPointer(rebasing: buffer[(2 * n)..<(3 * n)])
            for i in 0..<n {
                grown[i] = max(x[i], x[n + i], x[2 * n + i]) < level ? 1 : 0
                out[i] = 0
            }
            for k in 1...reach {
                // Every pixel not yet reached counts one more step (d = the first k that reaches it).
                for i in 0..<n where grown[i] == 0 { out[i] += 1 }
                if k == reach { break }
                for y in 0..<h {
                    let r = y * w
                    for xx in 0..<w {
                        var v = grown[r + xx]
                        if xx > 0 { v |= grown[r + xx - 1] }
                        if xx < w - 1 { v |= grown[r + xx + 1] }
                        rows[r + xx] = v
                    }
                }
                let square = k % 2 == 1
                for y in 0..<h {
                    let r = y * w
                    for xx in 0..<w {
                        // Square: the row maxima of the rows above and below; cross: their centres alone.
                        let vertical = square ? rows : grown
                        var v = rows[r + xx]
                        if y > 0 { v |= vertical[r - w + xx] }
                        if y < h - 1 { v |= vertical[r + w + xx] }
                        next[r + xx] = v
                    }
                }
                for i in 0..<n { grown[i] = next[i] }
            }
        }
        let divisor = Float(reach)
        for i in 0..<n {
            let v = out[i] / divisor
            out[i] = v
            out[n + i] = v
            out[2 * n + i] = v
        }
    }
}
