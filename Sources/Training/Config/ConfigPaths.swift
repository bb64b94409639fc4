// Path-valued config keys: a directory or file named in a config must exist when the config is read, so a
// typo stops the run before any training instead of an hour later.
import Config
import Foundation

/// Whether path-valued keys are checked against the file system while a config is read. `ablate` reads every
/// run's config before starting any with the checks off, so a bad key fails at once while a data set that does
/// not exist yet is left to the run that needs it.
package enum ConfigPathChecks {
    @TaskLocal package static var enabled = true
}

extension ConfigMapping {
    /// The required string at `key`, which must name an existing directory (relative paths are taken from
    /// the current directory, not the config file's: `make train` runs from the repository root).
    func existingDirectory(_ key: String) throws -> String {
        try checkedDirectory(key, try required(key))
    }

    /// The optional string at `key` (absent or null: nil), which must name an existing directory.
    func optionalExistingDirectory(_ key: String) throws -> String? {
        guard let path: String = try optional(key) else { return nil }
        return try checkedDirectory(key, path)
    }

    private func checkedDirectory(_ key: String, _ path: String) throws -> String {
        guard ConfigPathChecks.enabled else { return path }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw error(key, "no such directory '\(path)'")
        }
        guard isDir.boolValue else { throw error(key, "'\(path)' is a file, expected a directory") }
        return path
    }

    /// The optional string at `key` (absent or null: nil), which must name an existing regular file.
    func optionalExistingFile(_ key: String) throws -> String? {
        guard let path: String = try optional(key) else { return nil }
        guard ConfigPathChecks.enabled else { return path }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw error(key, "no such file '\(path)'")
        }
        guard !isDir.boolValue else { throw error(key, "'\(path)' is a directory, expected a file") }
        return path
    }
}
