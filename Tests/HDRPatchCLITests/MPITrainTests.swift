// `mpirun -np 2 hdrpatch train` against the same run in one process: the loss trajectory within float rounding,
// bit-identical from one 2-rank run to the next, kill -9 of one rank then --resume, a failing rank ending the job.
import Foundation
import RunFiles
import TestSupport
import Testing

@Suite(.serialized) struct MPITrainTests {
    /// Open MPI's launcher (`make setup` installs openmpi-bin): a missing one fails these tests, it does not skip them.
    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    /// Root in CI: Open MPI refuses to run as root without these.
    static let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    static func launch(_ ranks: Int, _ args: [String], timeout: Double = 240) throws -> CLIResult {
        let launcher = try #require(mpirun, "mpirun not found: make setup installs openmpi-bin")
        return try CLI.run(
            ["--oversubscribe", "-np", String(ranks), CLI.executable] + args, timeout: timeout, program: launcher,
            environment: environment)
    }

    /// The tiny sample-set run with a loss record every step: global batch 4, so 2 ranks take 2 patches each.
    static func config(_ dir: ScratchDir, steps: Int = 24, checkpointEvery: Int = 8) throws -> String {
        try TrainCLITests.writeConfig(dir, steps: steps, checkpointEvery: checkpointEvery, ema: 0.9, logEvery: 1)
    }

    static func losses(_ run: String) throws -> [Double] {
        try RunLogReader.read(dir: run).metrics.filter { $0.kind == "train" }.map { $0.loss ?? .nan }
    }

    static func weights(_ run: String) throws -> [String: [Float]] {
        let f = try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors")
        return Dictionary(uniqueKeysWithValues: f.tensors.map { ($0.name, f.floats($0)) })
    }

    /// 2 ranks x 1 thread train the model one process trains at the same global batch: every step's loss within
    /// 2e-6 relative, validation PSNR-mu within 1e-3 dB, and two 2-rank runs agree bit for bit (weights, EMA,
    /// monitor records).
    @Test func twoRanksTrainTheSingleProcessModel() throws {
        let dir = ScratchDir()
        let config = try Self.config(dir)
        let single = dir.file("single")
        let one = try CLI.run(["train", "--config", config, "--run-dir", single], timeout: 240)
        #expect(one.status == 0, "\(one.stderr)")
        let (a, b) = (dir.file("mpi-a"), dir.file("mpi-b"))
        for run in [a, b] {
            let r = try Self.launch(2, ["train", "--config", config, "--run-dir", run])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("2 ranks x 1 thread(s), 2 of each batch of 4 on rank 0"), "\(r.stdout)")
            #expect(r.stdout.contains("report: \(run)/report.html"))
        }
        let reference = try Self.losses(single)
        let parallel = try Self.losses(a)
        #expect(reference.count == 24 && parallel.count == 24)
        var worst = 0.0
        for (x, y) in zip(reference, parallel) { worst = max(worst, abs(x - y) / abs(x)) }
        #expect(worst < 2e-6, "worst relative loss difference \(worst)")
        print("mpirun -np 2 vs one process, 24 steps: worst relative loss difference \(worst)")

        let valA = try RunLogReader.read(dir: single).metrics.filter { $0.kind == "val" }
        let valB = try RunLogReader.read(dir: a).metrics.filter { $0.kind == "val" }
        #expect(valA.map(\.step) == [8, 16, 24] && valB.map(\.step) == [8, 16, 24])
        for (x, y) in zip(valA, valB) {
            let (p, q) = (try #require(x.model?.psnrMu), try #require(y.model?.psnrMu))
            #expect(abs(p - q) < 1e-3, "val PSNR-mu \(p) vs \(q) at step \(x.step)")
            #expect(x.model?.patches == y.model?.patches)
        }
        // The monitor counts the whole batch: 4 patches a record, as the single process.
        let monitor = try RunLogReader.read(dir: a).monitor
        #expect(monitor.map(\.step) == Array(1...24) && monitor.allSatisfy { $0.patches == 4 })

        // Fixed N: bit-identical from run to run.
        #expect(try Self.weights(a) == Self.weights(b))
        let ma = try String(contentsOfFile: a + "/monitor.jsonl", encoding: .utf8)
        let mb = try String(contentsOfFile: b + "/monitor.jsonl", encoding: .utf8)
        #expect(ma == mb)
        // Rank 0 alone wrote the run: one TensorBoard file, one set of checkpoints.
        let files = try FileManager.default.contentsOfDirectory(atPath: a)
        #expect(files.filter { $0.hasPrefix("events.out.tfevents.") }.count == 1)
    }

