// `hdrpatch export`: the whole restore pipeline of a PatchModel as one ONNX graph, linear RGB in, linear RGB out.
import EXRIO
import Foundation
import Model
import Numerics
import ONNXProto
import SwiftProtobuf

/// A bad export request, printed as its one-line reason.
package struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Builds the ONNX model of `PatchModel.forward` for a batch with each sample's own LogNorm statistics (what
/// `hdrpatch restore` computes for an image that fits in one tile):
///
///     linear_rgb (N, 3, H, W)
///       [U-Net: Pad (edge) H and W up to multiples of 2^levels; sliced back at the end]
///       log_image = Log(x + eps); lo, hi = ReduceMin, ReduceMax over (C, H, W) per sample
///       denom = Max(hi - lo, denom_floor); log_norm = (log_image - lo) / denom
///       network input = Concat(model.inputs planes: log_norm, log_image, clip_mask = Cast(x >= clip_level))
///       p = network (Conv, LeakyRelu(0.2), U-Net: Resize nearest x2 and Concat)
///       delta = coefficient * Tanh(p)   coefficient: alpha * cap * scale | k * denom * scale | head.scale * scale
///       delta = Clip(delta, -clamp, clamp) when residual.clamp is set
///       restored_rgb = Relu(Exp(log_image + delta) - eps)   (radiance is never negative)
///
/// The arithmetic is the engine's, operation for operation and in the same order (float32 throughout), so an
/// ONNX runtime's result differs only by its own rounding of log, tanh, exp and the convolutions' sums.
package enum ONNXExport {
    /// Operator sets this writes: 13 (ONNX 1.8) to 21 (ONNX 1.16). ReduceMin/ReduceMax take their axes as an
    /// attribute before 18 and as an input from 18.
    package static let supportedOpsets = 13...21
    package static let defaultOpset = 17
    package static let inputName = "linear_rgb"
    package static let outputName = "restored_rgb"

    /// The IR version of the ONNX release that introduced `opset` (what a reader of that release accepts).
    package static func irVersion(opset: Int) -> Int64 {
        switch opset {
        case ...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        default: return 10
        }
    }

    /// - Parameter metadata: key/value pairs for the model's metadata_props (the training config, the step, ...),
    ///   in this order.
    /// - Throws: ExportError for an operator set outside `supportedOpsets`, or a model with a `hole_mask` input (the
    ///   graph has one input, the image).
    package static func model(
        _ m: PatchModel, opset: Int = defaultOpset, metadata: [(key: String, value: String)] = [],
        producerVersion: String = ""
    ) throws -> Onnx_ModelProto {
        guard supportedOpsets.contains(opset) else {
            throw ExportError(
                "opset \(opset) is not supported (\(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound))")
        }
        if m.inputs.usesRegions {
            throw ExportError(
                "model.inputs has hole_mask: the exported graph has one input (the image) and cannot carry the mask")
        }
        let g = ONNXGraphBuilder(opset: opset)
        g.reserve(inputName)
        var x = inputName
        let multiple = m.model.sizeMultiple
        var originalSize: String?
        if multiple > 1 {
            (x, originalSize) = padToMultiple(g, x, multiple: multiple)
        }
        let eps = m.logNorm.eps
        let epsName = g.scalar("eps", eps, doc: "LogNorm eps: added before the log, subtracted after the exp")
        let shifted = g.node("Add", [x, epsName], output: "lognorm.x_plus_eps", doc: "x + eps (float32)")
        let logImage = g.node("Log", [shifted], output: "lognorm.log_image", doc: "log_image = log(x + eps)")
        let lo = reduce(g, "ReduceMin", logImage, output: "lognorm.lo", doc: "per-sample minimum of log_image")
        let hi = reduce(g, "ReduceMax", logImage, output: "lognorm.hi", doc: "per-sample maximum of log_image")
        let range = g.node("Sub", [hi, lo], output: "lognorm.range", doc: "hi - lo per sample")
        let floor = g.scalar(
            "denom_floor", m.logNorm.denomFloor, doc: "LogNorm's smallest denominator (a flat patch normalises to 0)")
        let denom = g.node("Max", [range, floor], output: "lognorm.denom", doc: "denom = max(hi - lo, denom_floor)")
        let centred = g.node("Sub", [logImage, lo], output: "lognorm.centred", doc: "log_image - lo")
        let normalized = g.node(
            "Div", [centred, denom], output: "lognorm.log_norm", doc: "log_norm = (log_image - lo) / denom, in [0, 1]")

        var planes: [String] = []
        for plane in m.inputs.planes {
            switch plane {
            case .logNorm: planes.append(normalized)
            case .logLevel: planes.append(logImage)
            case .clipMask:
                let level = g.scalar(
                    "clip_level", m.inputs.clipLevel, doc: "model.clip_level: inputs at or above it count as clipped")
                let clipped = g.node(
                    "GreaterOrEqual", [x, level], output: "inputs.clipped", doc: "x >= clip_level per channel")
                planes.append(
                    g.node(
                        "Cast", [clipped], output: "inputs.clip_mask", doc: "clip_mask: 1 where clipped, else 0",
                        attributes: [
                            ONNXGraphBuilder.attribute("to", int: Int(Onnx_TensorProto.DataType.float.rawValue))
                        ]
                    ))
            case .clipDepth:
                planes.append(clipDepth(g, x, level: m.inputs.clipLevel))
            case .holeMask:
                preconditionFailure("refused above")
            }
        }
        let networkInput =
            planes.count == 1
            ? planes[0]
            : g.node(
                "Concat", planes, output: "inputs.stacked",
                doc: "model.inputs stacked on the channel axis: "
                    + m.inputs.planes.map(\.rawValue).joined(separator: ", "),
                attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])

        let coefficient = headCoefficient(g, m, denom: denom)
        let clamp = m.residual.clamp.map { c in
            (c, g.scalar("clamp_min", -c, doc: "-residual.clamp"), g.scalar("clamp_max", c, doc: "residual.clamp"))
        }
        // One branch per transform of the self-ensemble (one branch, unprefixed, without it): network and head on
        // the transformed input, the clamped residual turned back; then their mean.
        let count = m.selfEnsemble.count
        var deltas: [String] = []
        for k in 0..<count {
            let transform = SelfEnsemble.Transform(k)
            g.scope = count == 1 ? "" : "ensemble.\(k)."
            let branchInput = dihedral(g, networkInput, transform, inverse: false)
            let p: String
            switch m.model {
            case .plain(let depth, _, _): p = plainNetwork(g, branchInput, depth: depth, store: m.store)
            case .unet(_, let levels): p = uNet(g, branchInput, levels: levels, store: m.store)
            }
            let t = g.node("Tanh", [p], output: "head.tanh", doc: "t = tanh(p)")
            var branchDelta = g.node("Mul", [coefficient, t], output: "head.delta_raw", doc: "coefficient * tanh(p)")
            if let (c, low, high) = clamp {
                branchDelta = g.node(
                    "Clip", [branchDelta, low, high], output: "head.delta",
                    doc:
                        "the safety clamp: delta = clip(delta, -\(c), \(c)); exp's argument is then at most log_image + \(c)"
                )
            }
            deltas.append(dihedral(g, branchDelta, transform, inverse: true))
        }
        g.scope = ""
        var delta = deltas[0]
        if count > 1 {
            let sum = g.node(
                "Sum", deltas, output: "ensemble.sum", doc: "the \(count) residuals, each in the input's orientation")
            let n = g.scalar("ensemble.count", Float(count), doc: "model.self_ensemble")
            delta = g.node("Div", [sum, n], output: "ensemble.delta", doc: "delta: the mean of the \(count) residuals")
        }
        let logOut = g.node("Add", [logImage, delta], output: "reconstruct.log_out", doc: "log_image + delta")
        let expOut = g.node("Exp", [logOut], output: "reconstruct.exp", doc: "exp(log_image + delta)")
        let unbounded = g.node(
            "Sub", [expOut, epsName], output: "reconstruct.unbounded", doc: "exp(log_image + delta) - eps")
        var out = g.node(
            "Relu", [unbounded], output: "reconstruct.linear",
            doc: "max(exp(log_image + delta) - eps, 0): radiance is never negative")
        if let originalSize {
            let starts = g.int64s("crop.starts", [0, 0], doc: "crop origin (H, W)")
            let axes = g.int64s("crop.axes", [2, 3], doc: "H and W")
            out = g.node(
                "Slice", [out, starts, originalSize, axes], output: "crop.restored",
                doc: "back to the input's H x W (undoes the edge padding)")
        }
        // The graph's output under its public name.
        g.node("Identity", [out], output: outputName, doc: "the restored linear RGB")

        var graph = Onnx_GraphProto()
        graph.name = "hdrpatch_restore"
        graph.docString =
            "hdrpatch restore pipeline: LogNorm (eps \(eps), denom_floor \(m.logNorm.denomFloor)), "
            + "\(networkDescription(m)), residual head (\(headDescription(m))), max(exp(log_image + delta) - eps, 0)."
        graph.node = g.nodes
        graph.initializer = g.initializers
        graph.input = [
            ONNXGraphBuilder.imageValue(
                inputName, channels: 3, doc: "linear HDR RGB, (N, 3, H, W), values >= 0 (planar, float32)")
        ]
        graph.output = [
            ONNXGraphBuilder.imageValue(
                outputName, channels: 3, doc: "restored linear HDR RGB, (N, 3, H, W); +inf where exp overflows")
        ]

        var model = Onnx_ModelProto()
        model.irVersion = irVersion(opset: opset)
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = Int64(opset)
        model.opsetImport = [set]
        model.producerName = "hdrpatch"
        model.producerVersion = producerVersion
        model.docString =
            "Restores linear HDR RGB in the log domain; each sample of the batch is normalised with its own log "
            + "range. Metadata keys hdrpatch.*: the training config and the checkpoint."
        model.graph = graph
        model.metadataProps = metadata.map { k, v in
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            return e
        }
        return model
    }

    /// Serialises `model` and writes it atomically (temp file, fsync, rename).
    package static func write(_ model: Onnx_ModelProto, to path: String) throws {
        let bytes = try model.serializedBytes() as [UInt8]
        try FileBytes.atomicWrite(path, bytes: bytes)
    }

    // MARK: - Parts

    /// Pads H and W (edge replication) up to the next multiples of `multiple`; returns the padded value and the
    /// name of the original (H, W) as int64, for the final Slice.
    private static func padToMultiple(_ g: ONNXGraphBuilder, _ x: String, multiple: Int) -> (String, String) {
        let shape = g.node("Shape", [x], output: "pad.shape", doc: "shape of the input")
        let two = g.int64s("pad.hw_start", [2], doc: "index of H")
        let four = g.int64s("pad.hw_end", [4], doc: "one past the index of W")
        let hw = g.node("Slice", [shape, two, four], output: "pad.hw", doc: "(H, W) of the input")
        let m = g.int64s("pad.multiple", [Int64(multiple)], doc: "the U-Net's side multiple, 2^levels")
        let rest = g.node("Mod", [hw, m], output: "pad.rest", doc: "(H, W) mod 2^levels")
        let short = g.node("Sub", [m, rest], output: "pad.short", doc: "2^levels - rest")
        let amount = g.node("Mod", [short, m], output: "pad.amount", doc: "rows and columns to add at the end")
        let zeros = g.int64s("pad.begin", [0, 0, 0, 0, 0, 0], doc: "nothing before any axis, nothing after N and C")
        let pads = g.node(
            "Concat", [zeros, amount], output: "pad.pads", doc: "ONNX pads: begins of N, C, H, W, then ends",
            attributes: [ONNXGraphBuilder.attribute("axis", int: 0)])
        let padded = g.node(
            "Pad", [x, pads], output: "pad.padded",
            doc: "edge replication to multiples of 2^levels (adds no new value: LogNorm's lo/hi are unchanged)",
            attributes: [ONNXGraphBuilder.attribute("mode", string: "edge")])
        return (padded, hw)
    }

    /// `x` (N, C, H, W) through a self-ensemble transform (transpose H and W, then the flips), or back (the flips,
    /// then the transpose); the identity transform is `x` itself.
    private static func dihedral(
        _ g: ONNXGraphBuilder, _ x: String, _ t: SelfEnsemble.Transform, inverse: Bool
    ) -> String {
        var v = x
        let stage = inverse ? "inverse" : "transform"
        func transpose() {
            v = g.node(
                "Transpose", [v], output: "ensemble.\(stage).transpose", doc: "H and W swapped",
                attributes: [ONNXGraphBuilder.attribute("perm", ints: [0, 1, 3, 2])])
        }
        func flip(axis: Int64, _ name: String) {
            let starts = g.sharedInt64s("ensemble.flip.start", [-1], doc: "from the last row or column")
            let ends = g.sharedInt64s("ensemble.flip.end", [Int64.min], doc: "past the first")
            let axes = g.sharedInt64s("ensemble.flip.axis\(axis)", [axis], doc: axis == 2 ? "H" : "W")
            let steps = g.sharedInt64s("ensemble.flip.step", [-1], doc: "backwards")
            v = g.node(
                "Slice", [v, starts, ends, axes, steps], output: "ensemble.\(stage).flip_\(name)",
                doc: "reversed along \(name)")
        }
        if t.transpose && !inverse { transpose() }
        if t.flipW { flip(axis: 3, "w") }
        if t.flipH { flip(axis: 2, "h") }
        if t.transpose && inverse { transpose() }
        return v
    }

    /// ReduceMin/ReduceMax over (C, H, W), keepdims: (N, 1, 1, 1).
    private static func reduce(_ g: ONNXGraphBuilder, _ op: String, _ x: String, output: String, doc: String) -> String
    {
        let keep = ONNXGraphBuilder.attribute("keepdims", int: 1)
        if g.opset >= 18 {
            let axes = g.int64s("lognorm.axes", [1, 2, 3], doc: "C, H, W: one value per sample")
            return g.node(op, [x, axes], output: output, doc: doc, attributes: [keep])
        }
        return g.node(
            op, [x], output: output, doc: doc, attributes: [ONNXGraphBuilder.attribute("axes", ints: [1, 2, 3]), keep])
    }

    /// A convolution with the store's `name.weight` and `name.bias`.
    private static func conv(
        _ g: ONNXGraphBuilder, _ x: String, _ name: String, store: ParameterStore, stride: Int = 1, doc: String
    ) -> String {
        let w = store.entry(named: name + ".weight")!
        let b = store.entry(named: name + ".bias")!
        let k = w.shape[2]
        let pad = k / 2
        let weight = g.parameter(
            name + ".weight", shape: w.shape, Array(store.values(w)), doc: "\(name) weight (out, in, \(k), \(k))")
        let bias = g.parameter(name + ".bias", shape: b.shape, Array(store.values(b)), doc: "\(name) bias")
        return g.node(
            "Conv", [x, weight, bias], output: name, doc: doc,
            attributes: [
                ONNXGraphBuilder.attribute("kernel_shape", ints: [k, k]),
                ONNXGraphBuilder.attribute("pads", ints: [pad, pad, pad, pad]),
                ONNXGraphBuilder.attribute("strides", ints: [stride, stride]),
                ONNXGraphBuilder.attribute("dilations", ints: [1, 1]),
                ONNXGraphBuilder.attribute("group", int: 1)
            ])
    }

    private static func leaky(_ g: ONNXGraphBuilder, _ x: String, output: String) -> String {
        g.node(
            "LeakyRelu", [x], output: output, doc: "LeakyReLU, slope \(leakySlope)",
            attributes: [ONNXGraphBuilder.attribute("alpha", float: leakySlope)])
    }

    /// `arch: plain`: layers.0 ... layers.(depth-1), LeakyReLU after all but the last.
    /// `clip_depth` (NetworkInputs): u_0 = 1 where a pixel's largest channel is below clip_level, u_k = u_{k-1} grown by the 3x3 square (k odd) or
    /// the 3-pixel cross (k even: the larger of a 1x3 and a 3x1 MaxPool), padding ignored as the patch's outside
    /// is; plane = 1 - (u_0 + ... + u_{K-1}) / K: min(octagonal distance, K) / K.
    static func clipDepth(_ g: ONNXGraphBuilder, _ x: String, level: Float) -> String {
        let reach = NetworkInputs.clipDepthReach
        let levelName = g.scalar(
            "clip_depth.level", level, doc: "model.clip_level: inputs at or above it count as clipped")
        let keep = ONNXGraphBuilder.attribute("keepdims", int: 1)
        let largest =
            g.opset >= 18
            ? g.node(
                "ReduceMax", [x, g.int64s("clip_depth.axes", [1], doc: "C")], output: "clip_depth.largest",
                doc: "each pixel's largest channel", attributes: [keep])
            : g.node(
                "ReduceMax", [x], output: "clip_depth.largest", doc: "each pixel's largest channel",
                attributes: [ONNXGraphBuilder.attribute("axes", ints: [1]), keep])
        let below = g.node(
            "Less", [largest, levelName], output: "clip_depth.below", doc: "largest channel < clip_level")
        var u = g.node(
            "Cast", [below], output: "clip_depth.u0", doc: "u_0: 1 where unclipped",
            attributes: [ONNXGraphBuilder.attribute("to", int: Int(Onnx_TensorProto.DataType.float.rawValue))])
        var sum = u
        // The cross's 1x3 and 3x1 pools pad explicitly with 0 (the same as ignoring the outside for a mask of 0s
        // and 1s): onnx's reference evaluator fails on a padded MaxPool with a kernel side of 1.
        let acrossPads = g.int64s("clip_depth.across_pads", [0, 0, 0, 1, 0, 0, 0, 1], doc: "one column each side")
        let downPads = g.int64s("clip_depth.down_pads", [0, 0, 1, 0, 0, 0, 1, 0], doc: "one row each side")
        func pool(_ v: String, _ kernel: [Int], _ pads: String?, _ name: String) -> String {
            let input =
                pads.map {
                    g.node("Pad", [v, $0], output: name + ".padded", doc: "zeros around the mask")
                } ?? v
            return g.node(
                "MaxPool", [input], output: name, doc: "max over \(kernel[0]) x \(kernel[1])",
                attributes: [ONNXGraphBuilder.attribute("kernel_shape", ints: kernel)]
                    + (pads == nil ? [ONNXGraphBuilder.attribute("pads", ints: [1, 1, 1, 1])] : []))
        }
        for k in 1..<reach {
            if k % 2 == 1 {
                u = pool(u, [3, 3], nil, "clip_depth.u\(k)")
            } else {
                let across = pool(u, [1, 3], acrossPads, "clip_depth.u\(k).across")
                let down = pool(u, [3, 1], downPads, "clip_depth.u\(k).down")
                u = g.node(
                    "Max", [across, down], output: "clip_depth.u\(k)",
                    doc: "u_\(k): grown by the 3-pixel cross")
            }
            sum = g.node("Add", [sum, u], output: "clip_depth.sum\(k)", doc: "u_0 + ... + u_\(k)")
        }
        let scale = g.scalar("clip_depth.scale", -1 / Float(reach), doc: "-1 / reach")
        let one = g.scalar("clip_depth.one", 1, doc: "1")
        let scaled = g.node("Mul", [sum, scale], output: "clip_depth.scaled", doc: "-(u_0 + ... + u_{K-1}) / K")
        let depth = g.node("Add", [scaled, one], output: "clip_depth.plane", doc: "min(d, K) / K")
        return g.node(
            "Concat", [depth, depth, depth], output: "inputs.clip_depth", doc: "the same plane for each channel",
            attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])
    }

    private static func plainNetwork(_ g: ONNXGraphBuilder, _ x: String, depth: Int, store: ParameterStore) -> String {
        var t = x
        for i in 0..<depth {
            t = conv(g, t, "layers.\(i)", store: store, doc: "plain network layer \(i) of \(depth): 3x3 convolution")
            if i < depth - 1 { t = leaky(g, t, output: "layers.\(i).act") }
        }
        return t
    }

    /// conv1 (stride s) -> LeakyReLU -> conv2 -> LeakyReLU.
    private static func block(
        _ g: ONNXGraphBuilder, _ x: String, _ name: String, stride: Int, store: ParameterStore
    ) -> String {
        let z1 = conv(
            g, x, name + ".conv1", store: store, stride: stride,
            doc: "\(name) first 3x3 convolution" + (stride == 2 ? ", stride 2 (halves H and W)" : ""))
        let a1 = leaky(g, z1, output: name + ".act1")
        let z2 = conv(g, a1, name + ".conv2", store: store, doc: "\(name) second 3x3 convolution")
        return leaky(g, z2, output: name + ".act2")
    }

    /// `arch: unet`: enc.0 ... enc.L, then per level: nearest x2 upsampling, concat with the skip, dec.l; out 1x1.
    private static func uNet(_ g: ONNXGraphBuilder, _ x: String, levels: Int, store: ParameterStore) -> String {
        var encoded: [String] = []
        var t = x
        for l in 0...levels {
            t = block(g, t, "enc.\(l)", stride: l == 0 ? 1 : 2, store: store)
            encoded.append(t)
        }
        let scales = g.parameter("up.scales", shape: [4], [1, 1, 2, 2], doc: "nearest upsampling x2 of H and W")
        for l in stride(from: levels - 1, through: 0, by: -1) {
            let up = g.node(
                "Resize", [t, "", scales], output: "up.\(l)",
                doc: "nearest-neighbour x2 (PyTorch's nearest: asymmetric coordinates, floor)",
                attributes: [
                    ONNXGraphBuilder.attribute("mode", string: "nearest"),
                    ONNXGraphBuilder.attribute("coordinate_transformation_mode", string: "asymmetric"),
                    ONNXGraphBuilder.attribute("nearest_mode", string: "floor")
                ])
            let cat = g.node(
                "Concat", [up, encoded[l]], output: "cat.\(l)", doc: "upsampled, then enc.\(l)'s output (the skip)",
                attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])
            t = block(g, cat, "dec.\(l)", stride: 1, store: store)
        }
        return conv(g, t, "out", store: store, doc: "U-Net output: 1x1 convolution to 3 channels")
    }

    /// The residual head's per-sample coefficient, in the engine's order of multiplication (ResidualHead).
    private static func headCoefficient(_ g: ONNXGraphBuilder, _ m: PatchModel, denom: String) -> String {
        let s = m.residual.scale
        switch m.residual.mode {
        case .fixedCap(let cap, let alpha):
            return g.scalar(
                "head.coefficient", alpha * cap * s,
                doc: "Mode A (fixed_cap): alpha \(alpha) x cap \(cap) x scale \(s), the same for every sample")
        case .adaptive(let k):
            let kName = g.scalar("head.k", k, doc: "Mode B (adaptive): k")
            let kd = g.node("Mul", [denom, kName], output: "head.k_denom", doc: "Mode B: k * denom, per sample")
            let scale = g.scalar("head.residual_scale", s, doc: "residual.scale")
            return g.node(
                "Mul", [kd, scale], output: "head.coefficient", doc: "Mode B (adaptive): k * denom * scale, per sample")
        case .learnable:
            let learned = g.scalar(
                ResidualHead.scaleName, m.learnedScale ?? 0, doc: "the trained output scale (head.scale)")
            let scale = g.scalar("head.residual_scale", s, doc: "residual.scale")
            return g.node(
                "Mul", [learned, scale], output: "head.coefficient", doc: "learnable: head.scale * scale")
        }
    }

    package static func networkDescription(_ m: PatchModel) -> String {
        switch m.model {
        case .plain(let depth, let width, _): return "plain network (depth \(depth), width \(width))"
        case .unet(let width, let levels): return "U-Net (width \(width), levels \(levels))"
        }
    }

    package static func headDescription(_ m: PatchModel) -> String {
        let mode: String
        switch m.residual.mode {
        case .fixedCap(let cap, let alpha): mode = "fixed_cap, cap \(cap), alpha \(alpha)"
        case .adaptive(let k): mode = "adaptive, k \(k)"
        case .learnable: mode = "learnable, head.scale \(m.learnedScale ?? 0)"
        }
        return mode + (m.residual.scale == 1 ? "" : ", scale \(m.residual.scale)")
            + (m.residual.clamp.map { ", clamp \($0)" } ?? ", no clamp")
    }
}
