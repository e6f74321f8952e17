#include <sndfile.h>
#include <stdio.h>
#include <sys/types.h>

/* glibc's fopencookie(3), declared here under another name: <stdio.h>
   declares it only for _GNU_SOURCE, which the Glibc module is built without.
   The struct has the layout of cookie_io_functions_t. */
typedef struct {
    ssize_t (*read)(void *cookie, char *buf, size_t size);
    ssize_t (*write)(void *cookie, const char *buf, size_t size);
    int (*seek)(void *cookie, long long *offset, int whence);
    int (*close)(void *cookie);
} bsq_cookie_io_functions;

extern FILE *bsq_fopencookie(void *cookie, const char *mode, bsq_cookie_io_functions io) __asm__("fopencookie");

/* Replaces the process's stderr stream (what fprintf(stderr, …) in the
   decoders writes to). */
static inline void bsq_set_stderr(FILE *f) { stderr = f; }
