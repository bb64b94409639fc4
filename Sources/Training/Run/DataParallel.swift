// Data-parallel training over a process group: what one rank's step shares with the others. Every rank holds the
// same weights and optimizer state, computes the loss and gradient of its share of the global batch, and the
// shares are combined so that every rank applies the same update (Horovod's design): one MPI_Allreduce over the
// parameter store's single gradient buffer, plus small ones for the loss report and the monitor record.
import Cluster
import Glibc
import Losses
import Model
import Numerics
import RunFiles

/// One rank's place in a data-parallel run: its group and the global batch (`data.batch_size`) its share is of.
package struct DataParallel: Sendable {
    package let group: ProcessGroup
    /// Samples of the whole batch, over all ranks.
    package let globalBatch: Int

    /// Seconds spent in collectives since the last `takeTimes()` (all of them, and the gradient allreduce's), and
    /// the stop request that rides along with the loss report's allreduce.
    final class Times: @unchecked Sendable {
        var all = 0.0
        var gradient = 0.0
        var stopHere = false
        var stopAnywhere = false
    }
    let times = Times()

    /// This rank was asked to stop (SIGINT): sent with the next step's loss report, so that every rank learns of it
    /// without a collective of its own.
    package func requestStop(_ here: Bool) { times.stopHere = here }

    /// Whether any rank had asked to stop when the last step's loss report was combined.
    package var stopRequested: Bool { times.stopAnywhere }

    package init(group: ProcessGroup, globalBatch: Int) {
        self.group = group
        self.globalBatch = globalBatch
    }

    /// Seconds in collectives (all, the gradient allreduce) since the last call.
    package func takeTimes() -> (all: Double, gradient: Double) {
        defer { (times.all, times.gradient) = (0, 0) }
        return (times.all, times.gradient)
    }

    /// The positions of every global batch this rank builds.
    package var share: Range<Int> { group.share(of: globalBatch) }

    /// Runs a collective; an MPI failure ends the whole job with the rank and the reason on one line (Open MPI's
    /// default error handler aborts before returning anyway: this is for the handlers that return).
    func collective(_ what: String, gradient: Bool = false, _ body: () throws -> Void) {
        let start = ContinuousClock.now
        defer {
            let d = ContinuousClock.now - start
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            times.all += seconds
            if gradient { times.gradient += seconds }
        }
        do {
            try body()
        } catch {
            let line = "error: rank \(group.rank) of \(group.size): \(what): \(error)\n"
            var bytes = Array(line.utf8)
            _ = write(2, &bytes, bytes.count)
            group.abort(1)
        }
    }

    /// The whole batch's loss report from this rank's (a mean over its `local` samples): the weighted sum of
    /// every rank's, weight = local / global. A non-finite term on any rank stays non-finite on all.
    func combine(_ report: inout LossReport, local: Int) {
        let w = Double(local) / Double(globalBatch)
        var values = report.terms.map { $0.value * w } + [report.total * w, times.stopHere ? 1 : 0]
        collective("the loss report's allreduce") { try group.sum(&values) }
        for i in report.terms.indices { report.terms[i].value = values[i] }
        report.total = values[report.terms.count]
        times.stopAnywhere = values[report.terms.count + 1] > 0
    }

    /// Sums the gradient buffer over the ranks, in place: the one allreduce of the parameters.
    func sumGradients(_ store: ParameterStore) {
        collective("the gradient allreduce", gradient: true) { try group.sum(store.grads) }
    }

    /// The whole batch's monitor sums from this rank's (`StepMonitor.sums` at this rank's offset in the global
    /// batch): one sum and one minimum, packed; `MonitorSums.finalize` does the rest, as for a single process.
    func combine(_ sums: inout MonitorSums) {
        collective("the monitor record's allreduce") {
            try group.sum(&sums.summed)
            try group.min(&sums.minima)
        }
    }
}
