/* The all-reduce of a training step's gradient: MPI_Allreduce (in place, float,
 * sum) of the tiny, small and base presets' gradient sizes, as bsq-train calls it
 * (pieces of at most 2^26 floats). Run under mpirun; rank 0 prints one line per size:
 *   floats  median_seconds  algorithm_GB/s  (bytes / time)
 * usage: mpirun -np N mpi_allreduce REPEATS FLOATS... */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int repeats = argc > 1 ? atoi(argv[1]) : 5;
    if (repeats < 1 || repeats > 1000) repeats = 5;
    for (int a = 2; a < argc; a++) {
        long n = atol(argv[a]);
        if (n <= 0) continue;
        float *x = malloc((size_t)n * sizeof(float));
        if (!x) { fprintf(stderr, "mpi_allreduce: out of memory\n"); MPI_Abort(MPI_COMM_WORLD, 1); }
        for (long i = 0; i < n; i++) x[i] = (float)(i % 7) * 1e-3f;
        double *t = malloc((size_t)repeats * sizeof(double));
        for (int r = -1; r < repeats; r++) {   /* one warm-up */
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (long o = 0; o < n; o += 1L << 26) {
                long k = n - o < (1L << 26) ? n - o : (1L << 26);
                MPI_Allreduce(MPI_IN_PLACE, x + o, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            }
            if (r >= 0) t[r] = MPI_Wtime() - t0;
        }
        qsort(t, repeats, sizeof(double), cmp);
        double med = t[repeats / 2];
        if (rank == 0) printf("%ld %.6f %.3f\n", n, med, n * 4.0 / med / 1e9);
        free(t);
        free(x);
    }
    MPI_Finalize();
    return 0;
}
