// Shared by the TrainConfig tests: a scratch tree with data directories and a weights file, and a minimal config.
import Config
import Foundation
import TestSupport
@testable import Training

/// `<scratch>/train`, `<scratch>/val` (empty directories: the config only checks that they exist) and
/// `<scratch>/w.safetensors` (an empty file, for `train.init_from`).
final class TrainConfigFixture: @unchecked Sendable {
    let scratch = ScratchDir()
    var train: String { scratch.file("train") }
    var val: String { scratch.file("val") }
    var weights: String { scratch.file("w.safetensors") }

    init() {
        try! FileManager.default.createDirectory(atPath: scratch.file("train"), withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(atPath: scratch.file("val"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: scratch.file("w.safetensors"), contents: Data())
    }

    /// Every required key and nothing else.
    var minimal: String {
        """
        name: t
        data:
          train: \(train)
          val: \(val)
        model: {arch: plain, depth: 2, width: 4}
        residual: {mode: learnable, clamp: 8.0}
        loss:
          - {type: huber, weight: 2.0}
        optim: {type: adamw, lr: 1.0e-3}
        train: {steps: 10, grad_clip: null}
        """
    }

    /// The data overrides that point a committed config at this fixture's directories.
    var dataOverrides: [String] { ["data.train=\(train)", "data.val=\(val)"] }

    func parse(_ overrides: [String] = []) throws -> TrainConfig {
        try TrainConfig.parse(text: minimal, overrides: overrides)
    }

    /// The printed error of parsing the minimal config with `overrides`, or "no error".
    func message(_ overrides: [String]) -> String { configMessage { try self.parse(overrides) } }
}

/// The repository's configs/ directory.
let configsDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("configs").path
}()
