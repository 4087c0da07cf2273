/* collector.c - reorder buffer feeding output, reduction and statistics. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "journal.h"
#include "row.h"

/* A chunk that arrived ahead of a gap: a private copy of its message. */
typedef struct held {
    uint64_t first;
    char *msg;
    size_t len;
    int replayed;         /* from the journal: no stats */
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
    mb_failure kept[MB_COLLECTOR_KEEP];
    size_t nkept;
    mb_slow_task slow[MB_COLLECTOR_SLOWEST]; /* longest first */
    size_t nslow;
    mb_journal *journal;  /* records each chunk as it arrives, or NULL */
    uint64_t max_count;   /* --max-failures N */
    double max_percent;   /* --max-failures P%; < 0: none */
    char limit[256];      /* why the job must stop ("" while it need not) */
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
    c->max_count = UINT64_MAX;
    c->max_percent = -1;
    *cp = c;
    return MB_OK;
}

/* Record one failure: in the output's table, and among the kept few. */
static mb_err note_failure(mb_collector *c, uint64_t task, const char *reason)
{
    mb_err rc = c->out ? mb_output_add_failure(c->out, task, reason) : MB_OK;
    if (rc == MB_OK && c->nkept < MB_COLLECTOR_KEEP) {
        char *copy = strdup(reason);
        if (!copy)
            return mb_error_set(MB_ERR_NOMEM, "out of memory for a failure reason");
        c->kept[c->nkept++] = (mb_failure){task, copy};
    }
    c->failed++;
    return rc;
}

/* The reason of failed task `task`: the next entry of r's failures, which
 * are in task order like the rows. */
static mb_err next_reason(const mb_result *r, size_t *pos, uint64_t task, mb_buf *text)
{
    uint64_t t;
    const char *p;
    size_t len;
    if (!mb_result_next_failure(r, pos, &t, &p, &len) || t != task)
        return mb_error_set(MB_ERR_INTERNAL, "task %llu failed without a reason",
                            (unsigned long long)task);
    text->len = 0;
    mb_err rc = mb_buf_reserve(text, len + 1);
    if (rc == MB_OK) {
        memcpy(text->data, p, len);
        text->data[len] = '\0';
    }
    return rc;
}

/* --max-failures, checked as each chunk passes: the percentage only once
 * MIN_SAMPLE tasks are done, so a failure among the first few does not
 * count as 100%. */
#define MIN_SAMPLE 100

static void check_limit(mb_collector *c)
{
    if (*c->limit)
        return;
    if (c->failed > c->max_count)
        snprintf(c->limit, sizeof c->limit, "stopped early: %llu tasks failed, more than "
                 "--max-failures %llu (%llu tasks done)", (unsigned long long)c->failed,
                 (unsigned long long)c->max_count, (unsigned long long)c->next);
    else if (c->max_percent >= 0 && c->next >= MIN_SAMPLE &&
             (double)c->failed * 100.0 > c->max_percent * (double)c->next)
        snprintf(c->limit, sizeof c->limit, "stopped early: %llu of %llu tasks done failed, "
                 "more than --max-failures %g%%", (unsigned long long)c->failed,
                 (unsigned long long)c->next, c->max_percent);
}

const char *mb_collector_limit(const mb_collector *c)
{
    return *c->limit ? c->limit : NULL;
}

/* Keep task among the slowest if it is; a few compares per task. */
static void note_slow(mb_collector *c, uint64_t task, int rank, double seconds)
{
    size_t i = c->nslow;
    if (i < MB_COLLECTOR_SLOWEST)
        c->nslow++;
    else if (seconds > c->slow[i - 1].seconds)
        i--; /* the fastest kept makes room */
    else
        return;
    for (; i > 0 && c->slow[i - 1].seconds < seconds; i--)
        c->slow[i] = c->slow[i - 1];
    c->slow[i] = (mb_slow_task){task, seconds, rank};
}

/* Pass the rows of r (tasks c->next..) on in order; replayed rows come
 * from the journal and count in no statistics. */
