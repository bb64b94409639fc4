// `hdrpatch evaluate`: validation metrics of a checkpoint on a paired set of full images, model vs identity.
import ArgumentParser
import Data
import Foundation
import Numerics
import Reports
import RunFiles
import Training

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a checkpoint on a paired set (DIR/input, DIR/target) against the identity baseline.",
        discussion: """
            Every image is restored whole, tiled exactly like `restore`. Metrics are per image, then the mean \
            over images: PSNR-mu (NTIRE: 99th percentile of the reference, tanh, mu-law mu = 5000, peak 1), \
            PU21-PSNR (banding_glare, reference maximum -> 4000 cd/m2, peak 256), log-L1, each loss term of \
            the config's loss: section when it has one; PSNRs are capped at 100 dB per image. Overflow pixels \
            (a channel non-finite or above 65504) and incidents (images with any) are counted. The identity \
            baseline uses the input as the output. --weights ema|raw picks the EMA or the raw weights of a \
            checkpoint that holds both (train.ema; default ema); the table's first line and the JSON's \
            "checkpoint" object say which were scored. --json prints {"checkpoint": {"path", "weights", "step"}, \
            "model": {...}, "identity": {...}}; non-finite numbers are written as the strings "inf", "-inf", "nan". \
            --per-image adds a row per image (its file, PSNR-mu model and identity, the gains in PSNR-mu, PU21 \
            and in clip, its clipped share) and, with --json, "images": [{"name", "model", "identity"}].
            """
    )

    @OptionGroup var model: CheckpointOptions

    @Option(help: "Paired data root with input/ and target/ (full images of any size).")
    var data: String

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "Also score every image alone: a row per image (with --json, an \"images\" list).")
    var perImage = false

    @Option(
        help: ArgumentHelp(
            "Write a picture per image into this directory (<pair>.png): input | restored | target, tone-mapped as "
                + "PSNR-mu sees them, and a log-error heat map; below them the same crops as log2 luminance over "
                + "the target crop's median to its brightest pixel, and the restored luminance's error in stops.",
            valueName: "dir"))
    var images: String?

    func run() throws {
        try model.withModel { loaded, restorer in
            let dataset = try PairedDataset(
                root: data, config: LoaderConfig(patchSize: 1, batchSize: 1, workers: 0),
                warn: { FileHandle.standardError.write(Foundation.Data(($0 + "\n").utf8)) })
            if let images { try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true) }
            var rows: [ImageScore] = []
            let (model, identity) = try Evaluator.scoreImages(
                of: dataset, model: loaded.model, loss: loaded.loss, restorer: restorer
            ) { i, input, restored, target, scores in
                if perImage { rows.append(scores) }
                guard let images else { return }
                let name = (dataset.pairs[i].name as NSString).deletingPathExtension
                try ComparisonPicture.write(
                    images + "/\(name).png", input: input, restored: restored, target: target,
                    eps: loaded.model.logNorm.eps)
            }
            if json {
                let info = CheckpointInfo(
                    path: self.model.checkpoint, weights: loaded.weights.rawValue, step: loaded.step,
                    selfEnsemble: loaded.model.selfEnsemble.count)
                print(
                    try Self.jsonText(model: model, identity: identity, checkpoint: info, images: perImage ? rows : nil)
                )
            } else {
                print(
                    Self.table(
                        model: model, identity: identity, images: dataset.pairs.count, step: loaded.step,
                        weights: loaded.inferenceDescription))
                if perImage { print(Self.imageTable(rows)) }
            }
        }
    }

    /// What was scored: the file, which of its weights (`raw` or `ema`), its step and the network passes per patch.
    struct CheckpointInfo: Encodable {
        var path: String
        var weights: String
        var step: Int?
        var selfEnsemble: Int = 1

        enum CodingKeys: String, CodingKey {
            case path, weights, step
            case selfEnsemble = "self_ensemble"
        }
    }

    /// `{"checkpoint": {...}, "identity": {...}, "model": {...}}` with EvalMetrics' keys, sorted, on one line; with
    /// `images`, also `"images": [{"identity", "model", "name"}]` in the set's order.
    static func jsonText(
        model: EvalMetrics, identity: EvalMetrics, checkpoint: CheckpointInfo, images: [ImageScore]? = nil
    ) throws -> String {
        struct Output: Encodable {
            var checkpoint: CheckpointInfo
            var model: EvalMetrics
            var identity: EvalMetrics
            var images: [ImageScore]?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let output = Output(checkpoint: checkpoint, model: model, identity: identity, images: images)
        return String(decoding: try encoder.encode(output), as: UTF8.self)
    }

    /// A row per image: PSNR-mu of model and identity, the gains (model - identity) in PSNR-mu, PU21-PSNR and PSNR-mu
    /// in the clipped (or region) pixels, and the image's share of such pixels. "n/a" where the image has none.
    static func imageTable(_ rows: [ImageScore]) -> String {
        let width = max("per image".count, rows.map(\.name.count).max() ?? 0) + 2
        func gain(_ m: Double?, _ i: Double?) -> String {
            guard let m, let i else { return "n/a" }
            return String(format: "%+.2f", m - i)
        }
        let region = rows.first?.model.regionName ?? "clip"
        var lines = [
            "per image".padding(toLength: width, withPad: " ", startingAt: 0) + "psnr_mu".leftPad(10)
                + "identity".leftPad(10) + "gain".leftPad(8) + "pu21 gain".leftPad(11) + "gain in \(region)".leftPad(14)
                + "in \(region) %".leftPad(12)
        ]
        for r in rows {
            lines.append(
                r.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(format: "%.2f", r.model.psnrMu).leftPad(10)
                    + String(format: "%.2f", r.identity.psnrMu).leftPad(10)
                    + gain(r.model.psnrMu, r.identity.psnrMu).leftPad(8)
                    + gain(r.model.pu21Psnr, r.identity.pu21Psnr).leftPad(11)
                    + gain(r.model.psnrMuClip, r.identity.psnrMuClip).leftPad(14)
                    + String(format: "%.1f", 100 * r.model.clipFraction).leftPad(12))
        }
        return lines.joined(separator: "\n")
    }

    static func table(model: EvalMetrics, identity: EvalMetrics, images: Int, step: Int?, weights: String) -> String {
        func row(_ name: String, _ m: String, _ i: String) -> String {
            // Never cut a name ("pu21_psnr in holes (dB)", a long loss term's): at least one space after it.
            name.padding(toLength: max(24, name.count + 1), withPad: " ", startingAt: 0) + m.leftPad(14) + i.leftPad(14)
        }
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        func opt(_ v: Double?) -> String { v.map(f) ?? "n/a" }
        let region = model.regionName
        var lines = [
            "\(images) image(s)" + (step.map { ", checkpoint step \($0)" } ?? "") + ", \(weights)",
            row("metric", "model", "identity"),
            row("psnr_mu NTIRE (dB)", f(model.psnrMu), f(identity.psnrMu)),
            row("pu21_psnr (dB)", f(model.pu21Psnr), f(identity.pu21Psnr)),
            row("log_l1", f(model.logL1), f(identity.logL1)),
            row("psnr_mu in \(region) (dB)", opt(model.psnrMuClip), opt(identity.psnrMuClip)),
            row("pu21_psnr in \(region) (dB)", opt(model.pu21PsnrClip), opt(identity.pu21PsnrClip)),
            row("log-luminance corr in \(region)", opt(model.logCorrClip), opt(identity.logCorrClip)),
            // The in-clip pixels are the input's (dilated), the holes the set's masks: the same for model and identity.
            row(
                "in \(region) (% of pixels)", String(format: "%.2f", 100 * model.clipFraction),
                String(format: "%.2f", 100 * identity.clipFraction)),
            row(
                region == "clip" ? "images with clipping" : "images with \(region)", "\(model.clipSamples)",
                "\(identity.clipSamples)")
        ]
        for name in model.terms.keys.sorted() {
            lines.append(row("loss: \(name)", f(model.terms[name]!), f(identity.terms[name] ?? .nan)))
        }
        if !model.terms.isEmpty { lines.append(row("loss (weighted total)", f(model.loss), f(identity.loss))) }
        lines.append(row("overflow_pixels", "\(model.overflowPixels)", "\(identity.overflowPixels)"))
        lines.append(row("overflow_incidents", "\(model.overflowIncidents)", "\(identity.overflowIncidents)"))
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String {
        count >= n ? " " + self : String(repeating: " ", count: n - count) + self
    }
}
