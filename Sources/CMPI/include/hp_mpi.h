// A thin shim over Open MPI for data-parallel training: the process joins MPI only when a launcher (mpirun, or
// srun with PMIx) started it, and then reaches Open MPI's libmpi.so.40 through dlopen. See hp_mpi.c for why.
#ifndef HP_MPI_H
#define HP_MPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the environment says an MPI launcher started this process (OMPI_COMM_WORLD_SIZE, or PMIX_RANK for
/// srun), else 0. Nothing is loaded.
int hp_mpi_launched(void);

/// Loads libmpi.so.40 and calls MPI_Init_thread (MPI_THREAD_FUNNELED: only the calling thread talks to MPI).
/// Returns 0 and sets *rank and *size, or -1 with a one-line reason in err (no MPI call is made after a failure).
int hp_mpi_init(int *rank, int *size, char *err, size_t err_len);

/// In-place MPI_Allreduce over MPI_COMM_WORLD (sum of floats, sum / min / max of doubles), in chunks of at most
/// 2^30 elements (MPI counts are int). Return 0, or MPI's error code with its text in err.
int hp_mpi_allreduce_sum_f32(float *buf, size_t count, char *err, size_t err_len);
int hp_mpi_allreduce_sum_f64(double *buf, size_t count, char *err, size_t err_len);
int hp_mpi_allreduce_min_f64(double *buf, size_t count, char *err, size_t err_len);
int hp_mpi_allreduce_max_f64(double *buf, size_t count, char *err, size_t err_len);

/// MPI_Bcast of bytes from root. Returns 0 or MPI's error code.
int hp_mpi_bcast(void *buf, size_t bytes, int root, char *err, size_t err_len);

/// MPI_Barrier over MPI_COMM_WORLD.
int hp_mpi_barrier(char *err, size_t err_len);

/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank of the job (mpirun then exits non-zero). Does not return.
void hp_mpi_abort(int code);

/// MPI_Finalize, when MPI was initialised.
void hp_mpi_finalize(void);

#ifdef __cplusplus
}
#endif

#endif
