import ArgumentParser
import EXRIO
import Foundation
import ModelExport
// `hdrpatch export`: a checkpoint's whole restore pipeline as one ONNX model (docs/export.md).
import RunFiles
import Training

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a checkpoint's restore pipeline (LogNorm, network, residual head, clamp, exp) as ONNX.",
        discussion: """
            One graph from linear RGB (N, 3, H, W) to restored linear RGB, N, H and W dynamic; each sample is \
            normalised with its own log range, as `hdrpatch restore` does for an image that fits in one tile. \
            The model's metadata (hdrpatch.*) carries the training config, the step and which weights were exported. \
            Weights: as restore (EMA when the checkpoint holds them); --ema insists on them.
            """
    )

    @Option(help: "Weights file (.safetensors) written by train.")
    var checkpoint: String

    @Option(help: "YAML config with model: and residual: for a checkpoint without embedded config.")
    var config: String?

    @Option(help: "Which weights: ema or raw (default: ema when the checkpoint holds EMA weights, else raw).")
    var weights: WeightsFile.WeightSet?

    @Flag(help: "Export the EMA weights (an error when the checkpoint holds none); the same as --weights ema.")
    var ema = false

    @OptionGroup var ensemble: SelfEnsembleOption

    @Option(help: "Output ONNX file (written atomically).")
    var onnx: String

    @Option(
        help: ArgumentHelp(
            "ONNX operator set (\(ONNXExport.supportedOpsets.lowerBound) to \(ONNXExport.supportedOpsets.upperBound))."
        ))
    var opset: Int = ONNXExport.defaultOpset

    func validate() throws {
        if ema && weights == .raw { throw ValidationError("--ema and --weights raw contradict each other") }
    }

    func run() throws {
        try withOneLineErrors(file: config ?? checkpoint) {
            let opsets = ONNXExport.supportedOpsets
            guard opsets.contains(opset) else {
                throw ExportError(
                    "--opset \(opset): operator sets \(opsets.lowerBound) to \(opsets.upperBound) are supported")
            }
            let loaded = try CheckpointModel.load(
                checkpoint: checkpoint, configPath: config, weights: ema ? .ema : weights)
            ensemble.apply(to: loaded.model)
            print("\(checkpoint): \(loaded.inferenceDescription)" + (loaded.step.map { ", step \($0)" } ?? ""))
            let configText: String
            if let config {
                configText = try String(decoding: FileBytes.read(config), as: UTF8.self)
            } else {
                configText = try SafetensorsFile.read(path: checkpoint).metadata["config"] ?? ""
            }
            let m = loaded.model
            var metadata: [(key: String, value: String)] = [
                ("hdrpatch.config", configText),
                ("hdrpatch.checkpoint", checkpoint),
                ("hdrpatch.weights", loaded.weights.rawValue),
                ("hdrpatch.network", ONNXExport.networkDescription(m)),
                ("hdrpatch.residual", ONNXExport.headDescription(m)),
                ("hdrpatch.eps", "\(m.logNorm.eps)"),
                ("hdrpatch.denom_floor", "\(m.logNorm.denomFloor)"),
                ("hdrpatch.inputs", m.inputs.planes.map(\.rawValue).joined(separator: ",")),
                ("hdrpatch.self_ensemble", "\(m.selfEnsemble.count)"),
                ("hdrpatch.statistics", "sample")
            ]
            if let step = loaded.step { metadata.insert(("hdrpatch.step", "\(step)"), at: 2) }
            let model = try ONNXExport.model(
                m, opset: opset, metadata: metadata, producerVersion: HDRPatch.configuration.version)
            try ONNXExport.write(model, to: onnx)
            let parameters = m.store.entries.reduce(0) { $0 + $1.count }
            print(
                "\(onnx): ONNX opset \(opset) (IR \(model.irVersion)), \(model.graph.node.count) nodes, "
                    + "\(parameters) parameters: \(ONNXExport.networkDescription(m)); head \(ONNXExport.headDescription(m))"
            )
            print(
                "\(onnx): input \(ONNXExport.inputName) (N, 3, H, W) linear RGB -> output \(ONNXExport.outputName)"
                    + (m.model.sizeMultiple > 1
                        ? " (any H, W: edge-padded to multiples of \(m.model.sizeMultiple) inside the graph)" : ""))
        }
    }
}
