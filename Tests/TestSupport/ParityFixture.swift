// Reading the PyTorch parity fixtures written by tools/parity/generate.py (Tests/Fixtures/parity/*.json).
import Foundation

/// A tensor as the generator writes it: shape and row-major float32 values.
public struct FixtureTensor: Decodable, Sendable {
    public let shape: [Int]
    public let data: [Float]
}

public enum ParityFixture {
    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity").path

    /// Names (without .json) of the fixtures starting with `prefix`, sorted.
    public static func names(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    public static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + name + ".json")))
    }

    /// Largest |a - b| relative to max(|b|) over the tensor (1 when b is all zeros).
    public static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "\(a.count) values vs \(b.count)")
        let scale = max(b.map { Double(abs($0)) }.max() ?? 0, 1e-30)
        return zip(a, b).map { Double(abs($0 - $1)) }.max().map { $0 / scale } ?? 0
    }
}
