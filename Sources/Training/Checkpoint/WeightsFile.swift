import Config
import EXRIO
import Foundation
import Numerics
// Model weights as safetensors: saving a ParameterStore's values, and loading them back (resume, `train.init_from`).
import RunFiles

/// The weights file holds every parameter of the store under its PyTorch name, in registration order, little-endian
/// F32, so `safetensors.torch.load_file` gives a state dict a plain PyTorch module with those names accepts.
/// `__metadata__`: `config` (the resolved run config as JSON), `step` (updates done, decimal) and any extra keys.
public enum WeightsFile {
    /// `run/ckpt.safetensors` -> `run/ckpt.state.safetensors` (the optimizer/resume state beside it).
    public static func statePath(forWeights path: String) -> String {
        let suffix = ".safetensors"
        return (path.hasSuffix(suffix) ? String(path.dropLast(suffix.count)) : path) + ".state.safetensors"
    }

    /// Writes the store's values atomically. `extra` must not use the keys `config` or `step`.
    public static func save(
        _ store: ParameterStore, to path: String, config: JSONValue, step: Int,
        extra: [String: String] = [:]
    ) throws {
        var metadata = extra
        precondition(metadata["config"] == nil && metadata["step"] == nil, "extra metadata reuses config/step")
        metadata["config"] = jsonText(config)
        metadata["step"] = String(step)
        try save(store, to: path, metadata: metadata)
    }

    /// Writes the store's values atomically with exactly this metadata.
    public static func save(_ store: ParameterStore, to path: String, metadata: [String: String]) throws {
        let values = UnsafeBufferPointer(store.values)
        let refs = store.entries.map { e in
            Safetensors.TensorRef(
                name: e.name, shape: e.shape,
                values: UnsafeBufferPointer(rebasing: values[e.offset..<(e.offset + e.count)]))
        }
        try Safetensors.write(refs, metadata: metadata, to: path)
    }

    /// Loads every value of the store from `path`, bit for bit; this is `train.init_from` and the weights half of a
    /// resume. Names and shapes must match exactly; otherwise nothing is changed and one error lists every
    /// missing, unexpected and shape-differing name.
    /// - Returns: the file's metadata.
    @discardableResult
    public static func load(into store: ParameterStore, from path: String) throws -> [String: String] {
        let file = try SafetensorsFile.read(path: path)
        try requireSameTensors(file, expected: store.entries.map { ($0.name, $0.shape) }, what: "parameters")
        for e in store.entries { file.copy(file.tensor(named: e.name)!, into: store.values(e)) }
        return file.metadata
    }

    /// Fails unless the file holds exactly the `expected` names with these shapes.
    /// Message: `<file>: parameters do not match the model: missing a.b [3, 4]; unexpected c [2]; shape d: file [2], model [3]`.
    static func requireSameTensors(
        _ file: SafetensorsFile, expected: [(name: String, shape: [Int])], what: String
    ) throws {
        let inFile = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.shape) })
        let wanted = Set(expected.map(\.name))
        var problems: [String] = []
        let missing = expected.filter { inFile[$0.name] == nil }
        if !missing.isEmpty {
            problems.append("missing " + missing.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))
        }
        let unexpected = file.tensors.filter { !wanted.contains($0.name) }.sorted { $0.name < $1.name }
        if !unexpected.isEmpty {
            problems.append("unexpected " + unexpected.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))
        }
        let differing = expected.filter { e in inFile[e.name].map { $0 != e.shape } ?? false }
        if !differing.isEmpty {
            problems.append(
                "shape "
                    + differing.map { "\($0.name): file \(inFile[$0.name]!), model \($0.shape)" }
                    .joined(separator: ", "))
        }
        if !problems.isEmpty {
            throw FileError(
                path: file.path, reason: "\(what) do not match the model: \(problems.joined(separator: "; "))")
        }
    }

    /// Compact JSON with sorted keys, so equal configs give equal metadata.
    public static func jsonText(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
