// The safetensors container (F32 only): writing one, and reading one strictly.
import Config
import EXRIO
import Foundation

/// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON, then the tensor data.
/// The JSON maps `__metadata__` to {string: string} and each tensor name to
/// `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`, offsets relative to the first data byte.
/// We write tensors contiguously in the order given, the metadata first with sorted keys, no whitespace, and pad the
/// header with spaces so the data starts 8-byte aligned (what `safetensors` itself does).
package enum Safetensors {
    /// Headers larger than this are refused unread (the limit the reference implementation uses).
    package static let maxHeaderBytes = 100_000_000

    package struct TensorRef {
        package let name: String
        /// PyTorch order, row-major.
        package let shape: [Int]
        /// shape.product floats.
        package let values: UnsafeBufferPointer<Float>
        package init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The whole file as bytes. Names must be unique and `values.count` must match the shape (programming errors).
    package static func encode(_ tensors: [TensorRef], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for t in tensors {
            precondition(
                t.values.count == t.shape.reduce(1, *), "\(t.name): \(t.values.count) values for shape \(t.shape)")
            let end = offset + 4 * t.values.count
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(quote(t.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += parts.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in tensors {
            #if _endian(little)
                out.append(contentsOf: UnsafeRawBufferPointer(t.values))
            #else
                for x in t.values { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Writes atomically (temp file beside `path`, fsync, rename); the old file survives any failure.
    package static func write(_ tensors: [TensorRef], metadata: [String: String], to path: String) throws {
        try FileBytes.atomicWrite(path, bytes: encode(tensors, metadata: metadata))
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, other text as UTF-8.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// A safetensors file read and validated completely: any file this returns has F32 tensors whose byte ranges
/// exactly tile the data (no overlap, no gap, nothing after the last one) and match their shapes.
package struct SafetensorsFile: Sendable {
    package struct Tensor: Sendable, Equatable {
        package let name: String
        package let shape: [Int]
        /// Byte range inside the data section.
        package let begin: Int
        package let end: Int
        package var count: Int { (end - begin) / 4 }
    }

    package let path: String
    package let metadata: [String: String]
    /// In data order (which is the writer's order for files we wrote).
    package let tensors: [Tensor]
    private let bytes: [UInt8]
    private let dataStart: Int

    package static func read(path: String) throws -> SafetensorsFile {
        try SafetensorsFile(bytes: FileBytes.read(path), path: path)
    }

    /// - Parameter path: names the file in errors.
    package init(bytes: [UInt8], path: String) throws {
        func fail(_ reason: String) -> FileError { FileError(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw fail("\(bytes.count) bytes: too short for a safetensors header") }
        let n = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        // A file of another kind (a YAML config, an EXR) shows as a header length beyond the limit or the file.
        guard n <= UInt64(Safetensors.maxHeaderBytes) else {
            throw fail(
                "not a safetensors file (header length \(n) exceeds the \(Safetensors.maxHeaderBytes)-byte limit)")
        }
        guard 8 + Int(n) <= bytes.count else {
            throw fail("not a safetensors file (header length \(n) exceeds the file size \(bytes.count))")
        }
        let dataStart = 8 + Int(n)
        let dataLength = bytes.count - dataStart
        let json: [String: JSONValue]
        do {
            json = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes[8..<dataStart]))
        } catch {
            throw fail("header is not a valid JSON object")
        }
        var metadata: [String: String] = [:]
        if let m = json["__metadata__"] {
            guard case .object(let o) = m else { throw fail("__metadata__ is not an object of strings") }
            for (k, v) in o {
                guard case .string(let s) = v else { throw fail("__metadata__.\(k) is not a string") }
                metadata[k] = s
            }
        }
        var tensors: [Tensor] = []
        for (name, entry) in json where name != "__metadata__" {
            let t = try Self.tensor(name, entry, fail: fail)
            guard t.end <= dataLength else {
                throw fail(
                    "tensor '\(name)': data_offsets [\(t.begin), \(t.end)] outside the data (\(dataLength) bytes)")
            }
            tensors.append(t)
        }
        tensors.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        var previous = ""
        for t in tensors {
            if t.begin < expected { throw fail("tensors '\(previous)' and '\(t.name)' overlap") }
            if t.begin > expected { throw fail("data bytes [\(expected), \(t.begin)) belong to no tensor") }
            expected = t.end
            previous = t.name
        }
        if expected != dataLength { throw fail("\(dataLength - expected) trailing bytes after the last tensor") }
        self.path = path
        self.metadata = metadata
        self.tensors = tensors
        self.bytes = bytes
        self.dataStart = dataStart
    }

    private static func tensor(
        _ name: String, _ entry: JSONValue,
        fail: (String) -> FileError
    ) throws -> Tensor {
        guard case .object(let o) = entry else { throw fail("tensor '\(name)': expected an object") }
        for k in o.keys.sorted() where !["dtype", "shape", "data_offsets"].contains(k) {
            throw fail("tensor '\(name)': unknown field '\(k)'")
        }
        guard case .string(let dtype)? = o["dtype"] else { throw fail("tensor '\(name)': missing dtype") }
        guard dtype == "F32" else { throw fail("tensor '\(name)': dtype \(dtype), only F32 is supported") }
        guard case .array(let s)? = o["shape"] else { throw fail("tensor '\(name)': missing shape") }
        var shape: [Int] = []
        for d in s {
            guard case .integer(let v) = d, v >= 0 else {
                throw fail("tensor '\(name)': shape must be non-negative integers")
            }
            shape.append(v)
        }
        guard case .array(let off)? = o["data_offsets"], off.count == 2,
            case .integer(let begin) = off[0], case .integer(let end) = off[1], begin >= 0, end >= begin
        else {
            throw fail("tensor '\(name)': data_offsets must be [begin, end] with 0 <= begin <= end")
        }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, p <= Int.max / 4 else { throw fail("tensor '\(name)': shape \(shape) is too large") }
            elements = p
        }
        guard end - begin == 4 * elements else {
            throw fail(
                "tensor '\(name)': data_offsets [\(begin), \(end)] hold \(end - begin) bytes, shape \(shape) needs \(4 * elements)"
            )
        }
        return Tensor(name: name, shape: shape, begin: begin, end: end)
    }

    package func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Copies the tensor's floats into `out` (`t.count` floats), bit for bit.
    package func copy(_ t: Tensor, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == t.count, "\(t.name): \(out.count) floats for \(t.count)")
        bytes.withUnsafeBytes { raw in
            for i in 0..<t.count {
                let bits = raw.loadUnaligned(fromByteOffset: dataStart + t.begin + 4 * i, as: UInt32.self)
                out[i] = Float(bitPattern: UInt32(littleEndian: bits))
            }
        }
    }

    package func floats(_ t: Tensor) -> [Float] {
        [Float](unsafeUninitializedCapacity: t.count) { buf, n in
            copy(t, into: buf)
            n = t.count
        }
    }
}
