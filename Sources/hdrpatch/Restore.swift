import ArgumentParser
import Config
import Data
import EXRIO
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
            none, and wins over the embedded one when given. An image no larger than the tile is one patch, \
            exactly as in training. Overflowing pixels (non-finite or above 65504) are counted and reported; \
            half output clamps values beyond 65504 to 65504 and says how many, never writing a silent inf.
            """
    )

    @Option(help: "Weights file (.safetensors) written by train.")
    var checkpoint: String

    @Argument(help: "Input image (.exr or .hdr).")
    var input: String

    @Argument(help: "Output EXR file.")
    var output: String

    @OptionGroup var tiling: TilingOptions

    @Flag(help: "Stored pixel type.")
    var pixelType: Convert.StoredType = .half

    @Option(help: "YAML config with model: and residual: for a checkpoint without embedded config.")
    var config: String?

    func run() throws {
        try withOneLineErrors(checkpoint: checkpoint, config: config) {
            let loaded = try CheckpointModel.load(checkpoint: checkpoint, configPath: config)
            let restorer = try TiledRestore(model: loaded.model, tile: tiling.tile, overlap: tiling.overlap)
            let read = try ImageReader.read(path: input)
            if read.counts.nan + read.counts.inf > 0 {
                throw LoaderError("\(input): \(read.counts.nan) NaN and \(read.counts.inf) Inf pixels; cannot restore")
            }
            let img = read.image
            let out = restorer.restore(Tensor(shape: [1, 3, img.height, img.width], storage: img.pixels))
            let overflow = out.storage.withUnsafeBufferPointer {
                ImageMetrics.overflowPixels($0, channels: 3, limit: ImageMetrics.defaultOverflowLimit)
            }
            let nonFinite = out.storage.withUnsafeBufferPointer {
                ImageMetrics.overflowPixels($0, channels: 3, limit: .infinity)
            }
            let report = try EXRWriter.write(
                HDRImage(width: img.width, height: img.height, pixels: out.storage),
                to: output, options: EXRWriteOptions(pixelType: pixelType == .half ? .half : .float))
            print(
                "\(output): wrote \(img.width) x \(img.height) \(pixelType.rawValue) "
                    + "(\(TileGrid(width: img.width, height: img.height, tile: tiling.tile, overlap: tiling.overlap).tileCount) tile(s))"
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

/// `--tile` and `--overlap`, shared by restore and evaluate.
struct TilingOptions: ParsableArguments {
    @Option(help: "Tile side in pixels.")
    var tile: Int = TiledRestore.defaultTile

    @Option(help: "Overlap between neighbouring tiles in pixels (0 <= overlap < tile).")
    var overlap: Int = TiledRestore.defaultOverlap

    func validate() throws {
        if tile < 1 { throw ValidationError("--tile must be at least 1") }
        if overlap < 0 || overlap >= tile { throw ValidationError("--overlap must be in 0..<tile (\(tile))") }
    }
}

/// Runs `body`; every error the checkpoint, config, image and data layers throw becomes one line
/// `error: ...` on stderr and exit status 1.
func withOneLineErrors(checkpoint: String, config: String?, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ConfigError {
        printError("\(e.file ?? config ?? checkpoint): \(e)")
        throw ExitCode(1)
    } catch let e as CheckpointError {
        printError(e.description)
        throw ExitCode(1)
    } catch let e as ImageIOError {
        printError(e.description)
        throw ExitCode(1)
    } catch let e as LoaderError {
        printError(e.description)
        throw ExitCode(1)
    } catch let e as InferenceError {
        printError(e.description)
        throw ExitCode(1)
    } catch let e as ParameterStoreError {
        printError("\(checkpoint): \(e.description)")
        throw ExitCode(1)
    }
}
