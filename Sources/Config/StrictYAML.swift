// Entry point of strict configuration reading: YAML text or file -> a ConfigMapping, every failure a ConfigError.
import Glibc
import Yams

package enum StrictYAML {
    /// Parses one YAML document whose top level must be a mapping.
    /// - Parameter file: only names the document in errors.
    package static func parse(_ text: String, file: String? = nil) throws -> ConfigMapping {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw syntaxError(e, file: file)
        } catch {
            throw ConfigError(keyPath: "", reason: "YAML error: \(error)", file: file)
        }
        guard let root else {
            throw ConfigError(keyPath: "", reason: "empty document; expected a mapping", file: file)
        }
        guard case .mapping = root else {
            throw ConfigError(
                keyPath: "", reason: "expected a mapping at the top level, found \(found(root))",
                file: file, line: root.mark?.line)
        }
        return try ConfigMapping(root, path: "", file: file)
    }

    /// Reads and parses a UTF-8 YAML file; an unreadable file is a ConfigError naming it in `file`.
    package static func load(path: String) throws -> ConfigMapping {
        try parse(try readText(path), file: path)
    }

    /// Whole-file read with errno's wording ("No such file or directory"), matching the image readers.
    static func readText(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ConfigError(keyPath: "", reason: String(cString: strerror(errno)), file: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ConfigError(keyPath: "", reason: String(cString: strerror(errno)), file: path)
        }
        // A FIFO or device could block forever; a directory reads as an error anyway, but say it plainly.
        if (st.st_mode & S_IFMT) == S_IFDIR { throw ConfigError(keyPath: "", reason: "is a directory", file: path) }
        if (st.st_mode & S_IFMT) != S_IFREG { throw ConfigError(keyPath: "", reason: "not a regular file", file: path) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConfigError(keyPath: "", reason: String(cString: strerror(errno)), file: path)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(keyPath: "", reason: "not UTF-8 text", file: path)
        }
        return text
    }

    static func syntaxError(_ e: YamlError, file: String?) -> ConfigError {
        func at(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> ConfigError {
            var reason = "YAML syntax error at line \(mark.line), column \(mark.column): \(problem)"
            if let c = context { reason += " (\(c.text) at line \(c.mark.line))" }
            return ConfigError(keyPath: "", reason: reason, file: file, line: mark.line)
        }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return at(mark, problem, context)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return ConfigError(
                keyPath: "", reason: "duplicate key \(keys) in the mapping at line \(context.mark.line)",
                file: file, line: context.mark.line)
        default:
            return ConfigError(keyPath: "", reason: "YAML error: \(e)", file: file)
        }
    }

    /// The YAML type of a node as errors name it: mapping, list, string, integer, number, boolean, null.
    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "alias"
        case .scalar:
            switch node.tag.description {
            case Tag.Name.str.rawValue: return "string"
            case Tag.Name.int.rawValue: return "integer"
            case Tag.Name.float.rawValue: return (node.float?.isFinite ?? false) ? "number" : "non-finite number"
            case Tag.Name.bool.rawValue: return "boolean"
            case Tag.Name.null.rawValue: return "null"
            case Tag.Name.timestamp.rawValue: return "timestamp"
            case let other: return "scalar tagged '\(other)'"
            }
        }
    }

    /// "integer 3", "string 'abc'", "list", "null": what was found, for "expected X, found Y".
    static func found(_ node: Node) -> String {
        let k = kind(of: node)
        guard case .scalar(let s) = node, k != "null" else { return k }
        var text = s.string
        if text.count > 40 { text = String(text.prefix(37)) + "..." }
        return k == "string" ? "string '\(text)'" : "\(k) \(text)"
    }
}

/// A scalar type a ConfigMapping can hand out.
package protocol ConfigValue: Sendable {
    /// How "expected ..." messages name the type, with its article: "a number", "an integer".
    static var expected: String { get }
    /// nil when the node is not of this type (no coercion between strings and numbers).
    static func fromYAML(_ node: Node) -> Self?
}

extension Double: ConfigValue {
    package static var expected: String { "a number" }
    /// Integers are numbers; non-finite values (.inf, .nan) are refused.
    package static func fromYAML(_ node: Node) -> Double? {
        switch StrictYAML.kind(of: node) {
        case "integer": return node.int.map(Double.init)
        case "number": return node.float
        default: return nil
        }
    }
}

extension Int: ConfigValue {
    package static var expected: String { "an integer" }
    /// `8.0` is not an integer: strict on purpose, a float where a count belongs is usually a mistake.
    package static func fromYAML(_ node: Node) -> Int? {
        StrictYAML.kind(of: node) == "integer" ? node.int : nil
    }
}

extension Bool: ConfigValue {
    package static var expected: String { "a boolean" }
    package static func fromYAML(_ node: Node) -> Bool? {
        StrictYAML.kind(of: node) == "boolean" ? node.bool : nil
    }
}

extension String: ConfigValue {
    package static var expected: String { "a string" }
    /// Only string-typed scalars: `name: 2024` must be quoted to be a string.
    package static func fromYAML(_ node: Node) -> String? {
        guard case .scalar(let s) = node, StrictYAML.kind(of: node) == "string" else { return nil }
        return s.string
    }
}

/// Any scalar, as its text was written (a number, a boolean or a string): for values handed on as
/// `--set key=value`, which parses them again with the same rules.
package struct ScalarText: ConfigValue, Equatable {
    package let text: String
    package init(_ text: String) { self.text = text }
    package static var expected: String { "a number, boolean or string" }
    package static func fromYAML(_ node: Node) -> ScalarText? {
        guard case .scalar(let s) = node, StrictYAML.kind(of: node) != "null" else { return nil }
        return ScalarText(s.string)
    }
}
