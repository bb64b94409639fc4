import Config
import Foundation
import Model
import Numerics
// Network weights go through safetensors and back bit for bit, under the names PyTorch modules use.
import RunFiles
import TestSupport
import Testing
import Training

struct NetworkCheckpointTests {
    /// Set HDRPATCH_NETWORK_SAMPLES=DIR to keep the files for tools/parity/check_safetensors.py --reference.
    @Test(arguments: [ModelConfig.plain(depth: 3, width: 6), .unet(width: 4, levels: 2)])
    func weightsRoundTripUnderPyTorchNames(_ model: ModelConfig) throws {
        let dir = ScratchDir()
        let net = model.makeNetwork()
        let store = try ParameterStore(layout: net.parameterLayout)
        net.initialize(store, seed: 21)
        let arch: JSONValue
        switch model {
        case .plain(let d, let w, let conv):
            arch = .object([
                "arch": .string("plain"), "depth": .integer(d), "width": .integer(w),
                "conv_algorithm": .string(conv.rawValue)
            ])
        case .unet(let w, let l): arch = .object(["arch": .string("unet"), "width": .integer(w), "levels": .integer(l)])
        }
        let name = { if case .plain = model { return "plain" } else { return "unet" } }()
        let path = dir.file("\(name).safetensors")
        try WeightsFile.save(store, to: path, config: .object(["model": arch]), step: 0)
        let again = try ParameterStore(layout: net.parameterLayout)
        let meta = try WeightsFile.load(into: again, from: path, weights: .raw)
        #expect(Array(again.values) == Array(store.values))
        #expect(meta["step"] == "0" && meta["config"]?.contains("\"arch\"") == true)
        let file = try SafetensorsFile.read(path: path)
        #expect(file.tensors.map(\.name) == net.parameterLayout.map(\.name))
        if let keep = ProcessInfo.processInfo.environment["HDRPATCH_NETWORK_SAMPLES"] {
            try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            _ = try? FileManager.default.removeItem(atPath: keep + "/\(name).safetensors")
            try FileManager.default.copyItem(atPath: path, toPath: keep + "/\(name).safetensors")
        }
    }
}
