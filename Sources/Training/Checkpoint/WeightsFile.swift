import Config
import EXRIO
import Foundation
import Numerics
// Model weights as safetensors: saving a ParameterStore's values, and loading them back (resume, `train.init_from`).
import RunFiles

/// The weights file holds every parameter of the store under its PyTorch name, in registration order, little-endian
/// F32, so `safetensors.torch.load_file` gives a state dict a plain PyTorch module with those names accepts.
/// `__metadata__`: `config` (the resolved run config as JSON), `step` (updates done, decimal) and any extra keys.
/// A run with `train.ema` also writes the EMA of the weights, after the raw ones, under the same names prefixed
/// with `ema.` (`ema.layers.0.weight`), and the metadata key `ema_decay`: the raw weights keep their plain names,
/// and every load states which of the two sets it reads (`WeightSet`), so neither is taken for the other silently.
package enum WeightsFile {
    /// Which weights of a file to load: the trained ones (plain names) or their EMA (`ema.` names).
    package enum WeightSet: String, Sendable, CaseIterable {
        case raw, ema
    }

    /// The prefix of the EMA tensors' names.
    package static let emaPrefix = "ema."

    /// Whether the file holds EMA weights (any tensor named `ema.*`).
    package static func holdsEMA(_ file: SafetensorsFile) -> Bool {
        file.tensors.contains { $0.name.hasPrefix(emaPrefix) }
    }

    /// `<path>: holds no EMA weights (no 'ema.' tensors), only the raw ones`.
    static func noEMA(_ path: String) -> FileError {
        FileError(path: path, reason: "holds no EMA weights (no '\(emaPrefix)' tensors), only the raw ones")
    }

    /// Whether the weights file at `path` holds EMA weights.
    package static func holdsEMA(path: String) throws -> Bool { holdsEMA(try SafetensorsFile.read(path: path)) }

    /// `run/ckpt.safetensors` -> `run/ckpt.state.safetensors` (the optimizer/resume state beside it).
    package static func statePath(forWeights path: String) -> String {
        let suffix = ".safetensors"
        return (path.hasSuffix(suffix) ? String(path.dropLast(suffix.count)) : path) + ".state.safetensors"
    }

    /// Writes the store's values (and `ema`'s, when given) atomically. `extra` must not use the keys `config`,
    /// `step` or `ema_decay`.
    package static func save(
        _ store: ParameterStore, to path: String, config: JSONValue, step: Int, ema: WeightEMA? = nil,
        extra: [String: String] = [:]
    ) throws {
        var metadata = extra
        precondition(
            metadata["config"] == nil && metadata["step"] == nil && metadata["ema_decay"] == nil,
            "extra metadata reuses config/step/ema_decay")
        metadata["config"] = jsonText(config)
        metadata["step"] = String(step)
        if let ema { metadata["ema_decay"] = String(ema.decay) }
        try save(store, to: path, metadata: metadata, ema: ema)
    }

    /// Writes the store's values atomically with exactly this metadata; with `ema`, its values follow under
    /// `ema.<name>`.
    package static func save(
        _ store: ParameterStore, to path: String, metadata: [String: String], ema: WeightEMA? = nil
    ) throws {
        func refs(_ values: UnsafeBufferPointer<Float>, prefix: String) -> [Safetensors.TensorRef] {
            store.entries.map { e in
                Safetensors.TensorRef(
                    name: prefix + e.name, shape: e.shape,
                    values: UnsafeBufferPointer(rebasing: values[e.offset..<(e.offset + e.count)]))
            }
        }
        var all = refs(UnsafeBufferPointer(store.values), prefix: "")
        if let ema { all += refs(UnsafeBufferPointer(ema.values), prefix: emaPrefix) }
        try Safetensors.write(all, metadata: metadata, to: path)
    }

    /// Loads the `weights` set of `path` into the store's values, bit for bit, and with `ema` the file's EMA
    /// weights into it too (the weights half of a resume); this is also `train.init_from` and inference.
    /// The file must hold exactly the store's names and shapes, plus, when it holds any `ema.` tensor, exactly
    /// the same set under `ema.`; otherwise nothing is changed and one error lists every missing, unexpected and
    /// shape-differing name. Asking for EMA weights from a file without them is an error naming the file.
    /// - Returns: the file's metadata.
    @discardableResult
    package static func load(
        into store: ParameterStore, from path: String, weights: WeightSet, ema: WeightEMA? = nil
    ) throws -> [String: String] {
        let file = try SafetensorsFile.read(path: path)
        let hasEMA = holdsEMA(file)
        if !hasEMA && (weights == .ema || ema != nil) { throw noEMA(path) }
        var expected = store.entries.map { ($0.name, $0.shape) }
        if hasEMA { expected += store.entries.map { (emaPrefix + $0.name, $0.shape) } }
        try requireSameTensors(file, expected: expected, what: "parameters")
        let prefix = weights == .ema ? emaPrefix : ""
        for e in store.entries { file.copy(file.tensor(named: prefix + e.name)!, into: store.values(e)) }
        if let ema {
            precondition(ema.values.count == store.count, "EMA of \(ema.values.count) values, store of \(store.count)")
            for e in store.entries {
                file.copy(
                    file.tensor(named: emaPrefix + e.name)!,
                    into: UnsafeMutableBufferPointer(rebasing: ema.values[e.offset..<(e.offset + e.count)]))
            }
        }
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
    package static func jsonText(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
