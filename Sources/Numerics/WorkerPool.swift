// The threads behind Parallel.run: started once, parked on a condition variable between parallel sections,
// so a section costs two lock round trips and no allocation.
import Glibc

/// Runs the parts of one parallel section at a time: the caller takes parts too, helpers take the rest.
/// A section started while another is running (another thread's, or one nested inside a part) runs its
/// parts on the calling thread instead: the same parts, so the same results, never a deadlock.
final class WorkerPool: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t(), finished = pthread_cond_t()
    private var helpers = 0
    private var busy = false
    private var generation = 0
    private var parts = 0, nextPart = 0, pending = 0
    private var body: ((Int) -> Void)?

    static let shared = WorkerPool()

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&finished, nil)
    }

    /// Starts helper threads until there are `count`.
    private func ensureHelpers(_ count: Int) {
        while helpers < count {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(self).toOpaque()
            guard pthread_create(&thread, nil, { arg in
                let pool = Unmanaged<WorkerPool>.fromOpaque(arg!).takeRetainedValue()
                pool.helperLoop()
                return nil
            }, box) == 0 else {
                Unmanaged<WorkerPool>.fromOpaque(box).release()
                return
            }
            pthread_detach(thread)
            helpers += 1
        }
    }

    private func helperLoop() {
        var seen = 0
        pthread_mutex_lock(&mutex)
        while true {
            while generation == seen { pthread_cond_wait(&wake, &mutex) }
            seen = generation
            runParts()
        }
    }

    /// Takes parts until none is left; called with the mutex held, returns with it held.
    private func runParts() {
        while nextPart < parts, let body {
            let part = nextPart
            nextPart += 1
            pthread_mutex_unlock(&mutex)
            body(part)
            pthread_mutex_lock(&mutex)
            pending -= 1
            if pending == 0 { pthread_cond_broadcast(&finished) }
        }
    }

    /// body(0) ..< body(count - 1), on up to `count` threads; returns when all are done.
    func run(_ count: Int, _ body: (Int) -> Void) {
        pthread_mutex_lock(&mutex)
        if busy {
            pthread_mutex_unlock(&mutex)
            for part in 0..<count { body(part) }
            return
        }
        busy = true
        ensureHelpers(count - 1)
        withoutActuallyEscaping(body) { body in
            self.body = body
            parts = count
            nextPart = 0
            pending = count
            generation &+= 1
            pthread_cond_broadcast(&wake)
            runParts()
            while pending > 0 { pthread_cond_wait(&finished, &mutex) }
            self.body = nil
        }
        busy = false
        pthread_mutex_unlock(&mutex)
    }
}
