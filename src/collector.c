/* collector.c - reorder buffer feeding output, reduction and statistics. */
#include <stdlib.h>
#include <string.h>

#include "mpibatch/collector.h"
#include "mpibatch/row.h"

typedef struct held {
    uint64_t first, count;
    double *rows;
} held;

struct mb_collector {
    const mb_kernel *kernel;
    void *kstate;
    size_t reclen, rowlen;
    int nranks;
    mb_output *out;
    uint64_t next;        /* first task not yet passed on */
    uint64_t failed;
    mb_rank_stats *stats;
    held *held;           /* sorted by first, descending: the next is last */
    size_t nheld, capheld;
};

mb_err mb_collector_init(mb_collector **cp, const mb_kernel *kernel, void *kstate,
                         size_t reclen, int nranks, mb_output *out)
{
    mb_collector *c = calloc(1, sizeof *c);
    *cp = NULL;
    if (!c || !(c->stats = calloc((size_t)nranks, sizeof *c->stats))) {
        free(c);
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the collector");
    }
    c->kernel = kernel;
    c->kstate = kstate;
    c->reclen = reclen;
    c->rowlen = mb_row_len(reclen);
    c->nranks = nranks;
    c->out = out;
    *cp = c;
    return MB_OK;
}

/* Pass rows of tasks c->next.. on to the output, reduction and stats. */
static mb_err emit(mb_collector *c, const double *rows, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        const double *row = rows + i * c->rowlen;
        const double *extra = row + c->reclen;
        int rank = (int)extra[MB_ROW_RANK];
        if (rank < 0 || rank >= c->nranks)
            return mb_error_set(MB_ERR_INTERNAL, "task %llu: result from unknown rank %d",
                                (unsigned long long)(c->next + i), rank);
        c->stats[rank].tasks++;
        c->stats[rank].busy_seconds += extra[MB_ROW_SECONDS];
        if (extra[MB_ROW_STATUS] != 0)
            c->failed++;
        else if (c->kernel->reduce)
            c->kernel->reduce(c->kstate, c->next + i, row);
    }
    mb_err rc = c->out ? mb_output_append(c->out, rows, count) : MB_OK;
    c->next += count;
    return rc;
}

static mb_err hold(mb_collector *c, uint64_t first, uint64_t count, const double *rows)
{
    size_t bytes = count * c->rowlen * sizeof(double), pos;
    if (c->nheld == c->capheld) {
        size_t cap = c->capheld ? 2 * c->capheld : 16;
        held *h = realloc(c->held, cap * sizeof *h);
        if (!h)
            return mb_error_set(MB_ERR_NOMEM, "out of memory holding results");
        c->held = h;
        c->capheld = cap;
    }
    double *copy = malloc(bytes ? bytes : 1);
    if (!copy)
        return mb_error_set(MB_ERR_NOMEM, "out of memory holding results");
    memcpy(copy, rows, bytes);
    /* Insertion keeps the smallest `first` at the end, so draining pops. */
    for (pos = c->nheld; pos > 0 && c->held[pos - 1].first < first; pos--)
        c->held[pos] = c->held[pos - 1];
    c->held[pos] = (held){first, count, copy};
    c->nheld++;
    return MB_OK;
}

static mb_err drain(mb_collector *c)
{
    while (c->nheld > 0 && c->held[c->nheld - 1].first == c->next) {
        held h = c->held[--c->nheld];
        mb_err rc = emit(c, h.rows, h.count);
        free(h.rows);
        if (rc != MB_OK)
            return rc;
    }
    return MB_OK;
}

mb_err mb_collector_add(mb_collector *c, const double *msg, size_t len)
{
    if (len < MB_CHUNK_HEADER)
        return mb_error_set(MB_ERR_INTERNAL, "result message of %zu values is too short", len);
    uint64_t first = (uint64_t)msg[0], count = (uint64_t)msg[1];
    if (len != MB_CHUNK_HEADER + count * c->rowlen || first < c->next)
        return mb_error_set(MB_ERR_INTERNAL, "malformed or duplicate result chunk at task %llu",
                            (unsigned long long)first);
    const double *rows = msg + MB_CHUNK_HEADER;
    mb_err rc = first == c->next ? emit(c, rows, count) : hold(c, first, count, rows);
    return rc == MB_OK ? drain(c) : rc;
}

uint64_t mb_collector_done(const mb_collector *c)
{
    return c->next;
}

uint64_t mb_collector_failed(const mb_collector *c)
{
    return c->failed;
}

size_t mb_collector_pending(const mb_collector *c)
{
    return c->nheld;
}

const mb_rank_stats *mb_collector_stats(const mb_collector *c)
{
    return c->stats;
}

void mb_collector_free(mb_collector *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nheld; i++)
        free(c->held[i].rows);
    free(c->held);
    free(c->stats);
    free(c);
}
