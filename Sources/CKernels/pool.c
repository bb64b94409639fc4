// A fixed pool of worker threads for hp_pool_run: part 0 of a job runs on the caller, part p >= 1 always on the
// same worker thread; idle workers spin briefly (pausing, then yielding the core between checks) and then sleep on
// a futex. Nothing is allocated per job.
//
// Why not Dispatch (concurrentPerform): it allocated per call, and a training step issues about ten parallel
// regions a few milliseconds apart; waking a sleeping vCPU of a virtual machine costs tens to hundreds of
// microseconds, so workers that are still spinning start the next region at once. Spinning yields the core to
// other runnable threads (the data loader) and stops after 2 ms. A fixed part -> thread mapping also keeps an
// image's buffers on one core from the forward pass to the backward pass.
#define _GNU_SOURCE
#include "hp_kernels.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
    POOL_MAX = 255,    // parts per job: the low 8 bits of the epoch word
    PAUSE_SPINS = 200, // checks an idle worker makes with a pause between them before it yields between them
};

static struct {
    pthread_mutex_t grow;          // serialises worker creation
    atomic_int workers;            // started workers
    atomic_int busy;               // 1 while a job runs (a second caller runs its job alone)
    _Atomic unsigned epoch;        // (job counter << 8) | parts, new per job; workers wait on it (futex word)
    atomic_int sleepers;           // workers inside futex_wait on epoch
    atomic_int pending;            // parts of the current job not yet finished by workers
    hp_pool_fn fn;                 // the current job (written before epoch changes; read only by its parts)
    void *ctx;
    atomic_long spin_ns;           // how long an idle worker spins before it sleeps
    unsigned start[POOL_MAX];      // start[p]: the epoch when worker p was created (its first job is the next)
} pool = {.grow = PTHREAD_MUTEX_INITIALIZER, .spin_ns = 2000000};

static long futex(_Atomic unsigned *word, int op, unsigned value) {
    return syscall(SYS_futex, (unsigned *)word, op, value, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *worker_main(void *arg) {
    const int part = (int)(long)arg;  // this worker runs part `part` of every job with more parts than that
    unsigned seen = pool.start[part];  // not the epoch now: the job that started this worker may be out already
    for (;;) {
        // Wait for the next job: spin for spin_ns, then sleep until epoch changes.
        unsigned e = atomic_load_explicit(&pool.epoch, memory_order_acquire);
        if (e == seen) {
            // Spin (pause) for a short while, then yield the core between checks (so that other runnable threads,
            // a data loader say, get it), then sleep.
            const long start = now_ns();
            for (int i = 1; e == seen; i++) {
                const long waited = (i & 63) == 0 ? now_ns() - start : 0;
                if (waited > atomic_load_explicit(&pool.spin_ns, memory_order_relaxed)) {
                    atomic_fetch_add(&pool.sleepers, 1);
                    while ((e = atomic_load(&pool.epoch)) == seen) futex(&pool.epoch, FUTEX_WAIT_PRIVATE, seen);
                    atomic_fetch_sub(&pool.sleepers, 1);
                    break;
                }
                if (i > PAUSE_SPINS) sched_yield(); else cpu_relax();
                e = atomic_load_explicit(&pool.epoch, memory_order_acquire);
            }
        }
        seen = e;
        // The part count comes with the epoch: a worker with no part in this job reads nothing else of it.
        if (part < (int)(e & 255)) {
            pool.fn(pool.ctx, part);
            atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
        }
    }
    return NULL;
}

/// Starts workers until there are `count` (or as many as could be started); returns how many there are.
static int ensure_workers(int count) {
    if (atomic_load(&pool.workers) >= count) return count;
    pthread_mutex_lock(&pool.grow);
    int have = atomic_load(&pool.workers);
    while (have < count) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool.start[have + 1] = atomic_load(&pool.epoch);  // only the busy holder changes epoch: it is us
        const int rc = pthread_create(&thread, &attr, worker_main, (void *)(long)(have + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        have++;
        atomic_store(&pool.workers, have);
    }
    pthread_mutex_unlock(&pool.grow);
    return have;
}

void hp_pool_run(int parts, hp_pool_fn fn, void *ctx) {
    int expected = 0;
    if (parts <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        // One part, or another job (from another thread, or this job's own parts) holds the pool: run the parts
        // here, in order. The split is the caller's, so the results are the same.
        for (int p = 0; p < (parts < 1 ? 1 : parts); p++) fn(ctx, p);
        return;
    }
    const int helpers = ensure_workers(parts - 1 < POOL_MAX - 1 ? parts - 1 : POOL_MAX - 1);
    const int pooled = helpers + 1;  // parts run by the pool; any beyond (workers failed to start) run here
    pool.fn = fn;
    pool.ctx = ctx;
    atomic_store_explicit(&pool.pending, helpers, memory_order_relaxed);
    const unsigned old = atomic_load_explicit(&pool.epoch, memory_order_relaxed);  // only the busy holder writes it
    atomic_store(&pool.epoch, (((old >> 8) + 1) << 8) | (unsigned)pooled);  // seq_cst: before the sleepers load
    if (atomic_load(&pool.sleepers) > 0) futex(&pool.epoch, FUTEX_WAKE_PRIVATE, INT_MAX);
    fn(ctx, 0);
    for (int p = pooled; p < parts; p++) fn(ctx, p);
    // Wait for the workers: spin, then yield the core (a worker may be waiting for it).
    for (int i = 0; atomic_load_explicit(&pool.pending, memory_order_acquire) > 0; i++) {
        if (i < 20000) cpu_relax(); else sched_yield();
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
}

void hp_pool_set_spin(long nanoseconds) { atomic_store(&pool.spin_ns, nanoseconds < 0 ? 0 : nanoseconds); }
