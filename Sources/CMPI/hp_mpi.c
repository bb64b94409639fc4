// Open MPI through dlopen: why not link libmpi at build time.
//
// A binary linked against libmpi needs Open MPI installed to start at all, even for a single-process run; and
// SwiftPM cannot make a link conditional on a library being present. Resolving the dozen entry points at run time
// keeps one binary for both: without a launcher (no OMPI_COMM_WORLD_SIZE / PMIX_RANK in the environment) nothing
// is loaded and training is single-process exactly as before; under mpirun the shim loads libmpi.so.40 (Open MPI
// 3.x-5.x, Debian's libopenmpi3) with RTLD_GLOBAL, which Open MPI's own plugins need to find its symbols.
//
// The price is that the shim uses Open MPI's ABI rather than mpi.h: MPI_COMM_WORLD, MPI_FLOAT, MPI_DOUBLE and the
// ops are the addresses of the exported objects ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_double and
// ompi_mpi_op_sum/min/max; MPI_IN_PLACE is (void *)1 and MPI_THREAD_FUNNELED is 1 (mpi.h of Open MPI 4.1).
// Tests/HDRPatchCLITests/MPITrainTests.swift checks each against the mpi.h of libopenmpi-dev (mpicc).
#define _GNU_SOURCE
#include "hp_mpi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *handle;  // MPI_Comm, MPI_Datatype and MPI_Op are pointers in Open MPI
#define HP_MPI_IN_PLACE ((void *)1)
#define HP_MPI_THREAD_FUNNELED 1
#define HP_MPI_MAX_ERROR_STRING 256

static struct {
    void *lib;
    int initialised;
    int (*init_thread)(int *, char ***, int, int *);
    int (*initialized)(int *);
    int (*comm_rank)(handle, int *);
    int (*comm_size)(handle, int *);
    int (*allreduce)(const void *, void *, int, handle, handle, handle);
    int (*bcast)(void *, int, handle, int, handle);
    int (*barrier)(handle);
    int (*abort_)(handle, int);
    int (*finalize)(void);
    int (*error_string)(int, char *, int *);
    handle comm_world, t_float, t_double, t_byte, op_sum, op_min, op_max;
} M;

int hp_mpi_launched(void) {
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    const char *pmix = getenv("PMIX_RANK");
    return (size && *size) || (pmix && *pmix);
}

static void say(char *err, size_t len, const char *fmt, const char *a, const char *b) {
    if (err && len) snprintf(err, len, fmt, a ? a : "", b ? b : "");
}

static int mpi_error(int code, const char *what, char *err, size_t len) {
    char text[HP_MPI_MAX_ERROR_STRING + 1] = "unknown error";
    int n = 0;
    if (M.error_string && M.error_string(code, text, &n) == 0) text[n < HP_MPI_MAX_ERROR_STRING ? n : HP_MPI_MAX_ERROR_STRING] = 0;
    say(err, len, "%s failed: %s", what, text);
    return code;
}

