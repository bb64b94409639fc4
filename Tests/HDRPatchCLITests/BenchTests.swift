// `hdrpatch bench`: EXR and loader timings run, report their units, and fail cleanly on bad input.
import EXRIO
import Foundation
import TestSupport
import Testing

struct BenchTests {
    struct Report: Decodable {
        struct Row: Decodable {
            var name: String
            var threads: Int
            var median_ms: Double
            var per_second: Double
            var unit: String
            var gflop_per_s: Double?
            var percent_of_sgemm_peak: Double?
        }
        var what: String
        var rows: [Row]
    }

    @Test func exrTimingsPerThreadCount() throws {
        let dir = ScratchDir()
        let path = dir.file("a.exr")
        try EXRWriter.write(
            HDRImage(width: 64, height: 32, fill: 0.5), to: path, options: EXRWriteOptions(compression: .dwab))
        let r = try CLI.run([
            "bench", "--what", "exr", "--file", path, "--threads", "0", "2", "--repeats", "3", "--json"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8))
        #expect(report.what == "exr")
        #expect(report.rows.map(\.threads) == [0, 2])
        #expect(report.rows.allSatisfy { $0.unit == "Mpixel/s" && $0.per_second > 0 && $0.median_ms > 0 })
    }

    @Test func loaderTimingsOnASmallSet() throws {
        let dir = ScratchDir()
        for sub in ["input", "target"] {
            try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true)
            for i in 0..<3 {
                try EXRWriter.write(
                    HDRImage(width: 40, height: 40, fill: Float(i + 1)), to: dir.file("\(sub)/p\(i).exr"))
            }
        }
        let r = try CLI.run([
            "bench", "--what", "loader", "--data", dir.path, "--patch", "16", "--batch", "4",
            "--threads", "0", "1", "--repeats", "5"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("loader \(dir.path): 3 pairs"))
        #expect(r.stdout.contains("loader 0 worker(s): "))
        #expect(r.stdout.contains("loader 1 worker(s): "))
    }

    @Test func trainingStepAndForwardRowsPerThreadCount() throws {
        let r = try CLI.run([
            "bench", "--what", "step", "--depth", "2", "--width", "4", "--patch", "16", "--batch", "2",
            "--threads", "1", "2", "--steps", "2", "--json"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8))
        let names = ["sgemm 2048", "step plain d2 w4", "forward plain d2 w4"]
        #expect(report.rows.map(\.name) == names + names)
        #expect(report.rows.map(\.threads) == [1, 1, 1, 2, 2, 2])
        #expect(report.rows.allSatisfy { $0.median_ms > 0 })
        let peaks = report.rows.filter { $0.name == "sgemm 2048" }
        #expect(peaks.allSatisfy { $0.unit == "GFLOP/s" && $0.per_second > 1 })
        // Convolution FLOPs of d2 w4 at batch 2 x 16 x 16: forward 2 * (4*3*9 + 3*4*9) * 512 = 221184 FLOP.
        for row in report.rows where row.name.hasPrefix("forward") {
            let expected = 221_184 / (row.median_ms / 1e3) / 1e9
            #expect(abs((row.gflop_per_s ?? 0) - expected) <= 1e-6 * expected)
            #expect((row.percent_of_sgemm_peak ?? 0) > 0)
        }
    }

    /// --layers: one line per U-Net layer (forward, backward, weight gradient, transforms, total) and their sum
    /// beside the step; a plain network is a one-line error.
    @Test func layerTableOfAUNetStep() throws {
        let r = try CLI.run([
            "bench", "--what", "step", "--arch", "unet", "--width", "4", "--levels", "1", "--patch", "16", "--batch",
            "2", "--threads", "1", "--steps", "2", "--layers"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("per layer, ms per step") })
        let names = [
            "enc.0.conv1 3x3 3->4", "enc.0.conv2 3x3 4->4", "enc.1.conv1 3x3 s2 4->8", "enc.1.conv2 3x3 8->8",
            "dec.0.conv1 3x3 12->4", "dec.0.conv2 3x3 4->4", "out 1x1 4->3"
        ]
        var sum = 0.0
        for (k, name) in names.enumerated() {
            let line = lines[header + 1 + k]
            #expect(line.contains(name), "\(line)")
            // forward backward grad transforms = total (percent); each printed to 0.005, so the sum of the four
            // rounded values is within 5 x 0.005 of the rounded total.
            let numbers = line.split(separator: "=")[0].split(separator: " ").suffix(4).compactMap { Double($0) }
            let total = Double(line.split(separator: "=")[1].split(separator: " ")[0]) ?? -1
            #expect(numbers.count == 4 && abs(numbers.reduce(0, +) - total) <= 0.0251, "\(line)")
            sum += total
        }
        let all = lines[header + 1 + names.count]
        #expect(all.contains("all layers") && all.contains("ms per step x 1 thread(s)"), "\(all)")
        let allTotal = Double(all.split(separator: "=")[1].split(separator: " ")[0]) ?? -1
        #expect(abs(allTotal - sum) <= 0.005 * Double(names.count + 1) + 1e-9 && allTotal > 0, "\(all)")

        let plain = try CLI.run(["bench", "--what", "step", "--depth", "2", "--width", "4", "--steps", "1", "--layers"])
        #expect(plain.status == 64 && plain.stderr.contains("--layers"), "\(plain.stderr)")
    }

