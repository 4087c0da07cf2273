/* stage.h - path options that may be URLs, seen as local files.
 *
 * Rank 0 does the I/O with the outside world.  An output at a URL is
 * written to a local temporary file and uploaded once complete; an input
 * that needs random access (an HDF5 model or document store, a job file)
 * is fetched to a local temporary file first.  A plain path is used as it
 * is.  Streamed inputs (JSON lines) need no staging: the lines source
 * reads URLs directly.
 */
#ifndef MPIBATCH_STAGE_H
#define MPIBATCH_STAGE_H

#include "mpibatch/error.h"
#include "io/transfer.h"

typedef struct mb_staged {
    char *target;   /* the path or URL the user gave */
    char *local;    /* the file to use: target itself, or a temporary file */
    int remote;
} mb_staged;

/* Prepare an output: s->local is where to write.  A URL is checked now
 * (scheme, credentials), so a bad one fails before any work is done. */
mb_err mb_stage_output(mb_staged *s, const char *target);

/* Upload a complete output to its URL (nothing for a plain path) and
 * remove the temporary file. */
mb_err mb_stage_commit(mb_staged *s, const mb_url_opts *o);

/* Fetch an input to a local file (nothing for a plain path). */
mb_err mb_stage_input(mb_staged *s, const char *target, const mb_url_opts *o);

/* Remove any temporary file and free s (safe on a zeroed or used one). */
void mb_stage_release(mb_staged *s);

#endif
