// Reading HDR files: EXR through the OpenEXR shim, Radiance .hdr natively; the format is told by magic bytes.
import COpenEXR
import Glibc
import Synchronization

/// What to read from a file and how far to trust its header.
public struct ReadOptions: Sendable {
    public enum Part: Sendable, Equatable {
        case index(Int)
        case name(String)
    }

    /// EXR part to read (multi-part files); part 0 by default.
    public var part: Part = .index(0)
    /// EXR layer whose `<layer>.R/G/B` (or `<layer>.Y`) channels to read; nil reads the unlayered channels.
    public var layer: String? = nil
    /// Headers announcing more pixels than this (in any part) are refused before any pixel allocation.
    /// The default, 2^28, admits a 16384 x 16384 image (3 GiB as float RGB).
    public var maxPixels: Int = 1 << 28
    /// Worker threads for EXR chunk decoding; 0 decodes on the calling thread.
    public var threads: Int = 2

    public init(part: Part = .index(0), layer: String? = nil, maxPixels: Int = 1 << 28, threads: Int = 2) {
        self.part = part
        self.layer = layer
        self.maxPixels = maxPixels
        self.threads = threads
    }
}

public enum ImageReader {
    /// Reads an EXR or Radiance file into float RGB. Finite negative values are clamped to 0 and counted;
    /// NaN and Inf pixels are counted and kept. Every failure is an `FileError` naming `path`.
    public static func read(path: String, options: ReadOptions = ReadOptions()) throws -> LoadedImage {
        let bytes = try FileBytes.read(path)
        return try read(bytes: bytes, path: path, options: options)
    }

    /// Reads a file already in memory; `path` only names it in errors.
    public static func read(bytes: [UInt8], path: String, options: ReadOptions = ReadOptions()) throws -> LoadedImage {
        var (image, info) = try bytes.withUnsafeBytes { raw -> (HDRImage, ImageInfo) in
            if EXRDecoder.looksLikeEXR(raw) {
                return try EXRDecoder.decode(raw, path: path, options: options)
            }
            if Radiance.looksLikeRadiance(raw) {
                return try Radiance.decode(raw, path: path, maxPixels: options.maxPixels)
            }
            if raw.isEmpty { throw FileError(path: path, reason: "empty file") }
            throw FileError(path: path, reason: "not an OpenEXR or Radiance file (unrecognised magic bytes)")
        }
        let counts = image.clampNegativesAndCount()
        return LoadedImage(image: image, info: info, counts: counts)
    }
}

/// EXR decoding through the shim: Core validates, Imf decodes.
enum EXRDecoder {
    static let compressionNames = ["none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab"]

    static func looksLikeEXR(_ raw: UnsafeRawBufferPointer) -> Bool {
        raw.count >= 4 && raw[0] == 0x76 && raw[1] == 0x2F && raw[2] == 0x31 && raw[3] == 0x01
    }

    private static let threadPool = ThreadPoolSize()

