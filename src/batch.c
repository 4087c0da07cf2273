/* batch.c - growable byte buffers and batches of task payloads. */
#include <stdlib.h>
#include <string.h>

#include "mpibatch/batch.h"

mb_err mb_buf_reserve(mb_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return MB_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a message of %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return MB_OK;
}

mb_err mb_buf_append(mb_buf *b, const void *p, size_t n)
{
    mb_err rc = mb_buf_reserve(b, n);
    if (rc == MB_OK && n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
    return rc;
}

void mb_buf_free(mb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

mb_err mb_batch_add(mb_batch *b, const char *data, size_t len)
{
    if (b->count + 2 > b->capoffsets) {
        size_t cap = b->capoffsets ? 2 * b->capoffsets : 64;
        uint64_t *o = realloc(b->offsets, cap * sizeof *o);
        if (!o)
            return mb_error_set(MB_ERR_NOMEM, "out of memory for task payloads");
        b->offsets = o;
        b->capoffsets = cap;
    }
    if (b->count == 0)
        b->offsets[0] = b->bytes.len;
    mb_err rc = mb_buf_append(&b->bytes, data, len);
    if (rc == MB_OK)
        b->offsets[++b->count] = b->bytes.len;
    return rc;
}

void mb_batch_clear(mb_batch *b)
{
    b->count = 0;
    b->bytes.len = 0;
}

void mb_batch_free(mb_batch *b)
{
    free(b->offsets);
    mb_buf_free(&b->bytes);
    memset(b, 0, sizeof *b);
}
