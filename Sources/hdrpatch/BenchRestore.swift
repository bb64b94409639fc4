// `hdrpatch bench --what restore`: full-image restore throughput (megapixels per second), one pass and tiled,
// and the same model exported to ONNX with the same image, for onnxruntime side by side (tools/onnx/bench_onnx.py).
import CBLAS
import Config
import EXRIO
import Foundation
import Model
import ModelExport
import Numerics
import Training

extension Bench {
    /// The model to time: a checkpoint's, or a config's network freshly initialised (output layer not zeroed, so the
    /// head computes a real residual).
    func restoreModel() throws -> (PatchModel, String) {
        if let checkpoint {
            return (try CheckpointModel.load(checkpoint: checkpoint).model, checkpoint)
        }
        // The inference sections only (model, residual, data.eps): no data directory needs to exist.
        let path = config!
        let cfg = try InferenceConfig.load(path: path, overrides: overrides)
        let model = try PatchModel(
            model: cfg.model, inputs: cfg.inputs, residual: cfg.residual, logNorm: cfg.logNorm, stateSlots: 0, seed: 0)
        return (model, "config " + URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
    }

    /// A deterministic size x size HDR scene: smooth illumination over about 14 stops, texture, and highlights
    /// above 1 (what the clip mask marks).
    static func benchImage(size: Int) -> HDRImage {
        var rng = SeededRNG(seed: 7)
        var pixels = [Float](repeating: 0, count: 3 * size * size)
        let plane = size * size
        for y in 0..<size {
            for x in 0..<size {
                let u = Double(x) / Double(size)
                let v = Double(y) / Double(size)
                let light = 5 * sin(6.1 * u + 1.3) * cos(4.7 * v) + 2 * sin(23 * u * v)
                for c in 0..<3 {
                    let tint = 1 + 0.2 * Double(c - 1)
                    pixels[c * plane + y * size + x] = Float(exp(light * tint + 0.3 * rng.normal()) * 0.05)
                }
            }
        }
        return HDRImage(width: size, height: size, pixels: pixels)
    }

    /// Per thread count, each --tiles: 0 is one pass over the whole image (tile = its larger side), else tiles of that
    /// side (TiledRestore's default overlap and blending, as `hdrpatch restore --tile T`).
    func restoreRows() throws -> [Row] {
        let (model, name) = try restoreModel()
        let image = try files.first.map { try ImageReader.read(path: $0).image } ?? Self.benchImage(size: size)
        if let imageOut {
            try EXRWriter.write(image, to: imageOut, options: EXRWriteOptions(pixelType: .float))
        }
        if let onnx {
            try ONNXExport.write(try ONNXExport.model(model, metadata: [("hdrpatch.source", name)]), to: onnx)
        }
        let input = Tensor(shape: [1, 3, image.height, image.width], storage: image.pixels)
        let megapixels = Double(image.width * image.height) / 1e6
        var rows: [Row] = []
        for t in threads {
            openblas_set_num_threads(Int32(max(t, 1)))
            Parallel.threads = t
            for tile in tiles {
                let label = tile == 0 ? "restore one pass" : "restore tiled \(tile)"
                let side = tile == 0 ? max(image.width, image.height) : tile
                let restorer = try TiledRestore(model: model, tile: side)
                _ = restorer.restore(input)
                var times: [Double] = []
                for _ in 0..<steps {
                    let a = DispatchTime.now().uptimeNanoseconds
                    _ = restorer.restore(input)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - a) / 1e6)
                }
                let s = Self.summary(times)
                let rate = megapixels / (s.median / 1e3)
                rows.append(
                    Row(
                        name: label, threads: t, medianMs: s.median, minMs: s.min, maxMs: s.max, perSecond: rate,
                        unit: "Mpx/s",
                        line: String(
                            format: "%@ (%@), %d x %d, %d thread(s): %.1f ms median (%.1f-%.1f), %.2f Mpx/s", label,
                            name, image.width, image.height, t, s.median, s.min, s.max, rate)))
            }
        }
        return rows
    }
}
