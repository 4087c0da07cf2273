/* atomic.h - files that appear whole or not at all.
 *
 * Every file mpibatch writes for the user (output, report, status
 * document, model, document store, corpus, downloads) is written under a
 * temporary name beside the final one, ".NAME.PID.part" in the same
 * directory (so the rename stays on one file system), and renamed into
 * place only after its last write succeeded.  A run that fails or is
 * killed leaves at most a .part file, never a file that looks complete;
 * one ended by a second SIGTERM, SIGUSR1 or SIGINT removes it (stop.h).
 */
#ifndef MPIBATCH_ATOMIC_H
#define MPIBATCH_ATOMIC_H

#include <stdio.h>

#include "mpibatch/error.h"

typedef struct mb_atomic {
    char *path;   /* the final name */
    char *tmp;    /* the name written to until mb_atomic_commit */
} mb_atomic;

/* Choose the temporary name for path (nothing is created: the writer
 * creates a->tmp itself, with fopen or H5Fcreate).  Release a with
 * mb_atomic_commit or mb_atomic_discard. */
mb_err mb_atomic_begin(mb_atomic *a, const char *path);

/* Create a->tmp for writing with stdio (after mb_atomic_begin).  what names
 * the file in error messages ("report", "status document"; NULL: no name). */
mb_err mb_atomic_fopen(mb_atomic *a, const char *what, FILE **fp);

/* Close fp (when not NULL: fflush, fsync when sync, fclose), then, if rc is
 * MB_OK, rename the temporary file into place; on any failure remove it.
 * Releases a and returns rc or the first new error. */
mb_err mb_atomic_finish(mb_atomic *a, mb_err rc, FILE *fp, int sync, const char *what);

/* Remove the temporary file, if any, and release a (safe on a zeroed one). */
void mb_atomic_discard(mb_atomic *a);

#endif
