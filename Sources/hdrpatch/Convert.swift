// `hdrpatch convert`: rewrite an EXR or Radiance file as EXR with a chosen pixel type, compression and layout.
import ArgumentParser
import EXRIO

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an EXR or Radiance image as EXR (half or float, any compression, scanline or tiled).",
        discussion: """
            Half output never holds an infinity made by overflow: values beyond 65504 are clamped to +-65504 \
            and counted, or refused with --strict. The output is written atomically (temp file + rename).
            """
    )

    @Argument(help: "Input image (.exr or .hdr).")
    var input: String

    @Argument(help: "Output EXR file.")
    var output: String

    @Flag(help: "Stored pixel type.")
    var pixelType: StoredType = .half

    @Option(help: "Compression: \(EXRCompression.names).")
    var compression: String = "zip"

    @Option(help: "Write tiles of this size instead of scanlines.")
    var tile: Int?

    @Flag(help: "Refuse to write half when values exceed the half range, instead of clamping them.")
    var strict = false

    @Option(help: "EXR part of the input to read: an index or a part name.")
    var part: String = "0"

    @Option(help: "EXR layer of the input to read.")
    var layer: String?

    enum StoredType: String, EnumerableFlag {
        case half, float
    }

    func validate() throws {
        _ = try EXRCompression.argument(compression)
        if let tile, tile < 1 { throw ValidationError("--tile must be at least 1") }
    }

    func run() throws {
        try withOneLineErrors {
            let loaded = try ImageReader.read(path: input, options: ReadOptions(part: partSelector(part), layer: layer))
            let c = loaded.counts
            if c.negativeClamped + c.nan + c.inf > 0 {
                print("\(input): \(c.negativeClamped) negative pixel(s) clamped to 0, \(c.nan) NaN, \(c.inf) Inf")
            }
            let options = EXRWriteOptions(
                pixelType: pixelType == .half ? .half : .float, compression: try EXRCompression.argument(compression),
                tiling: tile.map { EXRTiling(width: $0, height: $0) }, strict: strict)
            let report = try EXRWriter.write(loaded.image, to: output, options: options)
            if report.halfOverflow > 0 {
                print("\(output): \(report.halfOverflow) value(s) beyond the half range clamped to +-65504")
            }
            print(
                "\(output): wrote \(loaded.image.width) x \(loaded.image.height) \(pixelType.rawValue) \(compression)")
        }
    }
}

extension EXRCompression {
    /// The help text's list of names.
    static var names: String { allCases.map(\.description).joined(separator: ", ") }

    /// A command-line value: a compression name, or a validation error that lists the known ones.
    static func argument(_ name: String) throws -> EXRCompression {
        guard let c = EXRCompression(name: name) else {
            throw ValidationError("unknown compression '\(name)'; known: \(names)")
        }
        return c
    }
}
