// Listing the image files of one directory of a data root (input/ or target/).
import Glibc

enum ImageDirectory {
    /// Extensions the loader reads (case-insensitive); other files are not images of the set.
    static let extensions: Set<String> = ["exr", "hdr"]

    /// Names (not paths) of the `.exr` and `.hdr` entries of `dir`, sorted; hidden entries (leading `.`) are
    /// ignored. Entries are not stat'ed: a directory or dangling link with an image name is listed and
    /// then fails loudly when read.
    static func list(_ dir: String) throws -> [String] {
        guard let handle = opendir(dir) else {
            throw LoaderError("cannot open directory \(dir): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name.hasPrefix(".") { continue }
            guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { continue }
            if extensions.contains(name[name.index(after: dot)...].lowercased()) { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether `path` is a directory (following links).
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `root` and `name` joined with one slash.
    static func join(_ root: String, _ name: String) -> String {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        return r.hasSuffix("/") ? r + name : r + "/" + name
    }
}
