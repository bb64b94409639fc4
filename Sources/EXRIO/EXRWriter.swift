// Writing EXR files (half or float, any compression, scanline or tiled, multi-part), atomically.
import COpenEXR
import Glibc

/// OpenEXR compressions, named as in the file format; the raw value is the file-format id.
public enum EXRCompression: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case rle, zips, zip, piz, pxr24, b44, b44a, dwaa, dwab

    public var description: String { EXRDecoder.compressionNames[Int(rawValue)] }

    public init?(name: String) {
        guard let i = EXRDecoder.compressionNames.firstIndex(of: name.lowercased()) else { return nil }
        self.init(rawValue: Int32(i))
    }
}

/// Tiled layout; the reader uses level 0, lower levels are box-filtered from it.
public struct EXRTiling: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var levelMode: TileLevelMode
    public init(width: Int = 64, height: Int = 64, levelMode: TileLevelMode = .one) {
        self.width = width
        self.height = height
        self.levelMode = levelMode
    }
}

public struct EXRWriteOptions: Sendable {
    /// `.half` or `.float` (`.uint` stores truncated integers; `.rgbe` is not an EXR type).
    public var pixelType: PixelType = .half
    public var compression: EXRCompression = .zip
    /// nil writes scanlines.
    public var tiling: EXRTiling? = nil
    /// Data window origin (the image occupies origin ... origin + size - 1).
    public var originX: Int = 0
    public var originY: Int = 0
    /// Half output only: refuse values beyond the half range instead of clamping them to +-65504.
    public var strict: Bool = false
    /// DWA compression level; nil keeps the library default (45).
    public var dwaLevel: Float? = nil
    public var threads: Int = 2

    public init(
        pixelType: PixelType = .half, compression: EXRCompression = .zip, tiling: EXRTiling? = nil,
        originX: Int = 0, originY: Int = 0, strict: Bool = false, dwaLevel: Float? = nil, threads: Int = 2
    ) {
        self.pixelType = pixelType
        self.compression = compression
        self.tiling = tiling
        self.originX = originX
        self.originY = originY
        self.strict = strict
        self.dwaLevel = dwaLevel
        self.threads = threads
    }
}

/// What writing had to change.
public struct EXRWriteReport: Sendable, Equatable {
    /// Values beyond the largest half (65504, infinities included) clamped to +-65504; 0 for float output.
    public var halfOverflow: Int
    /// NaN values written as they are.
    public var nan: Int
}

/// One part of a (possibly multi-part) file: named channels, each a float plane of width x height.
public struct EXRPart: Sendable {
    public var name: String?
    public var width: Int
    public var height: Int
    public var originX: Int = 0
    public var originY: Int = 0
    /// (name, stored type, plane of height x width values).
    public var channels: [(name: String, type: PixelType, plane: [Float])]
    public var compression: EXRCompression = .zip
    public var tiling: EXRTiling? = nil
    public var dwaLevel: Float? = nil

    public init(
        name: String? = nil, width: Int, height: Int, originX: Int = 0, originY: Int = 0,
        channels: [(name: String, type: PixelType, plane: [Float])], compression: EXRCompression = .zip,
        tiling: EXRTiling? = nil, dwaLevel: Float? = nil
    ) {
        self.name = name
        self.width = width
        self.height = height
        self.originX = originX
        self.originY = originY
        self.channels = channels
        self.compression = compression
        self.tiling = tiling
        self.dwaLevel = dwaLevel
    }
}

public enum EXRWriter {
    /// Largest finite half-float value.
    public static let halfMax: Float = 65504

    /// Writes `image` as R, G, B. Half output never contains an infinity made by overflow: such values are
    /// clamped to +-65504 and counted in the report, or refused with `options.strict`.
    @discardableResult
    public static func write(
        _ image: HDRImage, to path: String, options: EXRWriteOptions = EXRWriteOptions()
    ) throws -> EXRWriteReport {
        guard options.pixelType != .rgbe else {
            throw FileError(path: path, reason: "rgbe is not an EXR pixel type")
        }
        var pixels = image.pixels
        var report = EXRWriteReport(halfOverflow: 0, nan: 0)
        for v in pixels where v.isNaN { report.nan += 1 }
        if options.pixelType == .half {
            for i in pixels.indices where abs(pixels[i]) > halfMax {
                report.halfOverflow += 1
                pixels[i] = pixels[i] > 0 ? halfMax : -halfMax
            }
            if options.strict && report.halfOverflow > 0 {
                throw FileError(
                    path: path,
                    reason:
                        "\(report.halfOverflow) values exceed the half-float range (|v| > 65504); write float or allow clamping"
                )
            }
        }
        let n = image.planeCount
        let part = EXRPart(
            width: image.width, height: image.height, originX: options.originX, originY: options.originY,
            channels: ["R", "G", "B"].enumerated().map { c, name in
                (name, options.pixelType, Array(pixels[(c * n)..<((c + 1) * n)]))
            },
            compression: options.compression, tiling: options.tiling, dwaLevel: options.dwaLevel)
        try write(parts: [part], to: path, threads: options.threads)
        return report
    }