int hp_mpi_init(int *rank, int *size, char *err, size_t err_len) {
    if (M.initialised) {
        M.comm_rank(M.comm_world, rank);
        M.comm_size(M.comm_world, size);
        return 0;
    }
    const char *names[] = {"libmpi.so.40", "libmpi.so"};
    for (size_t i = 0; i < sizeof names / sizeof *names && !M.lib; i++) M.lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
    if (!M.lib) {
        say(err, err_len, "started by an MPI launcher but Open MPI's libmpi.so.40 cannot be loaded (%s%s); install openmpi-bin (make setup)", dlerror(), NULL);
        return -1;
    }
    struct { const char *name; void **slot; int object; } syms[] = {
        {"MPI_Init_thread", (void **)&M.init_thread, 0}, {"MPI_Initialized", (void **)&M.initialized, 0},
        {"MPI_Comm_rank", (void **)&M.comm_rank, 0},     {"MPI_Comm_size", (void **)&M.comm_size, 0},
        {"MPI_Allreduce", (void **)&M.allreduce, 0},     {"MPI_Bcast", (void **)&M.bcast, 0},
        {"MPI_Barrier", (void **)&M.barrier, 0},         {"MPI_Abort", (void **)&M.abort_, 0},
        {"MPI_Finalize", (void **)&M.finalize, 0},       {"MPI_Error_string", (void **)&M.error_string, 0},
        {"ompi_mpi_comm_world", &M.comm_world, 1},       {"ompi_mpi_float", &M.t_float, 1},
        {"ompi_mpi_double", &M.t_double, 1},             {"ompi_mpi_byte", &M.t_byte, 1},
        {"ompi_mpi_op_sum", &M.op_sum, 1},               {"ompi_mpi_op_min", &M.op_min, 1},
        {"ompi_mpi_op_max", &M.op_max, 1},
    };
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        *syms[i].slot = dlsym(M.lib, syms[i].name);
        if (!*syms[i].slot) {
            say(err, err_len, "libmpi.so.40 lacks %s: not Open MPI?%s", syms[i].name, NULL);
            return -1;
        }
    }
    int provided = 0;
    int rc = M.init_thread(NULL, NULL, HP_MPI_THREAD_FUNNELED, &provided);
    if (rc != 0) {
        mpi_error(rc, "MPI_Init_thread", err, err_len);
        return -1;
    }
    if (provided < HP_MPI_THREAD_FUNNELED) {
        say(err, err_len, "Open MPI does not provide MPI_THREAD_FUNNELED%s%s", NULL, NULL);
        return -1;
    }
    M.initialised = 1;
    M.comm_rank(M.comm_world, rank);
    M.comm_size(M.comm_world, size);
    return 0;
}

enum { CHUNK = 1 << 30 };

static int allreduce(void *buf, size_t count, size_t elem, handle type, handle op, const char *what, char *err,
                     size_t len) {
    char *p = buf;
    while (count > 0) {
        int n = count > CHUNK ? CHUNK : (int)count;
        int rc = M.allreduce(HP_MPI_IN_PLACE, p, n, type, op, M.comm_world);
        if (rc != 0) return mpi_error(rc, what, err, len);
        p += (size_t)n * elem;
        count -= (size_t)n;
    }
    return 0;
}

int hp_mpi_allreduce_sum_f32(float *buf, size_t count, char *err, size_t err_len) {
    return allreduce(buf, count, sizeof(float), M.t_float, M.op_sum, "MPI_Allreduce(sum, float)", err, err_len);
}
int hp_mpi_allreduce_sum_f64(double *buf, size_t count, char *err, size_t err_len) {
    return allreduce(buf, count, sizeof(double), M.t_double, M.op_sum, "MPI_Allreduce(sum, double)", err, err_len);
}
int hp_mpi_allreduce_min_f64(double *buf, size_t count, char *err, size_t err_len) {
    return allreduce(buf, count, sizeof(double), M.t_double, M.op_min, "MPI_Allreduce(min, double)", err, err_len);
}
int hp_mpi_allreduce_max_f64(double *buf, size_t count, char *err, size_t err_len) {
    return allreduce(buf, count, sizeof(double), M.t_double, M.op_max, "MPI_Allreduce(max, double)", err, err_len);
}

int hp_mpi_bcast(void *buf, size_t bytes, int root, char *err, size_t err_len) {
    char *p = buf;
    while (bytes > 0) {
        int n = bytes > CHUNK ? CHUNK : (int)bytes;
        int rc = M.bcast(p, n, M.t_byte, root, M.comm_world);
        if (rc != 0) return mpi_error(rc, "MPI_Bcast", err, err_len);
        p += n;
        bytes -= (size_t)n;
    }
    return 0;
}

int hp_mpi_barrier(char *err, size_t err_len) {
    int rc = M.barrier(M.comm_world);
    return rc != 0 ? mpi_error(rc, "MPI_Barrier", err, err_len) : 0;
}

void hp_mpi_abort(int code) {
    if (M.initialised) M.abort_(M.comm_world, code);
    _exit(code);
}

void hp_mpi_finalize(void) {
    if (M.initialised) {
        M.finalize();
        M.initialised = 0;
    }
}
