/* The sgemm peak of the system OpenBLAS, for make bench: the best of several
 * runs of square and model-shaped products, on the number of threads given. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void openblas_set_num_threads(int);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int m = argc > 2 ? atoi(argv[2]) : 2048, n = argc > 3 ? atoi(argv[3]) : 2048, k = argc > 4 ? atoi(argv[4]) : 2048;
    openblas_set_num_threads(threads);
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 7; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
        t = now() - t;
        if (t < best) best = t;
    }
    printf("%.1f\n", 2.0 * m * n * k / best / 1e9);
    return 0;
}
