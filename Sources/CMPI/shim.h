// MPI for data-parallel training (bsq-train). Open MPI's handles
// (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...) are macros Swift cannot import,
// so the few calls the kit makes are wrapped here, on MPI_COMM_WORLD.
#include <mpi.h>

static inline int bsq_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
}
static inline int bsq_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int bsq_mpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
static inline int bsq_mpi_sum_double(double *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static inline int bsq_mpi_sum_float(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int bsq_mpi_max_long(long *value) {
    return MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
}
static inline int bsq_mpi_allgather_int(int value, int *all) {
    return MPI_Allgather(&value, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
}
static inline int bsq_mpi_allgatherv_bytes(const void *bytes, int count, void *all, const int *counts, const int *offsets) {
    return MPI_Allgatherv(bytes, count, MPI_BYTE, all, counts, offsets, MPI_BYTE, MPI_COMM_WORLD);
}
static inline int bsq_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline void bsq_mpi_abort(int status) { MPI_Abort(MPI_COMM_WORLD, status); }
static inline int bsq_mpi_finalize(void) { return MPI_Finalize(); }
