// Makes OpenBLAS use the kernels this CPU supports: Debian's OpenBLAS 0.3.21 falls back to its generic
// "Prescott" (SSE3) kernels on CPUs it does not recognise (seen on an AVX-512 Xeon VM: 31 GFLOP/s single-thread
// sgemm instead of 116-147), and it picks its kernels once, when it is loaded.
import CBLAS
import CKernels
import Foundation
import Numerics

enum BLASCore {
    /// If OpenBLAS chose its generic fallback although the CPU has AVX2/FMA or AVX-512, re-executes this
    /// program once with OPENBLAS_CORETYPE set from the CPU's flags. A user's OPENBLAS_CORETYPE is respected
    /// (and also stops any loop); if the re-exec fails, the program goes on with the slow kernels.
    /// Under HDRPATCH_SIMD=avx2 (or generic) OpenBLAS gets the matching kernels too (Haswell, Prescott), so that a run
    /// on this machine computes what it computes on an AVX2 one.
    static func ensureNativeKernels() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return }
        let chosen = String(cString: openblas_get_corename()).lowercased()
        let capped: String? =
            switch hp_simd_cap(ProcessInfo.processInfo.environment["HDRPATCH_SIMD"]) {
            case Int32(HP_LEVEL_AVX2): "Haswell"
            case Int32(HP_LEVEL_GENERIC): "Prescott"
            default: nil
            }
        if let capped, hp_cpu_level() < hp_cpu_level_detected() {
            if chosen != capped.lowercased() { reexec(core: capped) }
            return
        }
        guard chosen == "prescott" || chosen == "core2" || chosen == "katmai", let core = nativeCore() else { return }
        reexec(core: core)
    }

    /// Runs this program again with OPENBLAS_CORETYPE=core. Returns only if exec failed: the program then goes on
    /// with the kernels OpenBLAS chose.
    private static func reexec(core: String) {
        setenv("OPENBLAS_CORETYPE", core, 1)
        let args = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", args)
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// The OpenBLAS core name for the CPU's instruction-set flags (from /proc/cpuinfo), or nil to keep the default.
    static func nativeCore(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String?
    {
        guard let text = cpuinfo, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            return nil
        }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }
}

/// One line naming what a run's numbers depend on: the CPU, the kernels' instruction set (and HDRPATCH_SIMD when it
/// capped them), OpenBLAS's core and the threads. `train` prints it, so a number can be traced to its machine.
enum MachineLine {
    /// `stepThreads`: the training steps' own count (`train.compute_threads`) when it differs from `threads`.
    static func describe(threads: Int, stepThreads: Int? = nil) -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let level = SIMDLevel.best
        let cpu = SIMDLevel(rawValue: hp_cpu_level_detected()) ?? level
        let capped = level < cpu ? " (HDRPATCH_SIMD; the CPU runs \(cpu.name))" : ""
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return "machine: \(model), \(cores) cores, kernels \(level.name)\(capped), OpenBLAS "
            + "\(String(cString: openblas_get_corename())), "
            + (stepThreads.flatMap { $0 == threads ? nil : $0 }.map {
                "\($0) compute thread(s) for the steps (train.compute_threads), \(threads) for validation"
            } ?? "\(threads) thread(s)")
    }
}
