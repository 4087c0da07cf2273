/* source.h - where task payloads come from (rank 0 only).
 *
 * A source streams the payloads of tasks 0, 1, 2, ... in order; rank 0
 * reads a chunk's worth at a time and ships it, so no rank ever holds the
 * whole input.  Index kernels (euler, sleep) need no source: their tasks
 * are numbers.
 */
#ifndef MPIBATCH_SOURCE_H
#define MPIBATCH_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/batch.h"
#include "mpibatch/error.h"

typedef struct mb_source {
    const char *name;
    /* Append up to max payloads to out; fewer only at the end of input. */
    mb_err (*read)(void *state, uint64_t max, mb_batch *out);
    void (*close)(void *state);
    void *state;
    /* Optional (left zero by a source that has none; added compatibly at
     * the end): */
    uint64_t total;       /* tasks in the input, counted when opened; 0: unknown */
    /* Whether the last read() stopped at a barrier of the input: the
     * tasks read so far must all end before the next read's start (the
     * schedule waits); read() may then return fewer than max payloads,
     * even none.  The next read() goes on past it. */
    int (*at_barrier)(void *state);
} mb_source;

/* Close a source (safe on a zeroed one). */
void mb_source_close(mb_source *src);

/* Read up to max payloads into out like src->read(), going on past
 * barriers: fewer only at the end of input.  For readers that do not
 * schedule (resuming, printing). */
mb_err mb_source_read_through(mb_source *src, uint64_t max, mb_batch *out);

#endif
