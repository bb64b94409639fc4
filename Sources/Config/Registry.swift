// Configurable parts by their `type:` name: unknown names fail listing the known ones, duplicates fail at setup.

/// A table of constructors keyed by the `type` value of a config mapping.
package struct Registry<Product>: Sendable {
    package struct Entry: Sendable {
        package let type: String
        /// Keys the part reads besides `type` (for suggestions and documentation).
        package let keys: [String]
        package let make: @Sendable (ConfigMapping) throws -> Product

        package init(type: String, keys: [String], make: @escaping @Sendable (ConfigMapping) throws -> Product) {
            self.type = type
            self.keys = keys
            self.make = make
        }
    }

    /// What the parts are, for messages: "degradation step".
    package let kind: String
    /// Sorted by type.
    package let entries: [Entry]

    /// - Throws: RegistryError when two entries share a type name.
    package init(kind: String, _ entries: [Entry]) throws {
        var seen = Set<String>()
        for e in entries where !seen.insert(e.type).inserted {
            throw RegistryError(description: "duplicate \(kind) type '\(e.type)' in the registry")
        }
        self.kind = kind
        self.entries = entries.sorted { $0.type < $1.type }
    }

    package var types: [String] { entries.map(\.type) }

    /// Builds the part named by `config["type"]`, then requires every other key of the mapping to have been read.
    package func make(_ config: ConfigMapping) throws -> Product {
        let type = try config.required("type", String.self)
        guard let entry = entries.first(where: { $0.type == type }) else {
            throw config.error("type", DidYouMean.unknown(kind, type, among: types))
        }
        let product = try entry.make(config)
        try config.finish(known: entry.keys + ["type"])
        return product
    }
}

/// A programming error in a registry table (not a user's config error).
package struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    package init(description: String) { self.description = description }
}
