/* atomic.c - write under a temporary name, then rename into place. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "stop.h"

/* "what " for messages, or nothing when what is NULL. */
#define WHAT(w) (w) ? (w) : "", (w) ? " " : ""

static void release(mb_atomic *a)
{
    if (a->tmp)
        mb_stop_untrack_file(a->tmp);
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
}

mb_err mb_atomic_begin(mb_atomic *a, const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t len = strlen(path) + 32;
    a->path = strdup(path);
    a->tmp = malloc(len);
    if (!a->path || !a->tmp) {
        release(a);
        return mb_error_set(MB_ERR_NOMEM, "out of memory opening '%s'", path);
    }
    snprintf(a->tmp, len, "%.*s.%s.%ld.part", (int)(base - path), path, base, (long)getpid());
    /* A second signal ends the process at once: its handler removes it. */
    mb_stop_track_file(a->tmp);
    return MB_OK;
}

mb_err mb_atomic_fopen(mb_atomic *a, const char *what, FILE **fp)
{
    if (!(*fp = fopen(a->tmp, "w")))
        return mb_error_set(MB_ERR_IO, "cannot create %s%s'%s': %s", WHAT(what), a->path,
                            strerror(errno));
    return MB_OK;
}

mb_err mb_atomic_finish(mb_atomic *a, mb_err rc, FILE *fp, int sync, const char *what)
{
    /* fsync before rename: after a crash the name holds a whole file. */
    if (fp && rc == MB_OK && (fflush(fp) != 0 || (sync && fsync(fileno(fp)) != 0)))
        rc = mb_error_set(MB_ERR_IO, "cannot write %s%s'%s': %s", WHAT(what), a->path, strerror(errno));
    if (fp && fclose(fp) != 0 && rc == MB_OK)
        rc = mb_error_set(MB_ERR_IO, "cannot write %s%s'%s': %s", WHAT(what), a->path, strerror(errno));
    if (rc == MB_OK && rename(a->tmp, a->path) != 0)
        rc = mb_error_set(MB_ERR_IO, "cannot rename %s%sinto '%s': %s", WHAT(what), a->path,
                          strerror(errno));
    if (rc != MB_OK)
        unlink(a->tmp);
    release(a);
    return rc;
}

void mb_atomic_discard(mb_atomic *a)
{
    if (a->tmp)
        unlink(a->tmp);
    release(a);
}