static mb_err emit(mb_collector *c, const mb_result *r, int replayed)
{
    size_t fpos = 0;
    mb_buf reason = {0};
    mb_err rc = MB_OK;
    for (uint64_t i = 0; rc == MB_OK && i < r->count; i++) {
        const double *row = r->rows + i * c->rowlen;
        const double *extra = row + c->reclen;
        uint64_t task = c->next + i;
        int rank = (int)extra[MB_ROW_RANK];
        int failed = extra[MB_ROW_STATUS] != 0;
        /* A replayed row may come from a run with more ranks. */
        if (!replayed && (rank < 0 || rank >= c->nranks)) {
            rc = mb_error_set(MB_ERR_INTERNAL, "task %llu: result from unknown rank %d",
                              (unsigned long long)task, rank);
            break;
        }
        if (!replayed) {
            c->stats[rank].tasks++;
            c->stats[rank].busy_seconds += extra[MB_ROW_SECONDS];
            note_slow(c, task, rank, extra[MB_ROW_SECONDS]);
        }
        if (failed && (rc = next_reason(r, &fpos, task, &reason)) == MB_OK)
            rc = note_failure(c, task, reason.data);
        if (rc == MB_OK && c->kernel->reduce)
            rc = c->kernel->reduce(c->kstate, task, failed ? reason.data : NULL, row);
    }
    mb_buf_free(&reason);
    if (rc == MB_OK && c->out)
        rc = mb_output_append(c->out, r->rows, r->count);
    c->next += r->count;
    check_limit(c);
    return rc;
}

static mb_err hold(mb_collector *c, const mb_result *r, int replayed)
{
    size_t idx;
    mb_buf copy = {0};
    if (c->nheld == c->capheld) {
        size_t cap = c->capheld ? 2 * c->capheld : 16;
        held *h = realloc(c->held, cap * sizeof *h);
        if (!h)
            return mb_error_set(MB_ERR_NOMEM, "out of memory holding results");
        c->held = h;
        c->capheld = cap;
    }
    mb_err rc = mb_wire_put_result(&copy, r->first, r->count, c->rowlen, r->rows, r->nfail,
                                   r->fails, r->failbytes);
    if (rc != MB_OK)
        return rc;
    /* Insertion keeps the smallest `first` at the end, so draining pops;
     * at most a few chunks per rank are ever held. */
    for (idx = c->nheld; idx > 0 && c->held[idx - 1].first < r->first; idx--)
        c->held[idx] = c->held[idx - 1];
    c->held[idx] = (held){r->first, copy.data, copy.len, replayed};
    c->nheld++;
    return MB_OK;
}

static mb_err drain(mb_collector *c)
{
    while (c->nheld > 0 && c->held[c->nheld - 1].first == c->next) {
        held h = c->held[--c->nheld];
        mb_result r;
        size_t pos = 0;
        mb_err rc = mb_wire_get_result(h.msg, h.len, &pos, c->rowlen, &r);
        if (rc == MB_OK)
            rc = emit(c, &r, h.replayed);
        free(h.msg);
        if (rc != MB_OK)
            return rc;
    }
    return MB_OK;
}

/* A chunk's result, new (recorded in the journal at once, whatever its
 * place in task order) or replayed from the journal. */
static mb_err add(mb_collector *c, const mb_result *r, int replayed)
{
    mb_err rc = MB_OK;
    if (r->first < c->next)
        return mb_error_set(MB_ERR_INTERNAL, "duplicate result chunk at task %llu",
                            (unsigned long long)r->first);
    if (!replayed && c->journal)
        rc = mb_journal_append(c->journal, r);
    if (rc == MB_OK)
        rc = r->first == c->next ? emit(c, r, replayed) : hold(c, r, replayed);
    return rc == MB_OK ? drain(c) : rc;
}

mb_err mb_collector_add(mb_collector *c, const mb_result *r)
{
    return add(c, r, 0);
}

void mb_collector_set_journal(mb_collector *c, mb_journal *j)
{
    c->journal = j;
}

void mb_collector_set_limit(mb_collector *c, uint64_t max_count, double max_percent)
{
    c->max_count = max_count;
    c->max_percent = max_percent;
}

mb_err mb_collector_replay(mb_collector *c, const mb_result *r)
{
    return add(c, r, 1);
}

uint64_t mb_collector_done(const mb_collector *c)
{
    return c->next;
}

uint64_t mb_collector_failed(const mb_collector *c)
{
    return c->failed;
}

const mb_failure *mb_collector_failures(const mb_collector *c, size_t *n)
{
    *n = c->nkept;
    return c->kept;
}

size_t mb_collector_pending(const mb_collector *c)
{
    return c->nheld;
}

const mb_rank_stats *mb_collector_stats(const mb_collector *c)
{
    return c->stats;
}

const mb_slow_task *mb_collector_slowest(const mb_collector *c, size_t *n)
{
    *n = c->nslow;
    return c->slow;
}

void mb_collector_free(mb_collector *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nheld; i++)
        free(c->held[i].msg);
    for (size_t i = 0; i < c->nkept; i++)
        free(c->kept[i].reason);
    free(c->held);
    free(c->stats);
    free(c);
}
