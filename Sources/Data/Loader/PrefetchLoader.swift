// Training batches in order from N worker threads through a bounded reorder buffer.

/// What the loader has done so far; a snapshot.
package struct LoaderStats: Sendable, Equatable {
    /// Batches built (successfully or not) by workers, or by `next()` when workers == 0.
    package var produced: Int
    /// Batches returned by `next()`.
    package var consumed: Int
    /// Batches built but not yet returned, now.
    package var ready: Int
    /// Largest `ready` ever seen; never above `prefetch`.
    package var maxReady: Int
    /// Total time `next()` spent waiting for its batch (with workers == 0: building it).
    package var waitSeconds: Double
}

/// Hands out batches strictly in order: epoch e0 batch 0, 1, ..., then epoch e0+1, and so on, forever.
///
/// Global batch number g is batch g % batchesPerEpoch of epoch startEpoch + g / batchesPerEpoch. Workers
/// claim the lowest unclaimed g, but only while g < consumed + prefetch, so at most `prefetch` batches exist
/// ahead of the consumer, built or being built. Memory is bounded by that, plus one decoded pair per worker
/// when uncached. Every batch is a pure function of (seed, epoch, index), so the stream is bit-identical
/// for any worker count.
///
/// Errors: the first batch that fails to build is thrown by the `next()` that reaches it (earlier batches
/// are still delivered); from then on `next()` throws that error again and workers stop.
/// `close()` (also run by deinit) stops and joins the workers; a worker in the middle of a batch finishes
/// that batch first. Call `next()` from one consumer thread at a time.
package final class PrefetchLoader: @unchecked Sendable {
    package let dataset: PairedDataset
    package let config: LoaderConfig
    package let sampler: EpochSampler
    package let startEpoch: Int
    private let core: Core
    private var threads: [JoinableThread] = []  // guarded by core.lock

    package var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// Starts `config.workers` threads at once (none for 0). `config` gives the sampling and threading;
    /// the patch size must be the one `dataset` was opened with. `share`: the positions of every batch to cut
    /// (one data-parallel rank's part of the global batch, `config.batchSize`); nil for the whole batch.
    package init(dataset: PairedDataset, config: LoaderConfig, startEpoch: Int = 0, share: Range<Int>? = nil) throws {
        try config.validate()
        if config.patchSize != dataset.patchSize {
            throw LoaderError(
                "patch_size \(config.patchSize) differs from the \(dataset.patchSize) the dataset \(dataset.root) was opened with"
            )
        }
        if startEpoch < 0 { throw LoaderError("start epoch must be >= 0 (got \(startEpoch))") }
        self.dataset = dataset
        self.config = config
        self.startEpoch = startEpoch
        if let share, share.isEmpty || share.lowerBound < 0 || share.upperBound > config.batchSize {
            throw LoaderError("share \(share) of a batch of \(config.batchSize) is empty or outside it")
        }
        self.sampler = try EpochSampler(dataset: dataset, config: config)
        self.core = Core(
            builder: BatchBuilder(dataset: dataset, sampler: sampler, share: share), prefetch: config.prefetch,
            startEpoch: startEpoch)
        var started: [JoinableThread] = []
        do {
            for w in 0..<config.workers {
                let core = self.core
                started.append(try JoinableThread(name: "hdrpatch-load\(w)") { core.work() })
            }
        } catch {
            core.stop()
            started.forEach { $0.join() }
            throw error
        }
        core.lock.withLock { threads = started }
    }

    deinit { close() }

    /// The next batch in order. Throws the build error of that batch (one line, naming the file), or a
    /// `LoaderError` after `close()`.
    package func next() throws -> Batch {
        if config.workers == 0 { return try core.buildInline() }
        return try core.take()
    }

    /// Stops and joins every worker; idempotent. Later `next()` calls throw.
    package func close() {
        core.stop()
        let joining = core.lock.withLock { () -> [JoinableThread] in
            defer { threads = [] }
            return threads
        }
        joining.forEach { $0.join() }
    }

    package var stats: LoaderStats { core.snapshot() }
    /// Total time `next()` has spent waiting for data, in seconds.
    package var waitSeconds: Double { stats.waitSeconds }
}

extension PrefetchLoader {
    /// The state workers and consumer share; everything below `lock` is guarded by it.
    final class Core: @unchecked Sendable {
        let builder: BatchBuilder
        let prefetch: Int
        let startEpoch: Int
        let lock = ConditionLock()
        private var nextClaim = 0
        private var consumed = 0
        private var ready: [Int: Result<Batch, any Error>] = [:]
        private var stopped = false
        private var failed = false
        /// The error `next()` threw; thrown again by every later call.
        private var sticky: (any Error)?
        private var produced = 0
        private var maxReady = 0
        private var waitSeconds = 0.0

        init(builder: BatchBuilder, prefetch: Int, startEpoch: Int) {
            self.builder = builder
            self.prefetch = prefetch
            self.startEpoch = startEpoch
        }

        private func position(_ g: Int) -> (epoch: Int, index: Int) {
            let per = builder.batchesPerEpoch
            return (startEpoch + g / per, g % per)
        }

        /// A worker's loop: claim the lowest unclaimed batch within the prefetch window, build it unlocked,
        /// file it under its number.
        func work() {
            while true {
                let claim: Int? = lock.withLock {
                    while !stopped && !failed && nextClaim >= consumed + prefetch { lock.wait() }
                    if stopped || failed { return nil }
                    defer { nextClaim += 1 }
                    return nextClaim
                }
                guard let g = claim else { return }
                let (epoch, index) = position(g)
                let result = Result { try builder.batch(epoch: epoch, index: index) }
                lock.withLock {
                    if stopped { return }
                    ready[g] = result
                    if case .failure = result { failed = true }
                    produced += 1
                    maxReady = max(maxReady, ready.count)
                    lock.broadcast()
                }
            }
        }

        func take() throws -> Batch {
            try lock.withLock {
                if let sticky { throw sticky }
                let g = consumed
                let start = ContinuousClock.now
                while ready[g] == nil && !stopped { lock.wait() }
                waitSeconds += Self.seconds(ContinuousClock.now - start)
                if stopped { throw LoaderError("the loader is closed") }
                switch ready.removeValue(forKey: g)! {
                case .success(let batch):
                    consumed += 1
                    lock.broadcast()  // the window moved: a worker may claim one more
                    return batch
                case .failure(let error):
                    sticky = error
                    throw error
                }
            }
        }

        /// workers == 0: build batch `consumed` here, under the lock (nothing else contends for it).
        func buildInline() throws -> Batch {
            try lock.withLock {
                if let sticky { throw sticky }
                if stopped { throw LoaderError("the loader is closed") }
                let (epoch, index) = position(consumed)
                let start = ContinuousClock.now
                defer { waitSeconds += Self.seconds(ContinuousClock.now - start) }
                produced += 1
                do {
                    let batch = try builder.batch(epoch: epoch, index: index)
                    consumed += 1
                    return batch
                } catch {
                    sticky = error
                    throw error
                }
            }
        }

        func stop() {
            lock.withLock {
                stopped = true
                ready = [:]  // nobody will take them: free the memory now
                lock.broadcast()
            }
        }

        func snapshot() -> LoaderStats {
            lock.withLock {
                LoaderStats(
                    produced: produced, consumed: consumed, ready: ready.count, maxReady: maxReady,
                    waitSeconds: waitSeconds)
            }
        }

        static func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
    }
}
