// hp_thread_scratch: one growing buffer per thread, freed by a pthread key destructor when the thread exits.
#include "hp_kernels.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local void *scratch_pointer;
static _Thread_local size_t scratch_capacity;

static void scratch_release(void *pointer) { free(pointer); }

static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_release); }

void *hp_thread_scratch(size_t bytes) {
    if (bytes <= scratch_capacity) return scratch_pointer;
    pthread_once(&scratch_once, scratch_init);
    const size_t rounded = (bytes + 63) / 64 * 64;
    void *grown = aligned_alloc(64, rounded);
    if (!grown) return NULL;
    free(scratch_pointer);
    scratch_pointer = grown;
    scratch_capacity = rounded;
    pthread_setspecific(scratch_key, grown);
    return grown;
}
