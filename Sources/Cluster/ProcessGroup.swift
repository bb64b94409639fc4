// The processes of a data-parallel job: this process's rank among them and the collectives training needs
// (sums, minima and maxima over every rank, a broadcast), over Open MPI when an MPI launcher started the process.
import CMPI

/// The ranks of the job (PyTorch's "process group"). A process not started by mpirun (or srun) is the one rank of
/// a group of one, and every collective is the identity: single-process training is unchanged, MPI never loaded.
package final class ProcessGroup: @unchecked Sendable {
    package let rank: Int
    package let size: Int
    /// Whether the collectives go through MPI (a launcher started the process, even with one rank).
    package let usesMPI: Bool

    package var isRoot: Bool { rank == 0 }
    /// More than one rank: batches, validation and records are split and reduced.
    package var isDistributed: Bool { size > 1 }

    /// The group of one process.
    package static let single = ProcessGroup(rank: 0, size: 1, usesMPI: false)

    /// The group joined by `world()`, nil before (or when the process is not under a launcher): error lines name
    /// the rank with it.
    nonisolated(unsafe) package private(set) static var joined: ProcessGroup?

    private init(rank: Int, size: Int, usesMPI: Bool) {
        self.rank = rank
        self.size = size
        self.usesMPI = usesMPI
    }

    /// Whether an MPI launcher started this process (its environment says so).
    package static var launched: Bool { hp_mpi_launched() != 0 }

    /// The job's group: MPI_COMM_WORLD when launched by mpirun or srun (Open MPI is loaded and initialised on the
    /// first call), else `single`. Call it from the main thread before starting other threads that use MPI.
    package static func world() throws -> ProcessGroup {
        if let joined { return joined }
        guard launched else { return single }
        var rank: Int32 = 0
        var size: Int32 = 0
        try call { hp_mpi_init(&rank, &size, $0, $1) }
        let group = ProcessGroup(rank: Int(rank), size: Int(size), usesMPI: true)
        joined = group
        return group
    }

    /// The contiguous part of 0..<total this rank takes: rank r gets r*total/size ..< (r+1)*total/size, so shares
    /// differ by at most one and are empty only when total < size.
    package func share(of total: Int) -> Range<Int> {
        (rank * total / size)..<((rank + 1) * total / size)
    }

    /// Sums `buffer` element by element over every rank, in place (MPI_Allreduce, MPI_SUM, float).
    package func sum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard usesMPI, let base = buffer.baseAddress else { return }
        try Self.call { hp_mpi_allreduce_sum_f32(base, buffer.count, $0, $1) }
    }

    /// Sums `values` element by element over every rank, in place (double).
    package func sum(_ values: inout [Double]) throws {
        guard usesMPI, !values.isEmpty else { return }
        try values.withUnsafeMutableBufferPointer { p in
            try Self.call { hp_mpi_allreduce_sum_f64(p.baseAddress!, p.count, $0, $1) }
        }
    }

    /// The element-wise minimum of `values` over every rank, in place.
    package func min(_ values: inout [Double]) throws {
        guard usesMPI, !values.isEmpty else { return }
        try values.withUnsafeMutableBufferPointer { p in
            try Self.call { hp_mpi_allreduce_min_f64(p.baseAddress!, p.count, $0, $1) }
        }
    }

    /// The element-wise maximum of `values` over every rank, in place.
    package func max(_ values: inout [Double]) throws {
        guard usesMPI, !values.isEmpty else { return }
        try values.withUnsafeMutableBufferPointer { p in
            try Self.call { hp_mpi_allreduce_max_f64(p.baseAddress!, p.count, $0, $1) }
        }
    }

    /// Rank 0's `text` on every rank.
    package func broadcast(_ text: String) throws -> String {
        guard usesMPI else { return text }
        var length = [isRoot ? Double(text.utf8.count) : 0]
        try max(&length)  // the root's length: every other rank sent 0
        var bytes = isRoot ? Array(text.utf8) : [UInt8](repeating: 0, count: Int(length[0]))
        if bytes.isEmpty { return "" }
        try bytes.withUnsafeMutableBytes { p in
            try Self.call { hp_mpi_bcast(p.baseAddress!, p.count, 0, $0, $1) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits until every rank has reached it.
    package func barrier() throws {
        guard usesMPI else { return }
        try Self.call { hp_mpi_barrier($0, $1) }
    }

    /// Ends the whole job with `code` (MPI_Abort: mpirun stops every rank); a process of its own just exits.
    package func abort(_ code: Int32) -> Never {
        hp_mpi_abort(code)
        fatalError("unreachable: hp_mpi_abort returned")
    }

    /// MPI_Finalize when MPI was initialised: the end of a rank that finished normally.
    package static func finalize() {
        if joined != nil { hp_mpi_finalize() }
    }

    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 512)
        let rc = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if rc != 0 {
            let text = message.withUnsafeBufferPointer { p in
                String(decoding: UnsafeRawBufferPointer(p).prefix { $0 != 0 }, as: UTF8.self)
            }
            throw ProcessGroupError(text.isEmpty ? "MPI call failed (code \(rc))" : text)
        }
    }
}

package struct ProcessGroupError: Error, Sendable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
