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

#include "mpibatch/error.h"
#include "mpibatch/urlio.h"
#include "mpibatch/wire.h"

typedef struct mb_source {
    const char *name;
    /* Append up to max payloads to out; fewer only at the end of input. */
    mb_err (*read)(void *state, uint64_t max, mb_batch *out);
    void (*close)(void *state);
    void *state;
} mb_source;

/* One task per line of a text file or of an object at a URL (JSON lines
 * or plain text, streamed in ranges with o's retries), without the line's
 * '\n'.  A line longer than max_record bytes is delivered cut to
 * max_record + 1 bytes (so the kernel can reject it) and the rest is
 * skipped, keeping memory bounded.  The caller owns *src and releases it
 * with mb_source_close(). */
mb_err mb_source_open_lines(mb_source *src, const char *path, size_t max_record,
                           const mb_url_opts *o);

/* Close a source (safe on a zeroed one). */
void mb_source_close(mb_source *src);

#endif