    /// --config times the config's own network (here shrunk with --set): rows named after the config.
    @Test func configStepRowsUseTheConfigsNetworkAndBatch() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let config = repo + "/configs/plain.yaml"
        // The step runs on synthetic patches: data directories that do not exist are not an error here.
        let data = ["--set", "data.train=\(repo)/no-such-dir/train", "--set", "data.val=\(repo)/no-such-dir/val"]
        let r = try CLI.run(
            ["bench", "--what", "step", "--config", config] + data + [
                "--set", "model.depth=2", "--set", "model.width=4",
                "--set", "data.batch_size=2", "--set", "data.patch_size=16", "--threads", "1", "--steps", "2", "--json"
            ])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8))
        #expect(report.rows.map(\.name) == ["sgemm 2048", "step config plain", "forward config plain"])
        // The FLOPs of plain d2 w4 with the default's 6 input planes (log_norm, clip_mask) at batch 2 x 16 x 16:
        // 2 x (6 x 4 + 4 x 3) x 9 x 256 x 2 = 331776 FLOP forward: the config's network, inputs and batch.
        let forward = try #require(report.rows.last)
        let expected = 331_776 / (forward.median_ms / 1e3) / 1e9
        #expect(abs((forward.gflop_per_s ?? 0) - expected) <= 1e-6 * expected)

        let bad = try CLI.run(["bench", "--what", "step", "--config", config] + data + ["--set", "model.widht=4"])
        #expect(bad.status == 1)
        #expect(
            bad.stderr.hasPrefix("error: ") && bad.stderr.contains("model.widht")
                && bad.stderr.filter { $0 == "\n" }.count == 1,
            "\(bad.stderr)")
        let orphan = try CLI.run(["bench", "--what", "step", "--set", "model.width=4"])
        #expect(orphan.status == 64)
        #expect(orphan.stderr.contains("--set overrides keys of --config"))
    }

    @Test func badInputIsOneErrorLine() throws {
        let dir = ScratchDir()
        let r = try CLI.run(["bench", "--what", "loader", "--data", dir.file("none")])
        #expect(r.status == 1)
        #expect(r.stderr == "error: cannot open directory \(dir.file("none"))/input: No such file or directory\n")
        let e = try CLI.run(["bench", "--what", "exr"])
        #expect(e.status == 64)
        #expect(e.stderr.contains("--what exr needs at least one --file"))
        // A misspelt network is refused, not timed as the plain one.
        let arch = try CLI.run(["bench", "--what", "step", "--arch", "unett"])
        #expect(arch.status == 64)
        #expect(
            arch.stderr.contains("unett") && arch.stderr.contains("plain") && arch.stderr.contains("unet"),
            "\(arch.stderr)")
    }

    /// HDRPATCH_SIMD caps the kernels (and OpenBLAS's core) at a smaller machine's: what a run computes on an AVX2
    /// machine, on this one. A user's OPENBLAS_CORETYPE is kept (some machines set one in their environment, so the
    /// first run takes it away). An unknown level is one error line and exit status 2.
    @Test func simdCapPicksTheKernelsAndTheBLASCore() throws {
        let args = ["bench", "--what", "step", "--depth", "2", "--width", "4", "--threads", "1", "--steps", "1"]
        let generic = try CLI.run(args, environment: ["HDRPATCH_SIMD": "generic"], unsetting: ["OPENBLAS_CORETYPE"])
        #expect(generic.status == 0, "\(generic.stderr)")
        #expect(generic.stdout.contains("core Prescott; convolution kernels: generic"), "\(generic.stdout)")
        let chosen = try CLI.run(args, environment: ["HDRPATCH_SIMD": "generic", "OPENBLAS_CORETYPE": "Haswell"])
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(chosen.stdout.contains("core Haswell; convolution kernels: generic"), "\(chosen.stdout)")
        let bad = try CLI.run(args, environment: ["HDRPATCH_SIMD": "avx9"])
        #expect(bad.status == 2)
        #expect(bad.stderr == "error: HDRPATCH_SIMD: unknown level 'avx9' (avx512, avx2 or generic)\n")
    }
}
