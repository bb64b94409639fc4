// Training progress on the terminal: a bar that redraws in place on a TTY, plain lines otherwise.
import Foundation
import Training

final class ProgressDisplay: @unchecked Sendable {
    private let isTTY = isatty(STDOUT_FILENO) == 1
    private let every: Int
    private var lastDraw = 0.0

    /// - Parameter every: on a non-terminal, one line every `every` steps (log_every).
    init(every: Int) { self.every = max(1, every) }

    func update(_ p: TrainingProgress) {
        let eta = p.stepsPerSecond > 0 ? Double(p.steps - p.step) / p.stepsPerSecond : .nan
        let text = String(
            format: "step %d/%d  loss %.4g  %.1f it/s  ETA %@  overflow incidents %d%@",
            p.step, p.steps, p.loss, p.stepsPerSecond, Self.duration(eta), p.overflowIncidents,
            p.skipped > 0 ? "  skipped \(p.skipped)" : "")
        if isTTY {
            let now = Date().timeIntervalSince1970
            guard now - lastDraw > 0.1 || p.step == p.steps else { return }
            lastDraw = now
            let width = 24
            let filled = p.steps > 0 ? width * p.step / p.steps : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardOutput.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
            if p.step == p.steps { FileHandle.standardOutput.write(Data("\n".utf8)) }
        } else if p.step % every == 0 || p.step == p.steps {
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }

    /// Ends the in-place line before other output.
    func finish() {
        if isTTY { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// SIGINT asks the trainer to finish its step, save a checkpoint and return; a second SIGINT exits at once.
final class InterruptHandler: @unchecked Sendable {
    private var source: DispatchSourceSignal?
    private var count = 0

    init(_ onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler { [weak self] in
            guard let self else { return }
            self.count += 1
            if self.count == 1 {
                FileHandle.standardError.write(
                    Data("\ninterrupted: saving a checkpoint after this step (Ctrl-C again to quit now)\n".utf8))
                onFirst()
            } else {
                exit(130)
            }
        }
        s.resume()
        source = s
    }

    deinit {
        source?.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
