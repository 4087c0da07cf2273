/* wire.c - encoding and decoding of work and result messages. */
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define PAD8(n) (((n) + 7) & ~(size_t)7)
#define MAX_REASON 4096 /* longer failure messages are cut */

static mb_err put_u64(mb_buf *b, uint64_t v)
{
    return mb_buf_append(b, &v, sizeof v);
}

static mb_err pad(mb_buf *b)
{
    static const char zeros[8];
    return mb_buf_append(b, zeros, PAD8(b->len) - b->len);
}

mb_err mb_wire_put_work(mb_buf *out, uint64_t first, uint64_t count,
                        const mb_batch *payloads, uint64_t from)
{
    uint64_t base = payloads ? payloads->offsets[from] : 0;
    uint64_t nbytes = payloads ? payloads->offsets[from + count] - base : 0;
    mb_err rc = put_u64(out, first);
    if (rc == MB_OK)
        rc = put_u64(out, count);
    /* nbytes + 1 marks a message with payloads, even when all are empty. */
    if (rc == MB_OK)
        rc = put_u64(out, payloads ? nbytes + 1 : 0);
    /* Offsets are rebased to this message's own payload bytes. */
    for (uint64_t i = 0; rc == MB_OK && payloads && i <= count; i++)
        rc = put_u64(out, payloads->offsets[from + i] - base);
    if (rc == MB_OK && payloads)
        rc = mb_buf_append(out, payloads->bytes.data + base, nbytes);
    return rc == MB_OK ? pad(out) : rc;
}

static uint64_t get_u64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static mb_err malformed(const char *what, size_t pos)
{
    return mb_error_set(MB_ERR_INTERNAL, "malformed %s message at byte %zu", what, pos);
}

mb_err mb_wire_get_work(const char *msg, size_t len, size_t *pos, mb_work *w)
{
    size_t at = *pos, need;
    if (len - at < 24)
        return malformed("work", at);
    w->first = get_u64(msg + at);
    w->count = get_u64(msg + at + 8);
    uint64_t marked = get_u64(msg + at + 16), nbytes = marked - 1;
    at += 24;
    w->offsets = w->bytes = NULL;
    if (marked > 0) {
        if ((len - at) / 8 < 1 || w->count > (len - at) / 8 - 1)
            return malformed("work", at);
        w->offsets = msg + at;
        at += 8 * (w->count + 1);
        w->bytes = msg + at;
        if (nbytes > len - at || get_u64(w->offsets + 8 * w->count) != nbytes)
            return malformed("work", at);
        at += nbytes;
    }
    need = PAD8(at);
    if (need > len)
        return malformed("work", at);
    *pos = need;
    return MB_OK;
}

mb_payload mb_work_payload(const mb_work *w, uint64_t i)
{
    if (!w->offsets)
        return (mb_payload){NULL, 0};
    uint64_t a = get_u64(w->offsets + 8 * i), b = get_u64(w->offsets + 8 * (i + 1));
    return (mb_payload){w->bytes + a, b - a};
}

mb_err mb_wire_pack_failure(mb_buf *fails, uint64_t task, const char *text)
{
    size_t n = strlen(text);
    uint32_t len = (uint32_t)(n > MAX_REASON ? MAX_REASON : n);
    mb_err rc = put_u64(fails, task);
    if (rc == MB_OK)
        rc = mb_buf_append(fails, &len, sizeof len);
    return rc == MB_OK ? mb_buf_append(fails, text, len) : rc;
}

mb_err mb_wire_put_result(mb_buf *out, uint64_t first, uint64_t count, size_t rowlen,
                          const double *rows, uint64_t nfail, const char *fails,
                          size_t failbytes)
{
    mb_err rc = put_u64(out, first);
    if (rc == MB_OK)
        rc = put_u64(out, count);
    if (rc == MB_OK)
        rc = put_u64(out, nfail);
    if (rc == MB_OK)
        rc = put_u64(out, nfail ? failbytes : 0);
    if (rc == MB_OK)
        rc = mb_buf_append(out, rows, count * rowlen * sizeof *rows);
    if (rc == MB_OK && nfail)
        rc = mb_buf_append(out, fails, failbytes);
    return rc == MB_OK ? pad(out) : rc;
}

mb_err mb_wire_get_result(const char *msg, size_t len, size_t *pos, size_t rowlen,
                          mb_result *r)
{
    size_t at = *pos;
    if (len - at < 32 || at % 8)
        return malformed("result", at);
    r->first = get_u64(msg + at);
    r->count = get_u64(msg + at + 8);
    r->nfail = get_u64(msg + at + 16);
    r->failbytes = get_u64(msg + at + 24);
    at += 32;
    if (r->count > (len - at) / (8 * (rowlen ? rowlen : 1)))
        return malformed("result", at);
    r->rows = (const double *)(const void *)(msg + at);
    at += r->count * rowlen * 8;
    if (r->failbytes > len - at || r->nfail > r->failbytes / 12)
        return malformed("result", at);
    r->fails = msg + at;
    at = PAD8(at + r->failbytes);
    if (at > len)
        return malformed("result", at);
    *pos = at;
    return MB_OK;
}

int mb_result_next_failure(const mb_result *r, size_t *pos, uint64_t *task,
                           const char **text, size_t *len)
{
    uint32_t n;
    if (*pos + 12 > r->failbytes)
        return 0;
    *task = get_u64(r->fails + *pos);
    memcpy(&n, r->fails + *pos + 8, sizeof n);
    if (*pos + 12 + n > r->failbytes)
        return 0;
    *text = r->fails + *pos + 12;
    *len = n;
    *pos += 12 + n;
    return 1;
}
