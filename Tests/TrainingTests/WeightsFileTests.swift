import Config
import EXRIO
import Foundation
import Numerics
// Weights files: round trip of values and metadata, and the init_from mismatch message.
import RunFiles
import TestSupport
import Testing

@testable import Training

@Suite struct WeightsFileTests {
    /// A store shaped like a small network: conv weight and bias, and a learnable scalar (shape []).
    func netStore() throws -> ParameterStore {
        let s = try ParameterStore(layout: [
            ("layers.0.weight", [4, 3, 3, 3]), ("layers.0.bias", [4]), ("head.scale", [])
        ])
        for i in 0..<s.count { s.values[i] = Float(i) * 0.01 - 0.5 }
        s.values(s.entry(named: "head.scale")!)[0] = 6
        return s
    }

    @Test func roundTripIsBitExactWithConfigAndStep() throws {
        let dir = ScratchDir()
        let path = dir.file("ckpt.safetensors")
        let s = try netStore()
        let config: JSONValue = .object(["optim": .object(["type": .string("adamw"), "lr": .number(0.001)])])
        try WeightsFile.save(s, to: path, config: config, step: 250)
        // For tools/parity/check_safetensors.py: set HDRPATCH_SAFETENSORS_SAMPLE=/some/file to keep a copy.
        if let keep = ProcessInfo.processInfo.environment["HDRPATCH_SAFETENSORS_SAMPLE"] {
            try WeightsFile.save(s, to: keep, config: config, step: 250)
        }
        let t = try ParameterStore(layout: s.entries.map { ($0.name, $0.shape) })
        let meta = try WeightsFile.load(into: t, from: path, weights: .raw)
        #expect(bits(t.values) == bits(s.values))
        #expect(meta == ["config": #"{"optim":{"lr":0.001,"type":"adamw"}}"#, "step": "250"])
        let f = try SafetensorsFile.read(path: path)
        #expect(f.tensors.map(\.name) == ["layers.0.weight", "layers.0.bias", "head.scale"], "registration order")
        #expect(WeightsFile.statePath(forWeights: path) == dir.file("ckpt.state.safetensors"))
    }

    @Test func mismatchListsEveryNameAndShapeAndChangesNothing() throws {
        let dir = ScratchDir()
        let path = dir.file("init.safetensors")
        try WeightsFile.save(try netStore(), to: path, metadata: [:])
        let other = try ParameterStore(layout: [
            ("layers.0.weight", [8, 3, 3, 3]), ("layers.0.bias", [4]), ("head.alpha", [1]),
            ("layers.1.weight", [3, 8, 3, 3])
        ])
        other.values[0] = 42
        #expect(
            throws: FileError(
                path: path,
                reason:
                    "parameters do not match the model: missing head.alpha [1], layers.1.weight [3, 8, 3, 3]; unexpected head.scale []; "
                    + "shape layers.0.weight: file [4, 3, 3, 3], model [8, 3, 3, 3]")
        ) {
            try WeightsFile.load(into: other, from: path, weights: .raw)
        }
        #expect(other.values[0] == 42)
    }
}
