// `hdrpatch synth`: written pairs and manifest, crops that re-cut from the source, one-line errors, exit codes.
import Config
import Data
import EXRIO
import Foundation
import TestSupport
import Testing

struct SynthCLITests {
    let float = EXRWriteOptions(pixelType: .float, compression: .zip)

    func writeRecipe(_ dir: ScratchDir, _ name: String, _ text: String) throws -> String {
        try text.write(toFile: dir.file(name), atomically: true, encoding: .utf8)
        return dir.file(name)
    }

    @Test func writesPairsWhoseManifestCropsReCutTheTarget() throws {
        let dir = ScratchDir()
        var a = HDRImage(width: 40, height: 24)
        var b = HDRImage(width: 24, height: 40)
        for i in a.pixels.indices { a.pixels[i] = Float(i % 251) * 0.37 + 0.01 }
        for i in b.pixels.indices { b.pixels[i] = Float(i % 241) * 90 + 0.5 }  // beyond the half range
        try EXRWriter.write(a, to: dir.file("a.exr"), options: float)
        try EXRWriter.write(b, to: dir.file("b.exr"), options: float)
        let recipe = try writeRecipe(dir, "none.yaml", "name: none\nsteps: []\n")
        let r = try CLI.run([
            "synth", "--from", dir.file("a.exr"), "--from", dir.file("b.exr"), "--recipe", recipe,
            "--out", dir.file("ds"), "--patch", "16", "--count", "10", "--seed", "4"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(
            r.stdout.hasPrefix(
                "wrote 10 pairs (16x16 patches from 2 source(s)) to \(dir.file("ds")); mean luminance dynamic range: input "
            ))
        let m = try SynthManifest.read(path: dir.file("ds/manifest.json"))
        #expect(m.pairs.count == 10 && m.seed == 4 && m.patch == 16 && m.recipeFile == recipe)
        for p in m.pairs {
            let src = p.source == dir.file("a.exr") ? a : b
            let target = try ImageReader.read(path: dir.file("ds/target/\(p.id).exr")).image
            let input = try ImageReader.read(path: dir.file("ds/input/\(p.id).exr")).image
            #expect(target == input)
            var cut = HDRImage(width: 16, height: 16)
            for c in 0..<3 { for y in 0..<16 { for x in 0..<16 { cut[c, y, x] = src[c, p.crop.y + y, p.crop.x + x] } } }
            #expect(target == cut, "pair \(p.id) from \(p.source) at \(p.crop)")
        }
    }

    @Test func defaultRecipeOnProceduralScenes() throws {
        let dir = ScratchDir()
        let recipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/degrade/default.yaml").path
        let r = try CLI.run([
            "synth", "--from", "procedural", "--recipe", recipe, "--out", dir.file("p"), "--count", "3"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let m = try SynthManifest.read(path: dir.file("p/manifest.json"))
        #expect(m.pairs.map(\.source) == ["procedural:0", "procedural:0", "procedural:0"])
        #expect(m.pairs.allSatisfy { $0.crop.width == 64 && $0.crop.height == 64 })
        guard case .object(let o) = m.recipe, case .string("phone") = o["name"] else {
            Issue.record("recipe not recorded: \(m.recipe)")
            return
        }
        let again = try CLI.run([
            "synth", "--from", "procedural", "--recipe", recipe, "--out", dir.file("p"), "--count", "3"
        ])
        #expect(again.status == 1)
        #expect(
            again.stderr
                == "error: \(dir.file("p")): already holds a dataset (manifest.json); use --force to replace it\n")
        let forced = try CLI.run([
            "synth", "--from", "procedural", "--recipe", recipe, "--out", dir.file("p"), "--count", "2", "--force"
        ])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try SynthManifest.read(path: dir.file("p/manifest.json")).pairs.count == 2)
    }

    /// --compression picks the pair files' compression (zip by default); the pixels do not depend on it.
    @Test func compressionOptionWritesThatCompression() throws {
        let dir = ScratchDir()
        var a = HDRImage(width: 40, height: 24)
        for i in a.pixels.indices { a.pixels[i] = Float(i % 251) * 0.37 + 0.01 }
        try EXRWriter.write(a, to: dir.file("a.exr"), options: float)
        let recipe = try writeRecipe(dir, "none.yaml", "name: none\nsteps: []\n")
        for c in ["none", "zip"] {
            var args = [
                "synth", "--from", dir.file("a.exr"), "--recipe", recipe, "--out", dir.file(c), "--patch", "8",
                "--count", "3", "--seed", "2"
            ]
            if c == "none" { args += ["--compression", "none"] }
            let r = try CLI.run(args)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for id in try SynthManifest.read(path: dir.file("none/manifest.json")).pairs.map(\.id) {
            let raw = try ImageReader.read(path: dir.file("none/target/\(id).exr"))
            let zipped = try ImageReader.read(path: dir.file("zip/target/\(id).exr"))
            #expect(raw.info.compression == "none" && zipped.info.compression == "zip")
            #expect(raw.image == zipped.image)
        }
        let bad = try CLI.run([
            "synth", "--from", dir.file("a.exr"), "--recipe", recipe, "--out", dir.file("x"),
            "--compression", "jpeg"
        ])
        #expect(bad.status == 64)
        #expect(
            bad.stderr.contains(
                "unknown compression 'jpeg'; known: none, rle, zips, zip, piz, pxr24, b44, b44a, dwaa, dwab"))
    }

    @Test func badRecipeKeyIsOneConfigErrorLine() throws {
        let dir = ScratchDir()
        let recipe = try writeRecipe(dir, "bad.yaml", "name: x\nsteps:\n  - type: blur\n    sigmaa: 1.5\n")
        let r = try CLI.run(["synth", "--from", "procedural", "--recipe", recipe, "--out", dir.file("o")])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(recipe): config error: steps.0.sigma: missing required key\n")
        let typo = try writeRecipe(dir, "typo.yaml", "name: x\nsteps:\n  - type: blur\n    sigma: 1\n    sigmaa: 1.5\n")
        let t = try CLI.run(["synth", "--from", "procedural", "--recipe", typo, "--out", dir.file("o")])
        #expect(t.status == 1)
        #expect(t.stderr == "error: \(typo): config error: steps.0.sigmaa: unknown key (did you mean 'sigma'?)\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("o")))
        let missing = try CLI.run([
            "synth", "--from", "procedural", "--recipe", dir.file("nope.yaml"), "--out", dir.file("o")
        ])
        #expect(missing.stderr == "error: \(dir.file("nope.yaml")): config error: No such file or directory\n")
    }

    @Test func missingSourceIsOneErrorLine() throws {
        let dir = ScratchDir()
        let recipe = try writeRecipe(dir, "none.yaml", "name: none\nsteps: []\n")
        let r = try CLI.run(["synth", "--from", dir.file("gone.exr"), "--recipe", recipe, "--out", dir.file("o")])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(dir.file("gone.exr")): No such file or directory\n")
        #expect(r.stdout.isEmpty)
        var small = HDRImage(width: 8, height: 8, fill: 1)
        small[0, 0, 0] = 2
        try EXRWriter.write(small, to: dir.file("small.exr"), options: float)
        let s = try CLI.run(["synth", "--from", dir.file("small.exr"), "--recipe", recipe, "--out", dir.file("o")])
        #expect(s.status == 1)
        #expect(s.stderr == "error: \(dir.file("small.exr")): image is 8 x 8, smaller than the 64 x 64 patch\n")
    }

    @Test func helpAndUsageErrors() throws {
        let h = try CLI.run(["synth", "--help"])
        #expect(h.status == 0)
        #expect(
            h.stdout.contains("USAGE: hdrpatch synth") && h.stdout.contains("--from") && h.stdout.contains("--full"))
        let u = try CLI.run(["synth", "--recipe", "r.yaml", "--out", "o"])
        #expect(u.status == 64)
        #expect(u.stderr.contains("give at least one --from"))
    }

    /// Sources as renderers write them (RGBA half: PIZ scanline, ZIP tiles, a mip-mapped texture; written by PyPI
    /// openexr and maketx) feed a synthesis run; the patches are cut from what OpenEXR decodes.
    @Test func rgbaHalfSourcesFromOtherWritersSynthesize() throws {
        let dir = ScratchDir()
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/interop")
        let sources = ["layout-RGBA-half-piz.exr", "storage-tiled-half-zip.exr", "levels-mipmap-half-piz.exr"]
            .map { fixtures.appendingPathComponent($0).path }
        let recipe = try writeRecipe(dir, "none.yaml", "name: none\nsteps: []\n")
        let r = try CLI.run(
            ["synth"] + sources.flatMap { ["--from", $0] } + [
                "--recipe", recipe, "--out", dir.file("ds"),
                "--patch", "32", "--count", "6", "--seed", "2"
            ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        let m = try SynthManifest.read(path: dir.file("ds/manifest.json"))
        #expect(m.pairs.count == 6)
        for p in m.pairs {
            let src = try ImageReader.read(path: p.source).image
            let target = try ImageReader.read(path: dir.file("ds/target/\(p.id).exr")).image
            var cut = HDRImage(width: 32, height: 32)
            for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { cut[c, y, x] = src[c, p.crop.y + y, p.crop.x + x] } } }
            #expect(target == cut, "pair \(p.id) from \(p.source) at \(p.crop)")
        }
    }
}
