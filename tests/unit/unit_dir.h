/* unit_dir.h - the scratch directory of a Check suite that writes files.
 * Needs _POSIX_C_SOURCE 200809L before the first include. */
#ifndef MPIBATCH_TESTS_UNIT_DIR_H
#define MPIBATCH_TESTS_UNIT_DIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "unit.h"

/* Entries of dir other than . and ..: a stray temporary file shows. */
static inline int mb_test_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* Remove the files a test left in dir, then dir itself; returns how many
 * files there were. */
static inline int mb_test_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    int n = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
            n++;
        }
    if (d)
        closedir(d);
    rmdir(dir);
    return n;
}

/* The temporary name a writer uses for path (atomic.h); caller frees. */
static inline char *mb_test_temp_name(const char *path)
{
    mb_atomic a;
    if (mb_atomic_begin(&a, path) != MB_OK)
        return NULL;
    free(a.path);
    return a.tmp;
}

#endif