    /// Writes parts as given (no range checks: half channels store what the library's conversion makes).
    /// One part makes a single-part file; several make a multi-part file and each needs a distinct name.
    public static func write(parts: [EXRPart], to path: String, threads: Int = 2) throws {
        try validate(parts, path: path)
        let arena = CArena()
        let descs = parts.map { p in
            hp_exr_part_desc(
                name: p.name.map(arena.string), width: Int32(p.width), height: Int32(p.height),
                origin_x: Int32(p.originX), origin_y: Int32(p.originY), channel_count: Int32(p.channels.count),
                channel_names: arena.array(p.channels.map { Optional(arena.string($0.name)) }),
                pixel_types: arena.array(p.channels.map { Int32($0.type == .uint ? 0 : ($0.type == .half ? 1 : 2)) }),
                planes: arena.array(p.channels.map { Optional(arena.array($0.plane)) }),
                compression: p.compression.rawValue, tiled: p.tiling == nil ? 0 : 1,
                tile_x: Int32(p.tiling?.width ?? 0), tile_y: Int32(p.tiling?.height ?? 0),
                level_mode: p.tiling.map { t in t.levelMode == .one ? 0 : (t.levelMode == .mipmap ? 1 : 2) } ?? 0,
                dwa_level: p.dwaLevel ?? 0)
        }
        try FileBytes.atomicWrite(path) { temp in
            var err = [CChar](repeating: 0, count: 512)
            if hp_exr_write(temp, descs, Int32(descs.count), Int32(max(threads, 0)), &err, err.count) != 0 {
                throw FileError(path: path, reason: EXRDecoder.message(err))
            }
        }
    }

    /// Writes a luminance/chroma file (Y full resolution, RY and BY subsampled 2x2, half, ZIP), the
    /// layout of OpenEXR's WRITE_YC mode. Chroma is lossy by design.
    public static func writeLuminanceChroma(_ image: HDRImage, to path: String) throws {
        guard image.width > 0, image.height > 0 else {
            throw FileError(path: path, reason: "image size \(image.width) x \(image.height) is empty")
        }
        let n = image.planeCount
        try FileBytes.atomicWrite(path) { temp in
            var err = [CChar](repeating: 0, count: 512)
            let status = image.pixels.withUnsafeBufferPointer { p in
                hp_exr_write_luminance_chroma(
                    temp, Int32(image.width), Int32(image.height), p.baseAddress!,
                    p.baseAddress! + n, p.baseAddress! + 2 * n, &err, err.count)
            }
            if status != 0 { throw FileError(path: path, reason: EXRDecoder.message(err)) }
        }
    }

    private static func validate(_ parts: [EXRPart], path: String) throws {
        guard !parts.isEmpty else { throw FileError(path: path, reason: "nothing to write") }
        var names = Set<String>()
        for p in parts {
            guard p.width > 0, p.height > 0 else {
                throw FileError(path: path, reason: "image size \(p.width) x \(p.height) is empty")
            }
            guard p.width <= Int(Int32.max), p.height <= Int(Int32.max),
                abs(p.originX) + p.width < Int(Int32.max), abs(p.originY) + p.height < Int(Int32.max)
            else { throw FileError(path: path, reason: "data window does not fit 32-bit coordinates") }
            guard !p.channels.isEmpty else { throw FileError(path: path, reason: "part without channels") }
            for c in p.channels {
                guard c.plane.count == p.width * p.height else {
                    throw FileError(
                        path: path, reason: "channel \(c.name) has \(c.plane.count) values for \(p.width) x \(p.height)"
                    )
                }
                guard c.type != .rgbe else { throw FileError(path: path, reason: "rgbe is not an EXR pixel type") }
            }
            if let t = p.tiling, t.width < 1 || t.height < 1 {
                throw FileError(path: path, reason: "tile size \(t.width) x \(t.height) is empty")
            }
            if parts.count > 1 {
                guard let n = p.name, !n.isEmpty, names.insert(n).inserted else {
                    throw FileError(path: path, reason: "every part of a multi-part file needs a distinct name")
                }
            }
        }
    }
}

/// Owns C copies of strings and arrays handed to the shim for the duration of one call.
private final class CArena {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var blocks: [UnsafeMutableRawPointer] = []

    func string(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        strings.append(p)
        return UnsafePointer(p)
    }

    func array<T>(_ a: [T]) -> UnsafePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
        p.initialize(from: a, count: a.count)
        blocks.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    // Only trivial types (pointers, numbers) are stored, so deallocating without deinitializing is correct.
    deinit {
        strings.forEach { free($0) }
        blocks.forEach { $0.deallocate() }
    }
}
