// `--set key.path=value` overrides, applied to the YAML tree before strict decoding so that an override is
// validated exactly like the file's own content (same types, bounds, unknown-key errors and suggestions).
import Foundation
import Yams

/// One parsed `--set` argument: a dotted path (mapping keys by name, list items by index) and a YAML value.
package struct ConfigOverride: Sendable, Equatable {
    /// The argument as given, for error messages (`config error: --set <argument>: ...`).
    package let argument: String
    package let path: [String]
    /// The text after the first `=`, read as one YAML scalar or flow collection (`2`, `null`, `{arch: unet}`).
    package let valueText: String

    /// - Throws: ConfigError for a missing `=`, an empty path component or an empty value.
    package init(parsing argument: String) throws {
        self.argument = argument
        guard let eq = argument.firstIndex(of: "=") else {
            throw ConfigError(keyPath: "--set \(argument)", reason: "no '=' (expected key.path=value)")
        }
        let pathText = String(argument[..<eq])
        valueText = String(argument[argument.index(after: eq)...])
        path = pathText.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !pathText.isEmpty, !path.contains(where: \.isEmpty) else {
            throw ConfigError(
                keyPath: "--set \(argument)", reason: "empty key in '\(pathText)' (expected key.path=value)")
        }
        // An empty value would silently mean null in YAML; null must be said.
        guard !valueText.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigError(keyPath: "--set \(argument)", reason: "no value after '=' (write null for null)")
        }
    }

    /// Where errors about this override point: `--set <path>`.
    var label: String { "--set \(path.joined(separator: "."))" }

    /// The value as a YAML node.
    func valueNode() throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: valueText) else {
                throw ConfigError(keyPath: label, reason: "no value after '=' (write null for null)")
            }
            return node
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError(keyPath: label, reason: "value '\(valueText)' is not valid YAML: \(error)")
        }
    }

    /// Returns `root` with the value set at the path. A missing (or null) intermediate mapping entry is
    /// created as a mapping, so `schedule.type=cosine` works when the file has no `schedule:`; a list is
    /// never extended (an index past the end is an error), and a scalar is never walked into.
    func apply(to root: Node) throws -> Node {
        try set(path[...], in: root, value: try valueNode(), walked: [])
    }

    private func set(_ rest: ArraySlice<String>, in node: Node, value: Node, walked: [String]) throws -> Node {
        guard let key = rest.first else { return value }
        let here = walked.isEmpty ? "the document" : "'\(walked.joined(separator: "."))'"
        switch node {
        case .mapping(var m):
            var pairs = Array(m)
            if let i = pairs.firstIndex(where: { String.fromYAML($0.key) == key }) {
                let child = pairs[i].value
                let base = StrictYAML.isNull(child) && rest.count > 1 ? Node.mapping(Node.Mapping([])) : child
                pairs[i].value = try set(rest.dropFirst(), in: base, value: value, walked: walked + [key])
            } else {
                let fresh = Node.mapping(Node.Mapping([]))
                let child = try set(rest.dropFirst(), in: fresh, value: value, walked: walked + [key])
                pairs.append((key: Node(key, Tag(.str)), value: child))
            }
            m = Node.Mapping(pairs.map { ($0.key, $0.value) }, m.tag, m.style, m.mark)
            return .mapping(m)
        case .sequence(var s):
            guard let i = Int(key), i >= 0, String(i) == key else {
                throw ConfigError(keyPath: label, reason: "\(here) is a list; '\(key)' is not an item index")
            }
            guard i < s.count else {
                throw ConfigError(keyPath: label, reason: "list has \(s.count) item\(s.count == 1 ? "" : "s")")
            }
            s[i] = try set(rest.dropFirst(), in: s[i], value: value, walked: walked + [key])
            return .sequence(s)
        default:
            throw ConfigError(
                keyPath: label, reason: "\(here) is \(StrictYAML.kindWithArticle(node)), not a mapping or list")
        }
    }
}

extension StrictYAML {
    static func isNull(_ node: Node) -> Bool {
        if case .scalar = node { return node.tag.description == Tag.Name.null.rawValue }
        return false
    }

    /// "a string", "an integer", "null": for "x is a string, not a mapping".
    static func kindWithArticle(_ node: Node) -> String {
        if isNull(node) { return "null" }
        guard case .scalar = node else { return "an alias" }
        switch node.tag.description {
        case Tag.Name.str.rawValue: return "a string"
        case Tag.Name.int.rawValue: return "an integer"
        case Tag.Name.float.rawValue: return "a number"
        case Tag.Name.bool.rawValue: return "a boolean"
        default: return "a scalar"
        }
    }
}
