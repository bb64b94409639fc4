// Radiance RGBE (.hdr/.pic) reading and writing in pure Swift, so these files need no C library.
// Format reference: Radiance's color.c (colr_color, setcolr, freadcolrs, fwritecolrs) and resolu.h.

/// The Radiance RGBE codec. Every input check is explicit: the decoder is fed untrusted files.
///
/// RGBE to float follows Radiance's `colr_color`: `(byte + 0.5) * 2^(e - 136)`, and 0 when `e == 0`.
/// The `+ 0.5` centres each value in its quantum as Radiance itself does; stb_image and OpenCV omit it,
/// so their values are up to one quantum (1/256 of the pixel's largest channel) lower than ours.
enum Radiance {
    /// Refusing a longer header keeps garbage that starts with "#?" from being scanned to its end.
    static let maxHeaderBytes = 65_536
    static let maxResolutionLineBytes = 256

    /// True when the bytes start with the Radiance magic "#?".
    static func looksLikeRadiance(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x23 && bytes[1] == 0x3F
    }

    /// Decodes a whole file into a top-to-bottom, left-to-right image, whatever the file's orientation.
    ///
    /// Pixel values are returned as stored: EXPOSURE lines are not applied, their product is only reported
    /// in `ImageInfo.exposure` (1 when absent). Bytes after the last scanline are ignored, as Radiance does.
    /// Error reasons count scanlines in file order from 0.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, path: String, maxPixels: Int
    ) throws(FileError)
        -> (HDRImage, ImageInfo)
    {
        func fail(_ reason: String) -> FileError { FileError(path: path, reason: reason) }
        guard looksLikeRadiance(bytes) else { throw fail("not a Radiance file (no \"#?\" magic)") }

        // Header: "#?PROGRAM" line, then variable lines up to an empty line.
        var pos = 0
        var exposure = 1.0
        var firstLine = true
        while true {
            guard let (line, next) = readLine(bytes, from: pos, limit: maxHeaderBytes) else {
                if bytes.count >= maxHeaderBytes {
                    throw fail("no end of header (blank line) in the first \(maxHeaderBytes) bytes")
                }
                throw fail("unexpected end of data in header")
            }
            pos = next
            if firstLine {
                firstLine = false
                continue
            }
            if line.isEmpty { break }
            let text = trimmed(line)
            if text.hasPrefix("FORMAT=") {
                let format = trimmed(text.dropFirst("FORMAT=".count))
                if format == "32-bit_rle_xyze" { throw fail("XYZE format is not supported") }
                guard format == "32-bit_rle_rgbe" else { throw fail("unsupported FORMAT \(quoted(format))") }
            } else if text.hasPrefix("EXPOSURE=") {
                let value = trimmed(text.dropFirst("EXPOSURE=".count))
                guard let e = Double(value), e.isFinite, e > 0 else {
                    throw fail("invalid EXPOSURE value \(quoted(value))")
                }
                exposure *= e
            }
        }

        // Resolution line, e.g. "-Y 480 +X 640": the first axis counts scanlines, the second pixels in each.
        guard pos < bytes.count else { throw fail("missing resolution line") }
        guard let (resLine, dataStart) = readLine(bytes, from: pos, limit: pos + maxResolutionLineBytes) else {
            throw fail("missing or truncated resolution line")
        }
        let resText = trimmed(resLine)
        let fields = resText.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 4, let major = Axis(fields[0]), let minor = Axis(fields[2]),
            major.isX != minor.isX, let majorCount = Int(fields[1]), let minorCount = Int(fields[3])
        else { throw fail("invalid resolution line \(quoted(resText))") }
        guard majorCount > 0, minorCount > 0 else {
            throw fail("invalid image size in resolution line \(quoted(resText))")
        }
        let (width, height) = major.isX ? (majorCount, minorCount) : (minorCount, majorCount)
        let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixelCount <= maxPixels, pixelCount <= Int.max / 4 else {
            throw fail("image size \(width) x \(height) exceeds the limit of \(maxPixels) pixels")
        }

        // Display offset of pixel t of scanline s is origin + s * majorStep + t * minorStep.
        func start(_ a: Axis) -> Int {
            a.isX ? (a.increasing ? 0 : width - 1) : (a.increasing ? (height - 1) * width : 0)
        }
        // Radiance's Y points up, so +Y runs bottom to top in a top-down image.
        func step(_ a: Axis) -> Int { a.isX ? (a.increasing ? 1 : -1) : (a.increasing ? -width : width) }
        let layout = Layout(
            scanlines: majorCount, length: minorCount, plane: pixelCount,
            origin: start(major) + start(minor), majorStep: step(major), minorStep: step(minor))

        var pixels = [Float](repeating: 0, count: 3 * pixelCount)
        var scratch = [UInt8](repeating: 0, count: 4 * minorCount)
        var usedRLE = false
        let failure: String? = pixels.withUnsafeMutableBufferPointer { out in
            scratch.withUnsafeMutableBufferPointer { line in
                decodeScanlines(bytes, from: dataStart, layout: layout, into: out, line: line, usedRLE: &usedRLE)
            }
        }
        if let failure { throw fail(failure) }

        let box = PixelBox(minX: 0, minY: 0, maxX: width - 1, maxY: height - 1)
        let info = ImageInfo(
            format: .radiance, width: width, height: height, dataWindow: box, displayWindow: box,
            channels: ["R", "G", "B"].map { ChannelInfo(name: $0, type: .rgbe) }, selectedChannels: ["R", "G", "B"],
            compression: usedRLE ? "rle" : "none", storage: "scanline", tile: nil,
            parts: [PartSummary(index: 0, name: nil)], part: 0, exposure: exposure)
        return (HDRImage(width: width, height: height, pixels: pixels), info)
    }

    /// Encodes to a complete file: "#?RADIANCE", "FORMAT=32-bit_rle_rgbe", blank line, "-Y H +X W".
    /// With `runLength`, scanlines use new-style RLE where the format allows it (width 8...32767);
    /// other widths, and `runLength: false`, are written as flat pixels. See `rgbe` for value handling.
    static func encode(_ image: HDRImage, runLength: Bool = true) -> [UInt8] {
        let width = image.width
        let height = image.height
        let n = image.planeCount
        var out = Array("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y \(height) +X \(width)\n".utf8)
        let rle = runLength && (8...0x7FFF).contains(width)
        out.reserveCapacity(out.count + 4 * n + (rle ? 4 * height : 0))
        var line = [UInt8](repeating: 0, count: 4 * width)  // one component after another
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<height {
                for x in 0..<width {
                    let o = y * width + x
                    let (r, g, b, e) = rgbe(p[o], p[n + o], p[2 * n + o])
                    if rle {
                        line[x] = r
                        line[width + x] = g
                        line[2 * width + x] = b
                        line[3 * width + x] = e
                    } else {
                        out.append(r)
                        out.append(g)
                        out.append(b)
                        out.append(e)
                    }
                }
                guard rle else { continue }
                out.append(2)
                out.append(2)
                out.append(UInt8(width >> 8))
                out.append(UInt8(width & 0xFF))
                for c in 0..<4 { appendRuns(line[(c * width)..<((c + 1) * width)], to: &out) }
            }
        }
        return out
    }

    /// One pixel to RGBE as Radiance's `setcolr`, made total: negative and NaN channels become 0;
    /// +Inf, and pixels whose largest channel is 2^127 or more, saturate at the largest exponent
    /// (channels at 255, so they decode to 255.5 * 2^119, the largest representable value).
    static func rgbe(_ r: Float, _ g: Float, _ b: Float) -> (UInt8, UInt8, UInt8, UInt8) {
        // `> 0` is false for NaN as well as for negatives.
        let r = r > 0 ? Double(r) : 0
        let g = g > 0 ? Double(g) : 0
        let b = b > 0 ? Double(b) : 0
        let m = max(r, g, b)
        guard m > 1e-32 else { return (0, 0, 0, 0) }
        // frexp's exponent; m = mant * 2^e with mant in [0.5, 1). Checked before `exponent`, which is Int.max for inf.
        let e = m.isInfinite ? 127 : min(m.exponent + 1, 127)
        // setcolr's mant * 256 / m, exactly a power of two, so the largest channel maps to 128...255.
        let d = Double(sign: .plus, exponent: 8 - e, significand: 1)
        func byte(_ v: Double) -> UInt8 {
            let s = v * d
            return s >= 255 ? 255 : UInt8(s)
        }
        return (byte(r), byte(g), byte(b), UInt8(e + 128))
    }

    // MARK: - Decoding internals

    private struct Axis {
        var isX: Bool
        var increasing: Bool
        init?(_ s: Substring) {
            let u = Array(s.utf8)
            guard u.count == 2, u[0] == 0x2B || u[0] == 0x2D, u[1] == 0x58 || u[1] == 0x59 else { return nil }
            increasing = u[0] == 0x2B
            isX = u[1] == 0x58
        }
    }

    private struct Layout {
        var scanlines: Int, length: Int, plane: Int
        var origin: Int, majorStep: Int, minorStep: Int
    }

    /// The line starting at `start` without its "\n" (and a "\r" before it), and the offset after it;
    /// nil when no "\n" occurs before `limit` or the end of the data.
    private static func readLine(
        _ bytes: UnsafeRawBufferPointer, from start: Int, limit: Int
    )
        -> (String, Int)?
    {
        let end = min(bytes.count, limit)
        var i = start
        while i < end, bytes[i] != 0x0A { i += 1 }
        guard i < end else { return nil }
        var lineEnd = i
        if lineEnd > start, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        return (String(decoding: bytes[start..<lineEnd], as: UTF8.self), i + 1)
    }

    private static func trimmed<S: StringProtocol>(_ s: S) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(s[first...last])
    }

    /// Quoted and shortened, so a binary header cannot make an unreadable error line.
    private static func quoted(_ s: String) -> String {
        s.count > 60 ? "\"\(s.prefix(60))...\"" : "\"\(s)\""
    }

    /// Fills `out`; returns nil on success, else the reason. Never reads outside `src` nor writes outside `out`.
    private static func decodeScanlines(
        _ src: UnsafeRawBufferPointer, from start: Int, layout: Layout,
        into out: UnsafeMutableBufferPointer<Float>,
        line: UnsafeMutableBufferPointer<UInt8>, usedRLE: inout Bool
    ) -> String? {
        // colr_color's ldexp(1, e - 136), per exponent byte; exact in Float down to 2^-135 (subnormal).
        var scale = [Float](repeating: 0, count: 256)
        for e in 1..<256 { scale[e] = Float(sign: .plus, exponent: e - 136, significand: 1) }
        return scale.withUnsafeBufferPointer { scale -> String? in
            let end = src.count
            let len = layout.length
            let n = layout.plane
            let n2 = 2 * layout.plane
            var pos = start
            @inline(__always) func store(_ o: Int, _ r: UInt8, _ g: UInt8, _ b: UInt8, _ e: UInt8) {
                let f = scale[Int(e)]  // 0 for e == 0, and (byte + 0.5) * 0 is the required 0
                out[o] = (Float(r) + 0.5) * f
                out[n + o] = (Float(g) + 0.5) * f
                out[n2 + o] = (Float(b) + 0.5) * f
            }
            for s in 0..<layout.scanlines {
                let base = layout.origin + s * layout.majorStep
                let step = layout.minorStep
                if len >= 8, len <= 0x7FFF, end - pos >= 4, src[pos] == 2, src[pos + 1] == 2, src[pos + 2] & 0x80 == 0 {
                    // New-style RLE: 4 components one after another, each as runs and literal spans.
                    let coded = Int(src[pos + 2]) << 8 | Int(src[pos + 3])
                    guard coded == len else {
                        return "scanline \(s) is run-length coded for \(coded) pixels, expected \(len)"
                    }
                    pos += 4
                    usedRLE = true
                    for c in 0..<4 {
                        var i = c * len
                        let componentEnd = i + len
                        while i < componentEnd {
                            guard pos < end else { return "unexpected end of data in scanline \(s)" }
                            var count = Int(src[pos])
                            pos += 1
                            if count > 128 {
                                count -= 128
                                guard count <= componentEnd - i else { return "run overruns scanline \(s)" }
                                guard pos < end else { return "unexpected end of data in scanline \(s)" }
                                let v = src[pos]
                                pos += 1
                                for k in i..<(i + count) { line[k] = v }
                            } else {
                                guard count > 0 else { return "zero-length run in scanline \(s)" }
                                guard count <= componentEnd - i else { return "run overruns scanline \(s)" }
                                guard count <= end - pos else { return "unexpected end of data in scanline \(s)" }
                                for k in 0..<count { line[i + k] = src[pos + k] }
                                pos += count
                            }
                            i += count
                        }
                    }
                    for t in 0..<len {
                        store(base + t * step, line[t], line[len + t], line[2 * len + t], line[3 * len + t])
                    }
                } else {
                    // Flat pixels with old-style RLE: (1, 1, 1, k) repeats the previous pixel k << shift times,
                    // the shift growing by 8 per consecutive repeat pixel. Runs stay within a scanline, as in
                    // Radiance's oldreadcolrs.
                    var t = 0
                    var shift = 0
                    while t < len {
                        guard end - pos >= 4 else { return "unexpected end of data in scanline \(s)" }
                        let r = src[pos]
                        let g = src[pos + 1]
                        let b = src[pos + 2]
                        let e = src[pos + 3]
                        pos += 4
                        if r == 1, g == 1, b == 1 {
                            guard t > 0 else { return "repeat pixel with no previous pixel in scanline \(s)" }
                            // Past a shift of 40 any nonzero count exceeds every allowed scanline.
                            let count = e == 0 ? 0 : (shift < 40 ? Int(e) << shift : Int.max)
                            guard count <= len - t else { return "repeat run overruns scanline \(s)" }
                            let p = base + (t - 1) * step
                            let pr = out[p]
                            let pg = out[n + p]
                            let pb = out[n2 + p]
                            for _ in 0..<count {
                                let o = base + t * step
                                out[o] = pr
                                out[n + o] = pg
                                out[n2 + o] = pb
                                t += 1
                            }
                            shift = min(shift + 8, 64)
                        } else {
                            store(base + t * step, r, g, b, e)
                            t += 1
                            shift = 0
                        }
                    }
                }
            }
            return nil
        }
    }

    // MARK: - Encoding internals

    /// Appends one component as new-style runs, as Radiance's fwritecolrs: runs of 4 or more equal bytes
    /// (at most 127) become (128 + count, byte), everything between is literal spans of at most 128.
    private static func appendRuns(_ comp: ArraySlice<UInt8>, to out: inout [UInt8]) {
        let minRun = 4
        var j = comp.startIndex
        let end = comp.endIndex
        while j < end {
            // Find the next run of at least minRun starting at or after j.
            var begin = j
            var count = 0
            while begin < end {
                count = 1
                while count < 127, begin + count < end, comp[begin + count] == comp[begin] { count += 1 }
                if count >= minRun { break }
                begin += count
            }
            while j < begin {
                let literal = min(128, begin - j)
                out.append(UInt8(literal))
                out.append(contentsOf: comp[j..<(j + literal)])
                j += literal
            }
            if begin < end {
                out.append(UInt8(128 + count))
                out.append(comp[begin])
                j = begin + count
            }
        }
    }
}

/// Writes Radiance RGBE files atomically (temp file + rename).
public enum RadianceWriter {
    /// New-style RLE where the width allows it. Negative and NaN channels store as 0, +Inf saturates.
    public static func write(_ image: HDRImage, to path: String, runLength: Bool = true) throws {
        guard image.width > 0, image.height > 0 else {
            throw FileError(path: path, reason: "image size \(image.width) x \(image.height) is empty")
        }
        try FileBytes.atomicWrite(path, bytes: Radiance.encode(image, runLength: runLength))
    }
}
