// 8-bit RGB PNG encoding through libpng's simplified API (png_image_write_to_memory): the pictures of the
// reports. No hand-written deflate: libpng and zlib from Debian do the encoding.
import CPNG

public enum PNGFile {
    /// PNG bytes of a `width` x `height` RGB image, `rgb` row-major, 3 bytes per pixel, top row first.
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        guard width > 0, height > 0, rgb.count == width * height * 3 else {
            throw FileError(path: "(png)", reason: "\(rgb.count) bytes for a \(width) x \(height) RGB image")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_RGB)
        // First call: the size needed; second: the bytes.
        var size = 0
        let ok = rgb.withUnsafeBufferPointer { px in
            png_image_write_to_memory(&image, nil, &size, 0, px.baseAddress, Int32(width * 3), nil)
        }
        guard ok != 0, size > 0 else { throw FileError(path: "(png)", reason: message(&image)) }
        var out = [UInt8](repeating: 0, count: size)
        let written = rgb.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBytes { o in
                png_image_write_to_memory(&image, o.baseAddress, &size, 0, px.baseAddress, Int32(width * 3), nil)
            }
        }
        png_image_free(&image)
        guard written != 0 else { throw FileError(path: "(png)", reason: message(&image)) }
        return Array(out.prefix(size))
    }

    /// Encodes and writes `path` atomically.
    public static func write(_ path: String, rgb: [UInt8], width: Int, height: Int) throws {
        let bytes: [UInt8]
        do {
            bytes = try encode(rgb: rgb, width: width, height: height)
        } catch let e as FileError {
            throw FileError(path: path, reason: e.reason)
        }
        try FileBytes.atomicWrite(path, bytes: bytes)
    }

    private static func message(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        png_image_free(&image)
        return "libpng: " + (text.isEmpty ? "encoding failed" : text)
    }
}
