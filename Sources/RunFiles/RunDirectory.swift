// The names of a run directory's files, in one place: the trainer, the CLI, the ablation and the reports find
// every file of a run through this type.
import Glibc

/// `<path>/config.yaml`, the logs, `checkpoints/` and the report of one run.
package struct RunDirectory: Sendable, Equatable {
    package let path: String

    package init(_ path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    package static let configName = "config.yaml"
    package static let metricsName = "metrics.jsonl"
    package static let monitorName = "monitor.jsonl"
    package static let incidentsName = "incidents.csv"
    /// TensorBoard event files start with this (`events.out.tfevents.<unix seconds>.<hostname>`).
    package static let eventFilePrefix = "events.out.tfevents."
    package static let checkpointsName = "checkpoints"
    package static let reportHTMLName = "report.html"
    package static let reportMarkdownName = "report.md"
    /// What `ablate` captures of a run's output (stdout and stderr of its `train`).
    package static let trainLogName = "train.log"
    /// The pictures written when the run ends (`val-<pair>.png`, `test-<pair>.png`, `overflow-step<N>-<pair>.png`),
    /// which the report embeds.
    package static let imagesName = "images"
    /// What every picture in `images/` shows (Training's ComparisonPicture draws them), for the report's caption.
    package static let imagesCaption =
        "Top row: input | restored | target, tone-mapped as PSNR-mu sees them (mu-law of tanh(x / q), q the target's "
        + "99th percentile), and the log error |log(restored + eps) - log(target + eps)| (the model's eps) from 0 "
        + "(black) to 1 or more (pale yellow). Bottom row, the highlights the top row shows as white: input | restored "
        + "| target as log2 luminance from the target crop's median (black; at least 8 and at most 20 stops down) to its "
        + "brightest pixel (pale yellow; "
        + "a flat fill is one colour, a highlight has levels), and the restored luminance against the target's in "
        + "stops (black: equal; red: brighter, blue: darker, full colour at 2 stops). "
        + "Crops of 256 x 256 centred on the target's brightest pixel. val-*: validation images; test-*: the "
        + "held-out test set, one per source photograph; overflow-step<N>-*: the training patches of the worst "
        + "overflow incidents (most overflow pixels), at the incident's crop position before augmentation, restored "
        + "by the checkpoint the run ended with (not by the model of step N)."

    package func file(_ name: String) -> String { path + "/" + name }

    /// The resolved config the run was started with (and resumes with).
    package var config: String { file(Self.configName) }
    package var metrics: String { file(Self.metricsName) }
    package var monitor: String { file(Self.monitorName) }
    package var incidents: String { file(Self.incidentsName) }
    package var checkpoints: String { file(Self.checkpointsName) }
    package var reportHTML: String { file(Self.reportHTMLName) }
    package var reportMarkdown: String { file(Self.reportMarkdownName) }
    package var trainLog: String { file(Self.trainLogName) }
    package var images: String { file(Self.imagesName) }

    /// The checkpoint a run saves as it goes and resumes from: `checkpoints/latest.safetensors` (weights)
    /// beside its state file (the training engine's CheckpointPair manages the two).
    package static let latestCheckpointName = "latest"
    /// The weights with the best validation PSNR-mu so far.
    package var best: String { Self.best(in: checkpoints) }
    package var latestWeights: String { checkpoints + "/" + Self.latestCheckpointName + ".safetensors" }

    package static func best(in checkpoints: String) -> String { checkpoints + "/best.safetensors" }

    /// Whether `path` holds a run (its config.yaml).
    package var exists: Bool { access(config, F_OK) == 0 }
}
