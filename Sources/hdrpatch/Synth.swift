// `hdrpatch synth`: make a paired training set (degraded input, clean target) from clean HDR sources.
import ArgumentParser
import Config
import Data
import EXRIO
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut patches (or keep full images) from clean HDR sources and degrade them with a recipe.",
        discussion: """
            Writes OUT/input/<id>.exr (degraded) and OUT/target/<id>.exr (clean), float EXR (ZIP unless --compression), then \
            OUT/manifest.json (recipe as used, seed, and every pair's source and crop). Pair i picks its source \
            and crop from a random stream of (seed, i), so a pair is reproducible alone. --from procedural renders \
            ceil(count / 16) scenes of 512 x 256 (with --full: count scenes, one pair each). Sources with NaN or \
            Inf pixels are refused. An OUT that already holds a manifest is refused unless --force. Recipe keys: \
            configs/degrade/README.md.
            """
    )

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp(
            "Clean sources: image files, directories (every .exr/.hdr in them, by name), or 'procedural'. Repeatable.",
            valueName: "dir-or-files"))
    var from: [String] = []

    @Option(help: "Degradation recipe (YAML).")
    var recipe: String

    @Option(help: "Output dataset directory.")
    var out: String

    @Option(help: "Patch side in pixels.")
    var patch: Int = 64

    @Option(help: "Pairs to cut (default \(SynthOptions.defaultCount)); with --full only for procedural scenes.")
    var count: Int?

    @Option(help: "Seed of every random choice.")
    var seed: UInt64 = 0

    @Flag(help: "Keep whole images: one pair per source image.")
    var full = false

    @Flag(help: "Replace the dataset already in --out.")
    var force = false

    @Option(help: "Worker threads (0: every core); the output does not depend on it.")
    var threads: Int = 0

    @Option(
        help:
            "EXR compression of the pair files: \(EXRCompression.names). 'none' decodes about 7x faster than zip in the patch loader (larger files)."
    )
    var compression: String = "zip"

    func validate() throws {
        if from.isEmpty { throw ValidationError("give at least one --from (files, a directory, or 'procedural')") }
        if patch < 1 { throw ValidationError("--patch must be at least 1") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if threads < 0 { throw ValidationError("--threads must be at least 0") }
        _ = try EXRCompression.argument(compression)
    }

    func run() throws {
        try withOneLineErrors(file: recipe) {
            let parsed = try DegradationRecipe.load(path: recipe)
            let options = SynthOptions(
                sources: try SynthSources.resolve(from), recipe: parsed, recipeFile: recipe,
                out: out, patch: patch, count: count, seed: seed, full: full, force: force,
                threads: threads, compression: try EXRCompression.argument(compression))
            let s = try SynthRunner.run(options)
            let size = full ? "full images" : "\(patch)x\(patch) patches"
            func stops(_ v: Double?) -> String { v.map { String(format: "%.1f stops", $0) } ?? "n/a" }
            print(
                "wrote \(s.pairs) pairs (\(size) from \(s.sources) source(s)) to \(s.out); "
                    + "mean luminance dynamic range: input \(stops(s.meanInputStops)), target \(stops(s.meanTargetStops))"
            )
        }
    }
}