    /// kill -9 of one rank ends the job; `mpirun ... train --resume` continues from the last checkpoint and ends
    /// with the weights of a 2-rank run never interrupted.
    @Test func killNineOfOneRankThenResumeContinuesExactly() throws {
        let dir = ScratchDir()
        let config = try Self.config(dir, steps: 60, checkpointEvery: 1)
        let clean = dir.file("clean")
        #expect(try Self.launch(2, ["train", "--config", config, "--run-dir", clean]).status == 0)

        let run = dir.file("killed")
        let (job, ranks) = try Self.startTwoRanks(config: config, run: run)
        if let victim = ranks.last { kill(victim, SIGKILL) }
        job.waitUntilExit()
        #expect(job.terminationStatus != 0, "mpirun ends non-zero when a rank is killed")
        let step =
            try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors").metadata["step"]
            .flatMap(Int.init) ?? 0
        #expect(step >= 1 && step < 60, "killed mid-run, at checkpoint \(step)")

        let resumed = try Self.launch(2, ["train", "--resume", run])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming at step \(step)"))
        #expect(try Self.weights(run) == Self.weights(clean))
        #expect(try RunLogReader.read(dir: run).monitor.map(\.step) == Array(1...60))
    }

    /// SIGTERM (Slurm's time limit, scancel, preemption) to mpirun, which passes it on to every rank, or to one rank
    /// alone: every rank stops after the same step, rank 0 saves the checkpoint at that step and writes the report,
    /// and `--resume` under mpirun finishes with the weights of the run never interrupted.
    @Test(arguments: [false, true]) func sigtermStopsEveryRankAtOneStepAndTheRunResumes(oneRank: Bool) throws {
        let dir = ScratchDir()
        let config = try Self.config(dir, steps: 300, checkpointEvery: 1000)
        let clean = dir.file("clean")
        #expect(try Self.launch(2, ["train", "--config", config, "--run-dir", clean]).status == 0)

        let run = dir.file("stopped")
        let (job, ranks) = try Self.startTwoRanks(config: config, run: run)
        kill(oneRank ? ranks.last ?? job.processIdentifier : job.processIdentifier, SIGTERM)
        job.waitUntilExit()
        #expect(job.terminationStatus != 0, "an interrupted job is not a finished one")
        let step =
            try SafetensorsFile.read(path: run + "/checkpoints/latest.safetensors").metadata["step"]
            .flatMap(Int.init) ?? 0
        #expect(step >= 10 && step < 300, "stopped mid-run, at checkpoint \(step)")
        // Rank 0 recorded every step up to the one all ranks stopped at, and wrote the report.
        #expect(try RunLogReader.read(dir: run).monitor.map(\.step) == Array(1...max(step, 1)))
        #expect(FileManager.default.fileExists(atPath: run + "/report.html"))

        let resumed = try Self.launch(2, ["train", "--resume", run])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming at step \(step)"))
        #expect(try Self.weights(run) == Self.weights(clean))
    }

    /// A rank that fails (here rank 1 alone meets a truncated EXR, while rank 0 goes on to its first allreduce)
    /// ends the whole job at once: non-zero, and one line naming the rank, the file and the reason.
    @Test func aFailingRankEndsTheJobWithOneLine() throws {
        let dir = ScratchDir()
        let config = try Self.config(dir)
        let bad = dir.file("bad")
        try FileManager.default.copyItem(atPath: TrainCLITests.repo + "/data/sample/train", toPath: bad)
        let victim = try #require(try FileManager.default.contentsOfDirectory(atPath: bad + "/input").sorted().first)
        let path = bad + "/input/" + victim
        try Data(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(300)).write(to: URL(fileURLWithPath: path))
        let launcher = try #require(Self.mpirun)
        let start = Date()
        let r = try CLI.run(
            [
                "--oversubscribe", "-np", "1", CLI.executable, "train", "--config", config, "--run-dir",
                dir.file("run"),
                ":", "-np", "1", CLI.executable, "train", "--config", config, "--set", "data.train=\(bad)",
                "--run-dir", dir.file("run")
            ], timeout: 120, program: launcher, environment: Self.environment)
        #expect(r.status > 0, "a failed job, not a hang or a crash: \(r.status)")
        #expect(Date().timeIntervalSince(start) < 60)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(lines.first?.hasPrefix("error: rank 1 of 2: \(path): ") == true, "\(r.stderr)")
    }

