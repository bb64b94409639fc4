// A YAML mapping read strictly: typed values, required/default keys, bounds, and no key left unread.
import Yams

/// Reads one mapping of a configuration document. Every accessor records the key as known; `finish()`
/// then fails on the first key nobody read, suggesting a known key within edit distance 2.
/// Not thread-safe: read a mapping on one thread, then drop it.
package final class ConfigMapping {
    /// Key path of this mapping from the document root ("" for the root itself).
    package let path: String
    package let file: String?
    /// 1-based line where the mapping starts, when known.
    package let line: Int?
    private let entries: [(key: String, keyNode: Node, value: Node)]
    private var used: Set<String> = []
    private var asked: Set<String> = []

    /// - Throws: ConfigError when `node` is not a mapping or has a key that is not a string.
    package init(_ node: Node, path: String, file: String?) throws {
        guard case .mapping(let m) = node else {
            throw ConfigError(
                keyPath: path, reason: "expected a mapping, found \(StrictYAML.found(node))",
                file: file, line: node.mark?.line)
        }
        self.path = path
        self.file = file
        self.line = node.mark?.line
        var entries: [(String, Node, Node)] = []
        for (k, v) in m {
            guard let key = String.fromYAML(k) else {
                throw ConfigError(
                    keyPath: path, reason: "keys must be strings, found \(StrictYAML.found(k))",
                    file: file, line: k.mark?.line)
            }
            entries.append((key, k, v))
        }
        self.entries = entries
    }

    /// Keys in document order.
    package var keys: [String] { entries.map(\.key) }

    /// Whether the key is present. Asking makes the key known (for suggestions) but does not consume it.
    package func contains(_ key: String) -> Bool {
        asked.insert(key)
        return node(key) != nil
    }

    /// Whether the key's value is a mapping (a key that may hold a scalar or a mapping). Does not consume it.
    package func holdsMapping(_ key: String) -> Bool {
        asked.insert(key)
        if case .mapping = node(key) { return true }
        return false
    }

    /// Whether the key's value is a sequence (a key that may hold a number or a [low, high] range). Does not
    /// consume it.
    package func holdsSequence(_ key: String) -> Bool {
        asked.insert(key)
        if case .sequence = node(key) { return true }
        return false
    }

    /// An error at `<path>.<key>`, for checks the caller makes itself.
    package func error(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(keyPath: configPath(path, key), reason: reason, file: file, line: node(key)?.mark?.line ?? line)
    }

    // MARK: Scalars

    /// - Throws: when the key is missing, null, or of another type.
    package func required<T: ConfigValue>(_ key: String, _ type: T.Type = T.self) throws -> T {
        guard let v = try optional(key, type) else {
            throw error(key, node(key) == nil ? "missing required key" : "expected \(T.expected), found null")
        }
        return v
    }

    /// nil when the key is absent or null.
    package func optional<T: ConfigValue>(_ key: String, _ type: T.Type = T.self) throws -> T? {
        guard let n = take(key) else { return nil }
        if StrictYAML.kind(of: n) == "null" { return nil }
        guard let v = T.fromYAML(n) else { throw error(key, "expected \(T.expected), found \(StrictYAML.found(n))") }
        return v
    }

    /// `defaultValue` when the key is absent; an explicit null is a type error (say what you mean or leave it out).
    package func value<T: ConfigValue>(_ key: String, default defaultValue: T) throws -> T {
        guard node(key) != nil else {
            asked.insert(key)
            return defaultValue
        }
        return try required(key, T.self)
    }

    package func required<T: ConfigValue & Comparable>(_ key: String, in bounds: ConfigBounds<T>) throws -> T {
        try check(key, try required(key, T.self), bounds)
    }

    package func optional<T: ConfigValue & Comparable>(_ key: String, in bounds: ConfigBounds<T>) throws -> T? {
        try optional(key, T.self).map { try check(key, $0, bounds) }
    }

    /// The default is not checked against the bounds: it is the code's own choice.
    package func value<T: ConfigValue & Comparable>(
        _ key: String, default defaultValue: T,
        in bounds: ConfigBounds<T>
    ) throws -> T {
        guard node(key) != nil else {
            asked.insert(key)
            return defaultValue
        }
        return try required(key, in: bounds)
    }

    /// Returns `value` when it satisfies `bounds`, else fails with "must be > 0, got -1.0".
    @discardableResult
    package func check<T: Comparable>(_ key: String, _ value: T, _ bounds: ConfigBounds<T>) throws -> T {
        guard bounds.contains(value) else { throw error(key, "must be \(bounds), got \(value)") }
        return value
    }

    // MARK: Nested

    package func mapping(_ key: String) throws -> ConfigMapping {
        guard let m = try optionalMapping(key) else { throw error(key, "missing required key") }
        return m
    }

    /// nil when absent; null is a type error.
    package func optionalMapping(_ key: String) throws -> ConfigMapping? {
        guard let n = take(key) else { return nil }
        return try ConfigMapping(n, path: configPath(path, key), file: file)
    }

    /// A required list of mappings (possibly empty); item i has key path `<key>.<i>`.
    package func mappings(_ key: String) throws -> [ConfigMapping] {
        try list(key).enumerated().map { i, n in
            try ConfigMapping(n, path: configPath(configPath(path, key), "\(i)"), file: file)
        }
    }

    /// A required list of scalars of one type (possibly empty).
    package func values<T: ConfigValue>(_ key: String, _ type: T.Type = T.self) throws -> [T] {
        try list(key).enumerated().map { i, n in
            guard let v = T.fromYAML(n) else {
                throw ConfigError(
                    keyPath: configPath(configPath(path, key), "\(i)"),
                    reason: "expected \(T.expected), found \(StrictYAML.found(n))", file: file, line: n.mark?.line)
            }
            return v
        }
    }

    private func list(_ key: String) throws -> [Node] {
        guard let n = take(key) else { throw error(key, "missing required key") }
        guard case .sequence(let s) = n else { throw error(key, "expected a list, found \(StrictYAML.found(n))") }
        return Array(s)
    }

    // MARK: Completion

    /// Fails on the first key (in document order) that no accessor read.
    /// - Parameter known: keys the owner accepts besides those already asked for (e.g. a step's declared keys,
    ///   some of which are only read conditionally); they feed the suggestion.
    package func finish(known: [String] = []) throws {
        for e in entries where !used.contains(e.key) {
            let candidates = asked.union(known).sorted()
            let reason: String
            if let s = DidYouMean.suggest(e.key, among: candidates) {
                reason = "unknown key (did you mean '\(s)'?)"
            } else if candidates.isEmpty {
                reason = "unknown key (this mapping takes no keys)"
            } else {
                reason = "unknown key; known keys: \(candidates.joined(separator: ", "))"
            }
            throw ConfigError(keyPath: configPath(path, e.key), reason: reason, file: file, line: e.keyNode.mark?.line)
        }
    }

    private func node(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    private func take(_ key: String) -> Node? {
        asked.insert(key)
        guard let n = node(key) else { return nil }
        used.insert(key)
        return n
    }
}

/// An allowed interval for a configured number; prints as the requirement it states (`> 0`, `in [1, 16]`).
package struct ConfigBounds<T: Comparable>: CustomStringConvertible {
    package var lower: T?
    package var lowerInclusive: Bool
    package var upper: T?
    package var upperInclusive: Bool

    package init(lower: T?, lowerInclusive: Bool, upper: T?, upperInclusive: Bool) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    package static func atLeast(_ v: T) -> Self {
        Self(lower: v, lowerInclusive: true, upper: nil, upperInclusive: false)
    }
    package static func greaterThan(_ v: T) -> Self {
        Self(lower: v, lowerInclusive: false, upper: nil, upperInclusive: false)
    }
    package static func within(_ r: ClosedRange<T>) -> Self {
        Self(lower: r.lowerBound, lowerInclusive: true, upper: r.upperBound, upperInclusive: true)
    }

    package func contains(_ v: T) -> Bool {
        if let lo = lower, lowerInclusive ? v < lo : v <= lo { return false }
        if let hi = upper, upperInclusive ? v > hi : v >= hi { return false }
        return true
    }

    package var description: String {
        switch (lower, upper) {
        case (let lo?, let hi?):
            return "in \(lowerInclusive ? "[" : "(")\(lo), \(hi)\(upperInclusive ? "]" : ")")"
        case (let lo?, nil): return "\(lowerInclusive ? ">=" : ">") \(lo)"
        case (nil, let hi?): return "\(upperInclusive ? "<=" : "<") \(hi)"
        case (nil, nil): return "any value"
        }
    }
}
