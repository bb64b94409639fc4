// The safetensors container: exact bytes of a tiny file, round trip, every corruption refused naming the file,
// and atomic replacement.
import EXRIO
import Foundation
import TestSupport
import Testing

@testable import RunFiles

@Suite struct SafetensorsTests {
    func tiny() -> [UInt8] {
        let v: [Float] = [1, -2]
        return v.withUnsafeBufferPointer {
            Safetensors.encode([.init(name: "w", shape: [2], values: $0)], metadata: ["step": "3"])
        }
    }

    /// A file with this header JSON (padded to alignment) followed by `data`.
    func file(header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        while (8 + h.count) % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        return out + h + data
    }

    func error(_ bytes: [UInt8], path: String = "bad.safetensors") -> String {
        do {
            _ = try SafetensorsFile(bytes: bytes, path: path)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func exactBytesOfATinyFile() {
        let json = #"{"__metadata__":{"step":"3"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(json.utf8.count == 82)
        var expected: [UInt8] = [88, 0, 0, 0, 0, 0, 0, 0]  // 82 bytes of JSON + 6 spaces: data starts at 96
        expected += Array(json.utf8) + [UInt8](repeating: 0x20, count: 6)
        expected += [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]  // 1.0, -2.0 little-endian
        #expect(tiny() == expected)
    }

    @Test func roundTripKeepsOrderValuesAndMetadata() throws {
        let a: [Float] = [0.1, -0, .infinity, Float(bitPattern: 0x7fc0_1234), Float(bitPattern: 0x85D) /* subnormal */]
        let b: [Float] = [7]
        let bytes = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                Safetensors.encode(
                    [.init(name: "z.first", shape: [5], values: pa), .init(name: "a.scalar", shape: [], values: pb)],
                    metadata: ["config": #"{"a":"x\"y\n"}"#, "step": "12"])
            }
        }
        let f = try SafetensorsFile(bytes: bytes, path: "x")
        #expect(f.tensors.map(\.name) == ["z.first", "a.scalar"])
        #expect(f.tensors.map(\.shape) == [[5], []])
        #expect(f.floats(f.tensors[0]).map(\.bitPattern) == a.map(\.bitPattern))
        #expect(f.floats(f.tensors[1]) == [7])
        #expect(f.metadata == ["config": #"{"a":"x\"y\n"}"#, "step": "12"])
    }

    /// `safetensors.torch.save({"weight": tensor([[1.5, -2.0, 3.25]]), "bias": tensor([0.125])}, metadata={"step": "7"})`
    /// (safetensors 0.8.0): we read it, and writing the same tensors in its (sorted) order gives the same bytes.
    @Test func readsAndReproducesAFileWrittenByTheReferenceLibrary() throws {
        let hex = [
            "98000000000000007b225f5f6d657461646174615f5f223a7b2273746570223a2237227d2c2262696173223a7b226474",
            "797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c345d7d2c227765",
            "69676874223a7b226474797065223a22463332222c227368617065223a5b312c335d2c22646174615f6f666673657473",
            "223a5b342c31365d7d7d2020202020200000003e0000c03f000000c000005040"
        ].joined()
        let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
        let f = try SafetensorsFile(bytes: bytes, path: "torch.safetensors")
        #expect(f.metadata == ["step": "7"])
        #expect(f.tensors.map(\.name) == ["bias", "weight"] && f.tensors.map(\.shape) == [[1], [1, 3]])
        #expect(
            f.floats(f.tensor(named: "weight")!) == [1.5, -2, 3.25] && f.floats(f.tensor(named: "bias")!) == [0.125])
        let bias: [Float] = [0.125]
        let weight: [Float] = [1.5, -2, 3.25]
        let ours = bias.withUnsafeBufferPointer { b in
            weight.withUnsafeBufferPointer { w in
                Safetensors.encode(
                    [.init(name: "bias", shape: [1], values: b), .init(name: "weight", shape: [1, 3], values: w)],
                    metadata: ["step": "7"])
            }
        }
        #expect(ours == bytes)
    }

    @Test func everyCorruptionNamesTheFile() {
        let data = [UInt8](repeating: 0, count: 8)
        func t(_ fields: String) -> String { #"{"w":{"# + fields + "}}" }
        let good = #""dtype":"F32","shape":[2],"data_offsets":[0,8]"#
        #expect(error(file(header: t(good), data: data)) == "no error")
        #expect(error([1, 2, 3]) == "bad.safetensors: 3 bytes: too short for a safetensors header")
        var huge = tiny()
        huge.replaceSubrange(0..<8, with: [0x00, 0xc2, 0xeb, 0x0b, 0, 0, 0, 0])  // 200,000,000
        #expect(
            error(huge)
                == "bad.safetensors: not a safetensors file (header length 200000000 exceeds the 100000000-byte limit)")
        var long = tiny()
        long[0] = 200
        #expect(error(long) == "bad.safetensors: not a safetensors file (header length 200 exceeds the file size 104)")
        #expect(
            error(file(header: #"{"w": {"dtype"#, data: data)) == "bad.safetensors: header is not a valid JSON object")
        #expect(error(file(header: "[1, 2]", data: data)) == "bad.safetensors: header is not a valid JSON object")
        #expect(
            error(file(header: t(#""dtype":"F16","shape":[4],"data_offsets":[0,8]"#), data: data))
                == "bad.safetensors: tensor 'w': dtype F16, only F32 is supported")
        #expect(
            error(file(header: t(#""dtype":"F32","shape":[4],"data_offsets":[0,16]"#), data: data))
                == "bad.safetensors: tensor 'w': data_offsets [0, 16] outside the data (8 bytes)")
        #expect(
            error(file(header: t(#""dtype":"F32","shape":[3],"data_offsets":[0,8]"#), data: data))
                == "bad.safetensors: tensor 'w': data_offsets [0, 8] hold 8 bytes, shape [3] needs 12")
        #expect(
            error(file(header: t(#""dtype":"F32","shape":[2],"data_offsets":[8,0]"#), data: data))
                == "bad.safetensors: tensor 'w': data_offsets must be [begin, end] with 0 <= begin <= end")
        let overlap =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(error(file(header: overlap, data: data)) == "bad.safetensors: tensors 'a' and 'b' overlap")
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(error(file(header: gap, data: data)) == "bad.safetensors: data bytes [0, 4) belong to no tensor")
        #expect(error(tiny() + [1, 2, 3, 4]) == "bad.safetensors: 4 trailing bytes after the last tensor")
        #expect(
            error(file(header: t(#""dtype":"F32","shape":[2.5],"data_offsets":[0,8]"#), data: data))
                == "bad.safetensors: tensor 'w': shape must be non-negative integers")
        #expect(
            error(file(header: #"{"__metadata__":{"step":3}}"#, data: []))
                == "bad.safetensors: __metadata__.step is not a string")
        #expect(
            error(file(header: t(good + #","extra":1"#), data: data))
                == "bad.safetensors: tensor 'w': unknown field 'extra'")
    }

    @Test func readErrorsNameTheFile() throws {
        let dir = ScratchDir()
        #expect(throws: FileError(path: dir.file("none"), reason: "No such file or directory")) {
            try SafetensorsFile.read(path: dir.file("none"))
        }
        #expect(throws: FileError(path: dir.path, reason: "is a directory")) {
            try SafetensorsFile.read(path: dir.path)
        }
    }

    @Test func failedWriteLeavesTheOldFileIntact() throws {
        let dir = ScratchDir()
        let path = dir.file("w.safetensors")
        let old = tiny()
        try FileBytes.atomicWrite(path, bytes: old)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try FileBytes.atomicWrite(path) { temp in
                try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: temp))
                throw Boom()
            }
        }
        #expect(try FileBytes.read(path) == old)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["w.safetensors"], "temp file removed")
        let v: [Float] = [1]
        #expect(throws: FileError.self) {
            try v.withUnsafeBufferPointer {
                try Safetensors.write(
                    [.init(name: "w", shape: [1], values: $0)], metadata: [:], to: dir.file("no/such/dir.safetensors"))
            }
        }
        do {
            try v.withUnsafeBufferPointer {
                try Safetensors.write(
                    [.init(name: "w", shape: [1], values: $0)], metadata: [:], to: dir.file("no/x.safetensors"))
            }
        } catch {
            #expect("\(error)" == dir.file("no/x.safetensors") + ": cannot create: No such file or directory")
        }
    }
}