    /// Under mpirun with one rank the run is the single process's, bit for bit.
    @Test func oneRankUnderMpirunIsTheSingleProcessRun() throws {
        let dir = ScratchDir()
        let config = try Self.config(dir, steps: 8)
        let (single, one) = (dir.file("single"), dir.file("one"))
        #expect(try CLI.run(["train", "--config", config, "--run-dir", single]).status == 0)
        let r = try Self.launch(1, ["train", "--config", config, "--run-dir", one])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("ranks x"))
        #expect(try Self.weights(single) == Self.weights(one))
    }

    /// The shim (Sources/CMPI/hp_mpi.c) uses Open MPI's ABI instead of mpi.h: the handles are the exported objects'
    /// addresses, MPI_IN_PLACE is (void *)1, MPI_THREAD_FUNNELED 1. A program built by mpicc against
    /// libopenmpi-dev's mpi.h checks each of them.
    @Test func theShimsOpenMPIConstantsAreThoseOfMpiH() throws {
        let mpicc = try #require(
            ["/usr/bin/mpicc", "/usr/local/bin/mpicc"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "mpicc not found: make setup installs libopenmpi-dev")
        let dir = ScratchDir()
        let source = dir.file("abi.c")
        try """
        #include <mpi.h>
        _Static_assert(MPI_THREAD_FUNNELED == 1, "MPI_THREAD_FUNNELED");
        int main(void) {
            return !(MPI_IN_PLACE == (void *)1 && MPI_COMM_WORLD == (MPI_Comm)&ompi_mpi_comm_world
                && MPI_FLOAT == (MPI_Datatype)&ompi_mpi_float && MPI_DOUBLE == (MPI_Datatype)&ompi_mpi_double
                && MPI_BYTE == (MPI_Datatype)&ompi_mpi_byte && MPI_SUM == (MPI_Op)&ompi_mpi_op_sum
                && MPI_MIN == (MPI_Op)&ompi_mpi_op_min && MPI_MAX == (MPI_Op)&ompi_mpi_op_max
                && MPI_MAX_ERROR_STRING <= 256);
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let binary = dir.file("abi")
        let built = try CLI.run(["-o", binary, source], program: mpicc)
        #expect(built.status == 0, "\(built.stderr)")
        #expect(try CLI.run([], program: binary).status == 0, "a constant of the shim differs from mpi.h's")
    }

    /// `mpirun -np 2 hdrpatch train` on `config` into `run`, returned once rank 0 has recorded 10 steps, with its two
    /// rank processes.
    static func startTwoRanks(config: String, run: String) throws -> (Process, [Int32]) {
        let launcher = try #require(Self.mpirun)
        // mpirun inherits the signal mask of the thread that starts it, and the test runner's threads block
        // SIGTERM (a shell's child would not): unblocked for the spawn, so that mpirun sees the signal as it would.
        var term = sigset_t()
        var before = sigset_t()
        sigemptyset(&term)
        sigaddset(&term, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &term, &before)
        defer { pthread_sigmask(SIG_SETMASK, &before, nil) }
        let job = try CLI.start(
            ["--oversubscribe", "-np", "2", CLI.executable, "train", "--config", config, "--run-dir", run],
            program: launcher, environment: Self.environment)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline,
            ((try? String(contentsOfFile: run + "/monitor.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0)
                < 10
        {
            Thread.sleep(forTimeInterval: 0.02)
        }
        let ranks = Self.children(of: job.processIdentifier)
        #expect(ranks.count == 2, "rank processes of mpirun: \(ranks)")
        return (job, ranks)
    }

    /// The direct children of `pid` (mpirun's rank processes), from /proc.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }.sorted()
    }
}
