// A configuration file as training and inference read it: strict YAML, merged over the chain of files its `base:`
// names, then `--set` overrides; errors name the file that holds the offending key.
import Foundation
import Yams

/// `base: FILE` (a path relative to the directory of the file that names it, or absolute) makes a file an edit of
/// another: the base's document is read first (with its own `base:`, to any depth), and this file's keys go over
/// it. Mappings merge key by key, to any depth; any other value (a scalar, null, a list such as `loss:`) replaces
/// the base's. A mapping holding `_delete_: true` (mmengine's spelling) replaces the base's mapping whole instead of
/// merging into it (`residual: {_delete_: true, mode: adaptive, k: 0.9, clamp: 8.0}` drops the base's
/// `learnable_init`). `base` and `_delete_` are not part of the result.
package struct ConfigDocument {
    /// The merged tree, overrides applied.
    package let root: Node
    /// The file that was asked for; error messages name it unless the key came from a base file.
    package let file: String?
    /// For each key path of the merged tree, the file that set it (`file` for its own keys and overrides).
    package let origins: [String: String]

    /// What `origins` calls a document parsed from memory.
    static let unnamed = "(config)"

    /// The chain of files read, the asked-for file first.
    package let chain: [String]

    /// Reads `path` and its bases, then applies `overrides` (`key.path=value`, in order).
    /// - Throws: ConfigError naming the file that failed (unreadable, bad YAML, a `base:` cycle or a missing base).
    package static func load(path: String, overrides: [String] = []) throws -> ConfigDocument {
        try compose(text: StrictYAML.readText(path), file: path, overrides: overrides)
    }

    /// The same for text in memory; a relative `base:` is then relative to the current directory.
    package static func parse(text: String, file: String? = nil, overrides: [String] = []) throws -> ConfigDocument {
        try compose(text: text, file: file, overrides: overrides)
    }

    /// Decodes the merged tree with `body`; a ConfigError about a key that a base file set names that file.
    package func decode<T>(_ body: (ConfigMapping) throws -> T) throws -> T {
        do {
            return try body(ConfigMapping(root, path: "", file: file))
        } catch var e as ConfigError {
            if let origin = origin(of: e.keyPath) {
                e.file = origin
                e.line = nil
            }
            throw e
        }
    }

    /// The base file that set `keyPath` or the nearest mapping above it; nil for this file's own keys.
    func origin(of keyPath: String) -> String? {
        var parts = keyPath.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            if let f = origins[parts.joined(separator: ".")] { return f == (file ?? Self.unnamed) ? nil : f }
            parts.removeLast()
        }
        return nil
    }

    private init(root: Node, file: String?, origins: [String: String], chain: [String]) {
        self.root = root
        self.file = file
        self.origins = origins
        self.chain = chain
    }

    private static func compose(text: String, file: String?, overrides: [String]) throws -> ConfigDocument {
        var chain: [String] = []
        var (root, origins) = try merged(text: text, file: file, chain: &chain)
        let name = file ?? unnamed
        for o in try overrides.map(ConfigOverride.init(parsing:)) {
            root = try o.apply(to: root)
            // An override is the asked-for file's: forget where the base had put that key.
            let path = o.path.joined(separator: ".")
            origins = origins.filter { $0.key != path && !$0.key.hasPrefix(path + ".") }
            origins[path] = file ?? name
        }
        return ConfigDocument(root: root, file: file, origins: origins, chain: chain)
    }

    /// One file's tree over its bases', and who set each key path.
    private static func merged(text: String, file: String?, chain: inout [String]) throws -> (Node, [String: String]) {
        let name = file ?? unnamed
        let canonical = file.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? name
        if chain.contains(canonical) {
            throw ConfigError(
                keyPath: "base",
                reason: "the bases form a cycle: \((chain + [canonical]).joined(separator: " -> "))",
                file: chain.last)
        }
        chain.append(canonical)
        let checked = try StrictYAML.parse(text, file: file)
        guard let own = try Yams.compose(yaml: text) else {
            throw ConfigError(keyPath: "", reason: "empty document; expected a mapping", file: file)
        }
        guard checked.keys.contains("base") else { return (own, origins(of: own, file: name, path: "")) }
        let baseName: String = try checked.required("base")
        let directory = file.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."
        let basePath = baseName.hasPrefix("/") ? baseName : directory == "." ? baseName : directory + "/" + baseName
        let baseText: String
        do {
            baseText = try StrictYAML.readText(basePath)
        } catch let e as ConfigError {
            throw ConfigError(keyPath: "base", reason: "\(basePath): \(e.reason)", file: file)
        }
        let (base, baseOrigins) = try merged(text: baseText, file: basePath, chain: &chain)
        var origins = baseOrigins
        let root = try overlay(own, on: base, file: name, path: "", origins: &origins)
        return (root, origins)
    }

    /// Every key path of `node` (mappings walked) set by `file`.
    private static func origins(of node: Node, file: String, path: String) -> [String: String] {
        var out: [String: String] = [:]
        guard case .mapping(let m) = node else { return out }
        for (k, v) in m {
            guard let key = String.fromYAML(k) else { continue }
            let p = path.isEmpty ? key : path + "." + key
            out[p] = file
            out.merge(origins(of: v, file: file, path: p)) { $1 }
        }
        return out
    }

    /// The key that makes a mapping replace the base's instead of merging into it.
    static let deleteKey = "_delete_"

    /// `top` over `base`: mappings key by key (or whole, with `_delete_: true`), anything else replaces. The top
    /// level's `base` key is dropped.
    private static func overlay(
        _ top: Node, on base: Node, file: String, path: String, origins: inout [String: String]
    ) throws -> Node {
        guard case .mapping(let t) = top, case .mapping(let b) = base else { return top }
        var pairs: [(Node, Node)] = Array(b).map { ($0.key, $0.value) }
        func forget(_ p: String) { origins = origins.filter { $0.key != p && !$0.key.hasPrefix(p + ".") } }
        for (k, v) in t {
            guard let key = String.fromYAML(k), !(path.isEmpty && key == "base") else { continue }
            let p = path.isEmpty ? key : path + "." + key
            let i = pairs.firstIndex { String.fromYAML($0.0) == key }
            var v = v
            var replace = false
            if case .mapping(let m) = v, let flag = m.first(where: { String.fromYAML($0.key) == deleteKey }) {
                guard Bool.fromYAML(flag.value) == true else {
                    throw ConfigError(
                        keyPath: p + "." + deleteKey, reason: "expected true (or no \(deleteKey) at all)", file: file)
                }
                replace = true
                v = .mapping(
                    Node.Mapping(
                        m.filter { String.fromYAML($0.key) != deleteKey }.map { ($0.key, $0.value) }, m.tag, m.style,
                        m.mark))
            }
            if let i, !replace, case .mapping = v, case .mapping = pairs[i].1 {
                origins[p] = file
                pairs[i].1 = try overlay(v, on: pairs[i].1, file: file, path: p, origins: &origins)
            } else {
                forget(p)
                origins.merge(Self.origins(of: v, file: file, path: p)) { $1 }
                origins[p] = file
                if let i { pairs[i] = (k, v) } else { pairs.append((k, v)) }
            }
        }
        return .mapping(Node.Mapping(pairs, t.tag, t.style, t.mark))
    }
}
