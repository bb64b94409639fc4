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

/// SIGINT (Ctrl-C), SIGTERM (Slurm at a time limit, `scancel`, preemption, `docker stop`, Kubernetes) and SIGUSR1
/// (the early warning of Slurm's `--signal=B:USR1@SECONDS`) each ask the trainer to finish its step, save a
/// checkpoint and return; a second signal exits at once. `signal` is the first one received (0 before any): the run
/// exits with 128 + it (130, 143, 138).
final class InterruptHandler: @unchecked Sendable {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGUSR1]
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0
    private var first: Int32 = 0

    /// The first signal received, or 0.
    var signal: Int32 { lock.withLock { first } }

    init(_ onFirst: @escaping @Sendable (_ signal: Int32) -> Void) {
        for sig in Self.signals {
            Glibc.signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in
                guard let self else { return }
                let n = self.lock.withLock {
                    self.count += 1
                    if self.first == 0 { self.first = sig }
                    return self.count
                }
                if n == 1 {
                    let again = sig == SIGINT ? "Ctrl-C again" : "the signal again"
                    FileHandle.standardError.write(
                        Data("\n\(Self.name(sig)): saving a checkpoint after this step (\(again) to quit now)\n".utf8))
                    onFirst(sig)
                } else {
                    exit(128 + sig)
                }
            }
            s.resume()
            sources.append(s)
        }
    }

    static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "interrupted"
        case SIGTERM: return "terminated (SIGTERM)"
        case SIGUSR1: return "asked to stop (SIGUSR1)"
        default: return "signal \(sig)"
        }
    }

    deinit {
        for s in sources { s.cancel() }
        for sig in Self.signals { Glibc.signal(sig, SIG_DFL) }
    }
}
