// configs/README.md's table of the committed configs is made from the files: this test fails when a file and the
// table disagree, and prints the table to paste (or writes it with HDRPATCH_WRITE_CONFIGS_TABLE=1).
import Config
import Foundation
import Testing

@testable import Training

struct ConfigsReadmeTests {
    static let start = "<!-- configs table: made from the files by Tests/TrainingTests/ConfigsReadmeTests.swift -->"
    static let end = "<!-- end of configs table -->"

    static func number(_ v: JSONValue?) -> String {
        switch v {
        case .integer(let i)?: return String(i)
        case .number(let d)?: return String(format: "%g", d)
        case .null?, nil: return "null"
        case .string(let s)?: return s
        default: return "?"
        }
    }

    static func object(_ v: JSONValue?) -> [String: JSONValue] {
        if case .object(let o)? = v { return o }
        return [:]
    }

    /// One row: file, base, residual, loss, training data, model, steps; from the resolved config.
    static func row(file: String, base: String?, _ c: TrainConfig) -> String {
        let root = object(c.resolved)
        let r = object(root["residual"])
        let mode = number(r["mode"])
        let own = ["fixed_cap": ["cap", "alpha"], "adaptive": ["k"], "learnable": ["learnable_init"]][mode] ?? []
        var residual = [mode] + own.map { "\($0) \(number(r[$0]))" }
        if let s = r["scale"], number(s) != "1" { residual.append("scale \(number(s))") }
        residual.append(r["clamp"] == .null ? "no clamp" : "clamp \(number(r["clamp"]))")
        let loss = c.loss.terms.map { "\($0.name) \(String(format: "%g", $0.weight))" }.joined(separator: " + ")
        let data =
            (c.data.trainRecipe.map { "on the fly from `\(c.data.train)` with `\($0)`" } ?? "pairs `\(c.data.train)`")
            + ", eps \(String(format: "%g", c.data.eps))"
        let m = object(root["model"])
        let inputs: String
        if case .array(let planes)? = m["inputs"] {
            inputs = planes.map { number($0) }.joined(separator: " + ")
        } else {
            inputs = "log_norm"
        }
        let arch = number(m["arch"])
        let shape =
            arch == "unet"
            ? "unet w\(number(m["width"])) l\(number(m["levels"]))"
            : "\(arch) d\(number(m["depth"])) w\(number(m["width"]))"
        let ensemble = m["self_ensemble"].map { ", self-ensemble \(number($0))" } ?? ""
        return
            "| `\(file)` | \(base.map { "`\($0)`" } ?? "") | \(residual.joined(separator: ", ")) | \(loss) | \(data) | "
            + "\(shape), \(inputs)\(ensemble) | \(c.train.steps) |"
    }

    static func table() throws -> String {
        let files = try FileManager.default.contentsOfDirectory(atPath: configsDirectory)
            .filter { $0.hasSuffix(".yaml") && $0 != "ablation.yaml" }.sorted { a, b in
                // default.yaml first, then by name.
                (a == "default.yaml" ? "" : a) < (b == "default.yaml" ? "" : b)
            }
        var lines = [
            "| file | base | residual | loss | training data | model | steps |",
            "| --- | --- | --- | --- | --- | --- | --- |"
        ]
        for f in files {
            let path = configsDirectory + "/" + f
            let base = try StrictYAML.load(path: path).optional("base", String.self)
            let c = try ConfigPathChecks.$enabled.withValue(false) { try TrainConfig.load(path: path) }
            lines.append(row(file: f, base: base, c))
        }
        return lines.joined(separator: "\n")
    }

    @Test func theTableIsTheFiles() throws {
        let readme = configsDirectory + "/README.md"
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        let expected = try Self.table()
        guard let a = text.range(of: Self.start + "\n"),
            let b = text.range(of: "\n" + Self.end, range: a.upperBound..<text.endIndex)
        else {
            Issue.record("configs/README.md has no \(Self.start) ... \(Self.end) block")
            return
        }
        let current = String(text[a.upperBound..<b.lowerBound])
        if current != expected && ProcessInfo.processInfo.environment["HDRPATCH_WRITE_CONFIGS_TABLE"] == "1" {
            try (String(text[..<a.upperBound]) + expected + String(text[b.lowerBound...]))
                .write(toFile: readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(
            current == expected,
            "configs/README.md's table differs from the files; rerun with HDRPATCH_WRITE_CONFIGS_TABLE=1 or paste:\n\(expected)"
        )
    }
}
