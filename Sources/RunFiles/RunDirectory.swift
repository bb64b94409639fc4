// The names of a run directory's files, in one place: the trainer, the CLI, the ablation and the reports find
// every file of a run through this type.
import Glibc

/// `<path>/config.yaml`, the logs, `checkpoints/` and the report of one run.
public struct RunDirectory: Sendable, Equatable {
    public let path: String

    public init(_ path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    public static let configName = "config.yaml"
    public static let metricsName = "metrics.jsonl"
    public static let monitorName = "monitor.jsonl"
    public static let incidentsName = "incidents.csv"
    /// TensorBoard event files start with this (`events.out.tfevents.<unix seconds>.<hostname>`).
    public static let eventFilePrefix = "events.out.tfevents."
    public static let checkpointsName = "checkpoints"
    public static let reportHTMLName = "report.html"
    public static let reportMarkdownName = "report.md"
    /// What `ablate` captures of a run's output (stdout and stderr of its `train`).
    public static let trainLogName = "train.log"
    /// The pictures written when the run ends (`val-<pair>.png`, `test-<pair>.png`, `overflow-step<N>-<pair>.png`),
    /// which the report embeds.
    public static let imagesName = "images"
    /// What every picture in `images/` shows (Training's ComparisonPicture draws them), for the report's caption.
    public static let imagesCaption =
        "Input | restored | target, tone-mapped as PSNR-mu sees them (mu-law of tanh(x / q), q the target's 99th "
        + "percentile), and the log error |log(restored + eps) - log(target + eps)| (the model's eps) from 0 (black) to 1 or more "
        + "(pale yellow); "
        + "crops of 256 x 256 centred on the target's brightest pixel. val-*: validation images; test-*: the "
        + "held-out test set, one per source photograph; overflow-step<N>-*: the training patches of the worst "
        + "overflow incidents (most overflow pixels), at the incident's crop position before augmentation, restored "
        + "by the checkpoint the run ended with (not by the model of step N)."

    public func file(_ name: String) -> String { path + "/" + name }

    /// The resolved config the run was started with (and resumes with).
    public var config: String { file(Self.configName) }
    public var metrics: String { file(Self.metricsName) }
    public var monitor: String { file(Self.monitorName) }
    public var incidents: String { file(Self.incidentsName) }
    public var checkpoints: String { file(Self.checkpointsName) }
    public var reportHTML: String { file(Self.reportHTMLName) }
    public var reportMarkdown: String { file(Self.reportMarkdownName) }
    public var trainLog: String { file(Self.trainLogName) }
    public var images: String { file(Self.imagesName) }

    /// The checkpoint a run saves as it goes and resumes from: `checkpoints/latest.safetensors` (weights)
    /// beside its state file (the training engine's CheckpointPair manages the two).
    public static let latestCheckpointName = "latest"
    /// The weights with the best validation PSNR-mu so far.
    public var best: String { Self.best(in: checkpoints) }
    public var latestWeights: String { checkpoints + "/" + Self.latestCheckpointName + ".safetensors" }

    public static func best(in checkpoints: String) -> String { checkpoints + "/best.safetensors" }

    /// Whether `path` holds a run (its config.yaml).
    public var exists: Bool { access(config, F_OK) == 0 }
}