    static func decode(
        _ raw: UnsafeRawBufferPointer, path: String, options: ReadOptions
    ) throws -> (HDRImage, ImageInfo) {
        threadPool.ensure(options.threads)
        var err = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer?
        guard hp_exr_open(raw.baseAddress, raw.count, UInt64(max(options.maxPixels, 0)), &handle, &err, err.count) == 0,
            let h = handle
        else { throw FileError(path: path, reason: message(err)) }
        defer { hp_exr_close(h) }

        let partCount = Int(hp_exr_part_count(h))
        let parts = (0..<partCount).map { i in
            PartSummary(index: i, name: hp_exr_part_name(h, Int32(i)).map { String(cString: $0) })
        }
        let part = try selectPart(options.part, parts: parts, path: path)

        var pi = hp_exr_part_info()
        guard hp_exr_get_part_info(h, Int32(part), &pi, &err, err.count) == 0 else {
            throw FileError(path: path, reason: message(err))
        }
        var channels: [ChannelInfo] = []
        for i in 0..<Int(pi.channel_count) {
            var c = hp_exr_channel()
            guard hp_exr_get_channel(h, Int32(part), Int32(i), &c) == 0, let name = c.name else {
                throw FileError(path: path, reason: "unreadable channel list")
            }
            let type: PixelType = c.pixel_type == 0 ? .uint : (c.pixel_type == 1 ? .half : .float)
            channels.append(
                ChannelInfo(
                    name: String(cString: name), type: type,
                    xSampling: Int(c.x_sampling), ySampling: Int(c.y_sampling)))
        }
        if pi.storage == 2 || pi.storage == 3 {
            throw FileError(path: path, reason: "deep data is not supported")
        }
        let dataWindow = PixelBox(
            minX: Int(pi.dw_min_x), minY: Int(pi.dw_min_y), maxX: Int(pi.dw_max_x), maxY: Int(pi.dw_max_y))
        let displayWindow = PixelBox(
            minX: Int(pi.disp_min_x), minY: Int(pi.disp_min_y),
            maxX: Int(pi.disp_max_x), maxY: Int(pi.disp_max_y))
        let (w, ht) = (dataWindow.width, dataWindow.height)

        let plan: ChannelPlan
        switch ChannelSelection.plan(channels: channels, layer: options.layer) {
        case .success(let p): plan = p
        case .failure(let e): throw FileError(path: path, reason: e.reason)
        }

        var image = HDRImage(width: w, height: ht)
        let n = w * ht
        let selected: [String]
        let status: Int32 = image.pixels.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            switch plan {
            case .rgb(let r, let g, let b):
                return withCStrings([r, g, b]) { names in
                    var planes: [UnsafeMutablePointer<Float>?] = [base, base + n, base + 2 * n]
                    return hp_exr_read_planes(
                        h, Int32(part), 3, names, &planes, Int32(options.threads), &err, err.count)
                }
            case .grey(let y):
                let rv = withCStrings([y]) { names in
                    var planes: [UnsafeMutablePointer<Float>?] = [base]
                    return hp_exr_read_planes(
                        h, Int32(part), 1, names, &planes, Int32(options.threads), &err, err.count)
                }
                if rv == 0 {
                    (base + n).update(from: base, count: n)
                    (base + 2 * n).update(from: base, count: n)
                }
                return rv
            case .luminanceChroma:
                return hp_exr_read_luminance_chroma(
                    h, Int32(part), base, base + n, base + 2 * n,
                    Int32(options.threads), &err, err.count)
            }
        }
        guard status == 0 else { throw FileError(path: path, reason: message(err)) }
        switch plan {
        case .rgb(let r, let g, let b): selected = [r, g, b]
        case .grey(let y): selected = [y, y, y]
        case .luminanceChroma: selected = ["Y", "RY", "BY"]
        }

        let tile: TileInfo? =
            pi.storage == 1
            ? TileInfo(
                width: Int(pi.tile_x), height: Int(pi.tile_y),
                levelMode: [TileLevelMode.one, .mipmap, .ripmap][min(max(Int(pi.level_mode), 0), 2)],
                levelsX: Int(pi.levels_x), levelsY: Int(pi.levels_y))
            : nil
        let comp = Int(pi.compression)
        let info = ImageInfo(
            format: .exr, width: w, height: ht, dataWindow: dataWindow, displayWindow: displayWindow,
            channels: channels, selectedChannels: selected,
            compression: compressionNames.indices.contains(comp) ? compressionNames[comp] : "unknown(\(comp))",
            storage: pi.storage == 1 ? "tiled" : "scanline", tile: tile, parts: parts, part: part)
        return (image, info)
    }

    private static func selectPart(_ want: ReadOptions.Part, parts: [PartSummary], path: String) throws -> Int {
        switch want {
        case .index(let i):
            guard parts.indices.contains(i) else {
                throw FileError(
                    path: path, reason: "no part \(i); the file has \(parts.count) part(s)\(partList(parts))")
            }
            return i
        case .name(let name):
            guard let p = parts.first(where: { $0.name == name }) else {
                throw FileError(path: path, reason: "no part named '\(name)'\(partList(parts))")
            }
            return p.index
        }
    }

    private static func partList(_ parts: [PartSummary]) -> String {
        let named = parts.compactMap(\.name)
        return named.isEmpty ? "" : "; parts: " + named.joined(separator: ", ")
    }

    static func message(_ err: [CChar]) -> String {
        let text = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.isEmpty ? "unknown OpenEXR error" : text
    }
}

/// Calls `body` with a C array of C strings that live for the duration of the call.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let dups = strings.map { strdup($0) }
    defer { dups.forEach { free($0) } }
    return body(dups.map { UnsafePointer($0) })
}

/// OpenEXR's worker pool is process-wide: size it once, to the largest count any read has asked for.
final class ThreadPoolSize: Sendable {
    private let current = Mutex(-1)

    func ensure(_ threads: Int) {
        current.withLock { current in
            if threads > current {
                hp_exr_set_global_threads(Int32(threads))
                current = threads
            }
        }
    }
}
