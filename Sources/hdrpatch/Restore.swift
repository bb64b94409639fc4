import ArgumentParser
import Config
import Data
import EXRIO
import Model
import Numerics
// `hdrpatch restore`: tiled inference of a checkpoint on one full image, written as EXR.
// Also holds what `restore` and `evaluate` share: loading a checkpoint's model and their one-line errors.
import RunFiles
import Training

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore an HDR image with a checkpoint (tiled, overlapping tiles blended).",
        discussion: """
            The network and head come from the config embedded in the checkpoint; --config FILE (YAML with \
            model:, residual: and optionally data.eps/data.denom_floor) supplies it for weights that carry \
            none, and wins over the embedded one when given. A checkpoint of a run with train.ema holds the raw \
            and the EMA weights: --weights ema|raw picks one (default ema), and the first line says which was \
            loaded. An image no larger than the tile is one patch, exactly as in training. Overflowing pixels (non-finite or above 65504) are counted and reported; \
            half output clamps values beyond 65504 to 65504 and says how many, never writing a silent inf.
            """
    )

    @OptionGroup var model: CheckpointOptions

    @Argument(help: "Input image (.exr or .hdr).")
    var input: String

    @Argument(help: "Output EXR file.")
    var output: String

    @Flag(help: "Stored pixel type.")
    var pixelType: Convert.StoredType = .half

    @Option(
        help: """
            Region mask (.exr or .hdr, the image's size, first channel in [0, 1]: 1 in the holes) for a model whose \
            inputs include hole_mask; required by such a model and refused by any other.
            """)
    var mask: String?

    func run() throws {
        try model.withModel { loaded, restorer in
            print("\(model.checkpoint): \(loaded.inferenceDescription)" + (loaded.step.map { ", step \($0)" } ?? ""))
            let read = try ImageReader.read(path: input)
            if read.counts.nan + read.counts.inf > 0 {
                throw LoaderError("\(input): \(read.counts.nan) NaN and \(read.counts.inf) Inf pixels; cannot restore")
            }
            let img = read.image
            var regions: Tensor?
            switch (loaded.model.inputs.usesRegions, mask) {
            case (true, nil):
                throw ValidationError(
                    "\(model.checkpoint): the model reads a hole mask (model.inputs hole_mask): give --mask FILE")
            case (false, .some(let path)):
                throw ValidationError("--mask \(path): the model has no hole_mask input")
            case (true, .some(let path)):
                let m = try PairedDataset.readMask(path, width: img.width, height: img.height)
                regions = Tensor(
                    shape: [1, 1, img.height, img.width], storage: Array(m.pixels[0..<(img.height * img.width)]))
            case (false, nil):
                break
            }
            let out = restorer.restore(
                Tensor(shape: [1, 3, img.height, img.width], storage: img.pixels), regions: regions)
            let overflow = out.storage.withUnsafeBufferPointer {
                Overflow.pixels($0, reference: nil, channels: 3, limit: Overflow.defaultLimit)
            }
            let nonFinite = out.storage.withUnsafeBufferPointer {
                Overflow.pixels($0, reference: nil, channels: 3, limit: .infinity)
            }
            let report = try EXRWriter.write(
                HDRImage(width: img.width, height: img.height, pixels: out.storage),
                to: output, options: EXRWriteOptions(pixelType: pixelType == .half ? .half : .float))
            let grid = restorer.grid(width: img.width, height: img.height)
            print(
                "\(output): wrote \(img.width) x \(img.height) \(pixelType.rawValue) "
                    + "(\(grid.tileCount) tile(s) of \(grid.tileWidth) x \(grid.tileHeight), "
                    + "overlap \(restorer.overlap), \(restorer.statistics.rawValue) statistics)"
            )
            print("\(output): \(overflow) overflow pixel(s) (non-finite or above 65504), \(nonFinite) non-finite")
            if report.halfOverflow > 0 {
                print(
                    "\(output): \(overflowPixelsAboveHalf(out.storage)) pixels above the half range clamped "
                        + "(\(report.halfOverflow) values clamped to 65504)")
            }
            if report.nan > 0 { print("\(output): \(report.nan) NaN value(s) written as NaN") }
        }
    }

    /// Pixels with some channel beyond +-65504 (infinities included): what half output clamps.
    private func overflowPixelsAboveHalf(_ v: [Float]) -> Int {
        let plane = v.count / 3
        return (0..<plane).filter { p in (0..<3).contains { abs(v[$0 * plane + p]) > EXRWriter.halfMax } }.count
    }
}

extension WeightsFile.WeightSet: ExpressibleByArgument {}

/// `--checkpoint`, `--config`, `--weights`, `--tile`, `--overlap` and `--norm`, shared by restore and evaluate, and the model they load.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Weights file (.safetensors) written by train.")
    var checkpoint: String

    @Option(help: "YAML config with model: and residual: for a checkpoint without embedded config.")
    var config: String?

    @Option(
        help: ArgumentHelp(
            "Which weights to load: ema (the EMA of the weights, ema.* tensors) or raw (the trained weights).",
            discussion: "Default: ema when the checkpoint holds EMA weights (train.ema), else raw."))
    var weights: WeightsFile.WeightSet?

    @Option(help: "Tile side in pixels.")
    var tile: Int = TiledRestore.defaultTile

    @Option(
        help: ArgumentHelp(
            "Overlap between neighbouring tiles in pixels (0 <= overlap < tile).",
            discussion: "Default: twice the network's receptive radius, at least 16 (16 for the default network)."))
    var overlap: Int?

    @Option(
        help: ArgumentHelp(
            "LogNorm statistics: image (every tile normalised with the whole image's log range: no seams) or tile "
                + "(each tile its own, as each training crop)."))
    var norm: TiledRestore.Statistics = .image

    @OptionGroup var ensemble: SelfEnsembleOption

    func validate() throws {
        if tile < 1 { throw ValidationError("--tile must be at least 1") }
        if let overlap, overlap < 0 || overlap >= tile {
            throw ValidationError("--overlap must be in 0..<tile (\(tile))")
        }
    }

    /// Loads the checkpoint's model and hands it, with its tiled restorer, to `body`; every error becomes one line.
    func withModel(_ body: (CheckpointModel.Loaded, TiledRestore) throws -> Void) throws {
        try withOneLineErrors(file: config ?? checkpoint) {
            let loaded = try CheckpointModel.load(checkpoint: checkpoint, configPath: config, weights: weights)
            ensemble.apply(to: loaded.model)
            try body(loaded, try TiledRestore(model: loaded.model, tile: tile, overlap: overlap, statistics: norm))
        }
    }
}

extension TiledRestore.Statistics: ExpressibleByArgument {}

/// `--self-ensemble N` of restore, evaluate and export: the checkpoint's `model.self_ensemble` unless given.
struct SelfEnsembleOption: ParsableArguments {
    @Option(
        name: .customLong("self-ensemble"),
        help: ArgumentHelp(
            "Network passes per patch, averaged: 1, 2, 4 or 8 flipped and transposed copies (export: graph branches).",
            discussion: "Default: the checkpoint's model.self_ensemble (1 when it has none)."))
    var count: Int?

    func validate() throws {
        if let count, !SelfEnsemble.allowed.contains(count) {
            throw ValidationError("--self-ensemble must be 1, 2, 4 or 8 (got \(count))")
        }
    }

    /// Sets the model's self-ensemble when the option was given.
    func apply(to model: PatchModel) {
        if let count { model.selfEnsemble = SelfEnsemble(count: count) }
    }
}
