// `base:` inheritance: merging over a chain of files, `_delete_`, overrides after the merge, and errors that name
// the file holding the offending key.
import Foundation
import Testing

@testable import Config

struct ConfigDocumentTests {
    /// A fresh directory with `files` (name -> text) written into it.
    static func directory(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("configdoc-\(UUID().uuidString)").path
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// The document's tree as plain values: [String: Any] mappings, [Any] lists, scalars as their text.
    static func plain(_ doc: ConfigDocument) throws -> String {
        try doc.decode { m in
            func render(_ m: ConfigMapping) throws -> String {
                try m.keys.sorted().map { k -> String in
                    if m.holdsMapping(k) { return "\(k): {\(try render(try m.mapping(k)))}" }
                    if m.holdsSequence(k) { return "\(k): [\(try m.values(k, String.self).joined(separator: ", "))]" }
                    let v: String? = try m.optional(k)
                    return "\(k): \(v ?? "null")"
                }.joined(separator: ", ")
            }
            return try render(m)
        }
    }

    static let base = """
        name: base
        data: {train: a, val: b, eps: '0.01'}
        residual: {mode: learnable, learnable_init: '6', clamp: '8'}
        loss: [l1, mu]
        """

    @Test func aChildChangesOnlyWhatDiffers() throws {
        let dir = try Self.directory([
            "base.yaml": Self.base,
            "sub/child.yaml": """
            base: ../base.yaml
            name: child
            data: {eps: '0.1', workers: '2'}
            residual: {_delete_: true, mode: adaptive, k: '0.9', clamp: null}
            loss: [huber]
            """,
            "grandchild.yaml": "base: sub/child.yaml\nname: grandchild\ndata: {val: c}\n"
        ])
        let child = try ConfigDocument.load(path: dir + "/sub/child.yaml")
        #expect(
            try Self.plain(child)
                == "data: {eps: 0.1, train: a, val: b, workers: 2}, loss: [huber], name: child, "
                + "residual: {clamp: null, k: 0.9, mode: adaptive}")
        let grand = try ConfigDocument.load(path: dir + "/grandchild.yaml", overrides: ["data.train=z"])
        #expect(
            try Self.plain(grand)
                == "data: {eps: 0.1, train: z, val: c, workers: 2}, loss: [huber], name: grandchild, "
                + "residual: {clamp: null, k: 0.9, mode: adaptive}")
        #expect(grand.chain.count == 3)
        // Without _delete_ the residual merges key by key: the base's learnable_init stays.
        let merged = try Self.directory([
            "base.yaml": Self.base, "c.yaml": "base: base.yaml\nresidual: {mode: adaptive}\n"
        ])
        #expect(
            try Self.plain(ConfigDocument.load(path: merged + "/c.yaml")).contains(
                "residual: {clamp: 8, learnable_init: 6, mode: adaptive}"))
    }

    /// A bad key that the base file holds is reported against the base file; the child's own keys, and keys an
    /// override set, against the child.
    @Test func errorsNameTheFileThatHoldsTheKey() throws {
        let dir = try Self.directory(["base.yaml": Self.base, "child.yaml": "base: base.yaml\nname: child\n"])
        let doc = try ConfigDocument.load(path: dir + "/child.yaml")
        func failure(_ doc: ConfigDocument, _ key: String) -> ConfigError? {
            do {
                try doc.decode { m in throw m.error(key, "bad") }
                return nil
            } catch {
                return error as? ConfigError
            }
        }
        #expect(failure(doc, "data")?.file == dir + "/base.yaml")
        #expect(failure(doc, "name")?.file == dir + "/child.yaml")
        let overridden = try ConfigDocument.load(path: dir + "/child.yaml", overrides: ["data.eps=3"])
        #expect(overridden.origin(of: "data.eps") == nil && overridden.origin(of: "data.train") == dir + "/base.yaml")
    }

    @Test func aMissingBaseACycleAndABadDeleteAreOneLineErrors() throws {
        let dir = try Self.directory([
            "missing.yaml": "base: nowhere.yaml\nname: m\n",
            "a.yaml": "base: b.yaml\n", "b.yaml": "base: a.yaml\n",
            "flag.yaml": "base: a2.yaml\nresidual: {_delete_: yes please}\n", "a2.yaml": Self.base,
            "number.yaml": "base: 3\n"
        ])
        func message(_ name: String) -> String {
            do {
                _ = try ConfigDocument.load(path: dir + "/" + name)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("missing.yaml") == "config error: base: \(dir)/nowhere.yaml: No such file or directory")
        #expect(message("a.yaml").hasPrefix("config error: base: the bases form a cycle: "))
        #expect(message("a.yaml").hasSuffix("/a.yaml -> \(dir)/b.yaml -> \(dir)/a.yaml"))
        #expect(message("flag.yaml") == "config error: residual._delete_: expected true (or no _delete_ at all)")
        #expect(message("number.yaml") == "config error: base: expected a string, found integer 3")
    }
}
