// The output folder of `synth`: refusing to overwrite a dataset, cutting crops and writing the pair files.
import EXRIO
import Foundation

enum SynthOutput {
    /// Float, not half: exposed targets reach thousands (a sun disk) and would clamp at 65504 in half.
    static func writeOptions(_ compression: EXRCompression) -> EXRWriteOptions {
        EXRWriteOptions(pixelType: .float, compression: compression)
    }

    /// Creates `out` (and parents) with empty input/ and target/. An existing dataset (manifest.json), or
    /// pair folders left without a manifest by an unfinished run, is refused unless `force`, which removes them
    /// (manifest first, so an interrupted replacement never looks complete). Other files in `out` are left alone.
    static func prepare(_ out: String, force: Bool) throws {
        let fm = FileManager.default
        let manifest = out + "/" + SynthManifest.fileName
        let dirs = [out + "/input", out + "/target"]
        if fm.fileExists(atPath: manifest) {
            guard force else {
                throw FileError(
                    path: out, reason: "already holds a dataset (\(SynthManifest.fileName)); use --force to replace it")
            }
        } else if !force, dirs.contains(where: { !((try? fm.contentsOfDirectory(atPath: $0))?.isEmpty ?? true) }) {
            throw FileError(
                path: out,
                reason:
                    "holds input/ or target/ files but no \(SynthManifest.fileName) (an unfinished run?); use --force to replace them"
            )
        }
        do {
            if fm.fileExists(atPath: manifest) { try fm.removeItem(atPath: manifest) }
            for d in dirs where fm.fileExists(atPath: d) { try fm.removeItem(atPath: d) }
            for d in dirs { try fm.createDirectory(atPath: d, withIntermediateDirectories: true) }
        } catch {
            throw FileError(
                path: out, reason: "cannot prepare the output folder: \((error as NSError).localizedDescription)")
        }
    }

    /// Removes the pair folders after a failed run, so a fixed rerun needs no --force.
    static func discardPairs(_ out: String) {
        for d in ["input", "target"] { try? FileManager.default.removeItem(atPath: out + "/" + d) }
    }

    /// - Parameter image: (3, H, W). - Returns: (3, crop.height, crop.width), the crop's pixels.
    static func cut(_ image: HDRImage, _ crop: SynthManifest.Crop) -> HDRImage {
        var out = HDRImage(width: crop.width, height: crop.height)
        for c in 0..<3 {
            for y in 0..<crop.height {
                let src = (c * image.height + crop.y + y) * image.width + crop.x
                let dst = (c * crop.height + y) * crop.width
                out.pixels.replaceSubrange(dst..<(dst + crop.width), with: image.pixels[src..<(src + crop.width)])
            }
        }
        return out
    }

    static func write(
        _ input: HDRImage, _ target: HDRImage, id: String, out: String, compression: EXRCompression
    ) throws {
        try EXRWriter.write(input, to: "\(out)/input/\(id).exr", options: writeOptions(compression))
        try EXRWriter.write(target, to: "\(out)/target/\(id).exr", options: writeOptions(compression))
    }
}
