#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/* Stops OpenBLAS's worker threads (they are started again when needed). */
int blas_thread_shutdown_(void);
