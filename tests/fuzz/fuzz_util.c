/* fuzz_util.c - helpers shared by the fuzz targets (fuzz.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    fuzz_check(t != NULL, "out of memory copying the input");
    if (size)
        memcpy(t, data, size);
    t[size] = '\0';
    return t;
}

int fuzz_memfile(const void *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz", 0);
    const char *p = data;
    fuzz_check(fd >= 0, "memfd_create failed");
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        fuzz_check(n > 0, "writing the in-memory file failed");
        p += n;
        size -= (size_t)n;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

void fuzz_check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz invariant broken: %s\n", what);
        abort();
    }
}
