// Reading the PyTorch parity fixtures written by tools/parity/generate.py (Tests/Fixtures/parity/*.json).
import Foundation

/// A tensor as the generator writes it: shape and row-major float32 values (base64 of little-endian bytes).
package struct FixtureTensor: Decodable, Sendable {
    package let shape: [Int]
    package let data: [Float]

    enum CodingKeys: String, CodingKey { case shape, f32le }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        shape = try c.decode([Int].self, forKey: .shape)
        let text = try c.decode(String.self, forKey: .f32le)
        guard let bytes = Data(base64Encoded: text), bytes.count == 4 * shape.reduce(1, *) else {
            throw DecodingError.dataCorruptedError(
                forKey: .f32le, in: c, debugDescription: "bad f32le payload for shape \(shape)")
        }
        data = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }
}

package enum ParityFixture {
    package static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity").path

    /// Names (without .json) of the fixtures starting with `prefix`, sorted.
    package static func names(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    package static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + name + ".json")))
    }

    /// Largest |a - b| relative to max(|b|) over the tensor (1 when b is all zeros).
    package static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "\(a.count) values vs \(b.count)")
        let scale = max(b.map { Double(abs($0)) }.max() ?? 0, 1e-30)
        return zip(a, b).map { Double(abs($0 - $1)) }.max().map { $0 / scale } ?? 0
    }
}
