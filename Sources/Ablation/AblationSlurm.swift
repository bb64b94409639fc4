// An ablation as a Slurm job array: one array task per run, each `hdrpatch ablate --task-index $SLURM_ARRAY_TASK_ID`
// on a shared file system, then `ablate --collect` for the comparison. Slurm schedules; nothing here does.
import Foundation

package enum AblationSlurm {
    /// What the sbatch script runs: the same ablation as the command that wrote it.
    package struct Job: Sendable, Equatable {
        /// Absolute paths: a batch job starts in its own working directory on another node.
        package var executable: String
        package var config: String
        package var out: String
        package var quick: Bool
        package var seeds: Int?
        /// Runs in the array (task indices 0 ..< runs).
        package var runs: Int
        /// At most this many tasks at once (`%K`); nil for Slurm's own limit.
        package var maxParallel: Int?
        /// `--cpus-per-task`: the threads each run trains with.
        package var cpusPerTask: Int
        package var name: String

        package init(
            executable: String, config: String, out: String, quick: Bool, seeds: Int?, runs: Int, maxParallel: Int?,
            cpusPerTask: Int, name: String
        ) {
            self.executable = executable
            self.config = config
            self.out = out
            self.quick = quick
            self.seeds = seeds
            self.runs = runs
            self.maxParallel = maxParallel
            self.cpusPerTask = cpusPerTask
            self.name = name
        }

        /// The ablate arguments that pick the same runs (for the tasks and for --collect).
        package var selection: [String] {
            ["--config", config, "--out", out] + (quick ? ["--quick"] : []) + (seeds.map { ["--seeds", "\($0)"] } ?? [])
        }
    }

    /// The sbatch script: `#SBATCH --array=0-(R-1)[%K]`, the task's output under `<out>/slurm/`, the run's own
    /// log in its run directory as with `--jobs`.
    package static func script(_ job: Job) -> String {
        let array = "0-\(job.runs - 1)" + (job.maxParallel.map { "%\($0)" } ?? "")
        let task = ([job.executable, "ablate"] + job.selection + ["--task-index"]).map(quote).joined(separator: " ")
        let collect = ([job.executable, "ablate"] + job.selection + ["--collect"]).map(quote).joined(separator: " ")
        return """
            #!/bin/bash
            # The ablation \(job.name) as a Slurm job array: \(job.runs) runs, task i trains run i of the plan.
            # Submit it with sbatch; options on sbatch's command line override these (--time, --partition,
            # --account). When tasks end, build the comparison from what finished (and list what did not) with:
            #   \(collect)
            # A task that is cancelled or preempted resumes from its last checkpoint when run again: --requeue puts a
            # preempted task back in the queue, and 120 s before the time limit Slurm sends SIGUSR1 to this script's
            # process (hdrpatch, by exec), which passes it to the training: it checkpoints and exits (status 138).
            #SBATCH --job-name=\(slurmSafe("hdrpatch-" + job.name))
            #SBATCH --array=\(array)
            #SBATCH --ntasks=1
            #SBATCH --cpus-per-task=\(job.cpusPerTask)
            #SBATCH --output=\(job.out)/slurm/%A_%a.out
            #SBATCH --requeue
            #SBATCH --signal=B:USR1@120
            set -euo pipefail
            export HDRPATCH_THREADS="${SLURM_CPUS_PER_TASK:-\(job.cpusPerTask)}"
            exec \(task) "$SLURM_ARRAY_TASK_ID"

            """
    }

    /// Single-quoted for bash unless it is plainly safe.
    package static func quote(_ s: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:+,")
        if !s.isEmpty && s.unicodeScalars.allSatisfy(safe.contains) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A job name without the characters #SBATCH lines cannot carry.
    static func slurmSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
    }
}
