// Counts heap allocations of a process: LD_PRELOAD=tools/alloc/libcount_alloc.so hdrpatch bench --what step
// reports allocations per training step (the bench looks up hp_alloc_count with dlsym when it is loaded).
// Build: cc -O2 -shared -fPIC -o tools/alloc/libcount_alloc.so tools/alloc/count_alloc.c
#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_ulong allocations;

unsigned long hp_alloc_count(void) { return atomic_load(&allocations); }

void *malloc(size_t n) { atomic_fetch_add(&allocations, 1); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { atomic_fetch_add(&allocations, 1); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { atomic_fetch_add(&allocations, 1); return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { atomic_fetch_add(&allocations, 1); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { atomic_fetch_add(&allocations, 1); return __libc_memalign(al, n); }
int posix_memalign(void **p, size_t al, size_t n) {
    atomic_fetch_add(&allocations, 1);
    *p = __libc_memalign(al, n);
    return *p ? 0 : 12;  // ENOMEM
}
