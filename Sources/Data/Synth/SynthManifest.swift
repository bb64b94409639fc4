// `manifest.json` of a synthesized dataset: how it was made and where every pair came from.
import Config
import EXRIO
import Foundation
import Glibc

/// Written last, atomically, so its presence marks a complete dataset. Keys in the file are snake_case:
/// `version, recipe_file, recipe, seed, patch (null with full), full, pairs: [{id, source, crop: {x, y, width, height}}]`.
/// Pair `id` names `input/<id>.exr` and `target/<id>.exr`; `crop` is in the source image's pixels.
package struct SynthManifest: Codable, Sendable, Equatable {
    package struct Crop: Codable, Sendable, Equatable {
        package var x, y, width, height: Int
        package init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
        }
    }

    package struct Pair: Codable, Sendable, Equatable {
        package var id: String
        /// The source path as given (directory entries joined to the directory), or `procedural:<j>`.
        package var source: String
        package var crop: Crop
        package init(id: String, source: String, crop: Crop) {
            self.id = id
            self.source = source
            self.crop = crop
        }
    }

    package static let fileName = "manifest.json"
    package static let currentVersion = 1

    package var version: Int
    package var recipeFile: String
    /// `DegradationRecipe.json`: every step with its defaults filled in.
    package var recipe: JSONValue
    package var seed: UInt64
    /// Patch side in pixels; nil for full images.
    package var patch: Int?
    package var full: Bool
    package var pairs: [Pair]

    package init(recipeFile: String, recipe: JSONValue, seed: UInt64, patch: Int?, full: Bool, pairs: [Pair]) {
        self.version = Self.currentVersion
        self.recipeFile = recipeFile
        self.recipe = recipe
        self.seed = seed
        self.patch = patch
        self.full = full
        self.pairs = pairs
    }

    enum CodingKeys: String, CodingKey {
        case version
        case recipeFile = "recipe_file"
        case recipe, seed, patch, full, pairs
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(recipeFile, forKey: .recipeFile)
        try c.encode(recipe, forKey: .recipe)
        try c.encode(seed, forKey: .seed)
        try c.encode(patch, forKey: .patch)  // explicit null for full images rather than a missing key
        try c.encode(full, forKey: .full)
        try c.encode(pairs, forKey: .pairs)
    }

    package static func read(path: String) throws -> SynthManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(path: path, reason: "cannot read the manifest")
        }
        do {
            return try JSONDecoder().decode(SynthManifest.self, from: data)
        } catch {
            throw FileError(path: path, reason: "not a synth manifest: \(error)")
        }
    }

    /// Writes pretty, key-sorted JSON atomically (`FileBytes.atomicWrite`).
    package func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self) + Data("\n".utf8)
        do {
            try FileBytes.atomicWrite(path, bytes: Array(data))
        } catch let e as FileError {
            throw FileError(path: e.path, reason: e.reason)
        }
    }
}
