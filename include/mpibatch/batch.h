/* batch.h - byte buffers and batches of task payloads.
 *
 * Part of the plug-in ABI: a kernel's open_source fills an mb_batch with
 * the payloads of consecutive tasks, which rank 0 then ships to the ranks
 * in work messages (src/wire.h).
 */
#ifndef MPIBATCH_BATCH_H
#define MPIBATCH_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

/* A growable byte buffer; zero-initialise, release with mb_buf_free(). */
typedef struct mb_buf {
    char *data;
    size_t len, cap;
} mb_buf;

/* Make room for extra more bytes. */
mb_err mb_buf_reserve(mb_buf *b, size_t extra);
/* Append n bytes. */
mb_err mb_buf_append(mb_buf *b, const void *p, size_t n);
void mb_buf_free(mb_buf *b);

/* Payloads of consecutive tasks: task i's bytes are
 * bytes[offsets[i] .. offsets[i+1]).  Zero-initialise; owned by its user. */
typedef struct mb_batch {
    uint64_t count;
    uint64_t *offsets;     /* count + 1 entries when count > 0 */
    size_t capoffsets;
    mb_buf bytes;
} mb_batch;

/* Append one task's payload. */
mb_err mb_batch_add(mb_batch *b, const char *data, size_t len);
/* Empty the batch, keeping its memory. */
void mb_batch_clear(mb_batch *b);
void mb_batch_free(mb_batch *b);

#endif
