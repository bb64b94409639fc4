// Where `synth` takes clean images from: image files (explicit or every image of a directory) or our own scenes.
import EXRIO
import Foundation

package enum SynthSources: Sendable, Equatable {
    /// Image files in source-index order.
    case files([String])
    /// Scenes rendered by `ProceduralScene`.
    case procedural

    /// The word that selects procedural scenes in `--from` (a file literally named so needs `./procedural`).
    package static let proceduralName = "procedural"
    /// Extensions a directory is scanned for, compared case-insensitively.
    package static let imageExtensions = ["exr", "hdr"]

    /// Resolves `--from` values: `procedural` alone, or any mix of files and directories. A directory
    /// contributes every .exr/.hdr file directly in it, sorted by name; files keep the order given.
    /// - Throws: FileError naming the path that does not exist or holds no image, or `--from` when the mix is invalid.
    package static func resolve(_ values: [String]) throws -> SynthSources {
        guard !values.isEmpty else {
            throw FileError(path: "--from", reason: "no source given: name image files, a directory, or 'procedural'")
        }
        if values.contains(proceduralName) {
            guard values.count == 1 else {
                throw FileError(path: "--from", reason: "'procedural' cannot be combined with other sources")
            }
            return .procedural
        }
        var files: [String] = []
        for value in values {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory) else {
                throw FileError(path: value, reason: "No such file or directory")
            }
            guard isDirectory.boolValue else {
                files.append(value)
                continue
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: value)
            } catch {
                throw FileError(path: value, reason: "cannot list the directory")
            }
            let images = names.filter { name in
                let ext = (name as NSString).pathExtension.lowercased()
                return imageExtensions.contains(ext) && !name.hasPrefix(".")
            }.sorted()
            guard !images.isEmpty else {
                throw FileError(path: value, reason: "no .exr or .hdr files in the directory")
            }
            let prefix = value.hasSuffix("/") ? value : value + "/"
            files += images.map { prefix + $0 }
        }
        return .files(files)
    }
}
