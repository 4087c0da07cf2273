/* schedule.c - the static and dynamic schedules, retries and speculation. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpibatch/clock.h"
#include "mpibatch/comm.h"
#include "mpibatch/row.h"
#include "mpibatch/schedule.h"
#include "mpibatch/wire.h"

/* A static round: about this many tasks or payload bytes, whichever comes
 * first.  Bounds rank 0's buffers while keeping collectives rare. */
#define ROUND_TASKS (1u << 18)
#define ROUND_BYTES (32u << 20)

/* Chunks a dynamic worker holds: one running, one queued behind it. */
#define DEPTH 2

enum { TAG_WORK = 1, TAG_STOP, TAG_RESULT, TAG_DONE };

/* ---- rank 0's feed of chunks ------------------------------------------- */

typedef struct feed {
    const mb_run *r;
    uint64_t next;     /* first task of the next chunk */
    int done;          /* no more tasks */
    mb_batch batch;    /* payloads of the chunk being encoded */
} feed;

/* Append the next chunk's work message to out; *count is 0 at the end. */
static mb_err feed_next(feed *f, mb_buf *out, uint64_t *count)
{
    const mb_run *r = f->r;
    mb_err rc;
    *count = 0;
    if (f->done)
        return MB_OK;
    if (!r->source) {
        *count = r->ntasks - f->next < r->chunk ? r->ntasks - f->next : r->chunk;
        f->done = f->next + *count >= r->ntasks;
    } else {
        mb_batch_clear(&f->batch);
        if ((rc = r->source->read(r->source->state, r->chunk, &f->batch)) != MB_OK)
            return rc;
        *count = f->batch.count;
        f->done = *count < r->chunk;
    }
    if (*count == 0)
        return MB_OK;
    rc = mb_wire_put_work(out, f->next, *count, r->source ? &f->batch : NULL, 0);
    f->next += *count;
    return rc;
}

/* Rank 0: where the feed is, for the progress line and status document
 * (which draw or write only when due). */
static void show_progress(const mb_run *r, const feed *f)
{
    mb_progress_feed pf = {.dispatched = f->next, .input_done = f->done,
                           .retried = r->retried, .speculated = r->speculated};
    mb_progress_update(r->progress, &pf);
}

/* ---- running tasks on any rank ----------------------------------------- */

typedef struct runner {
    const mb_run *r;
    double offset;      /* this rank's monotonic clock -> seconds since t0 */
    double *rows;       /* rows of the chunk being run */
    size_t caprows;
    mb_buf fails;       /* its failures, packed */
    uint64_t nfail;
} runner;

static mb_err runner_init(runner *x, const mb_run *r)
{
    memset(x, 0, sizeof *x);
    x->r = r;
    x->offset = mb_clock_wall() - r->t0 - mb_clock_now();
    return MB_OK;
}

static void runner_free(runner *x)
{
    free(x->rows);
    mb_buf_free(&x->fails);
}

static mb_err runner_reserve(runner *x, uint64_t count)
{
    size_t need = count * mb_row_len(x->r->reclen);
    if (need > x->caprows) {
        double *p = realloc(x->rows, need * sizeof *p);
        if (!p)
            return mb_error_set(MB_ERR_NOMEM, "out of memory for %llu result rows",
                                (unsigned long long)count);
        x->rows = p;
        x->caprows = need;
    }
    x->fails.len = 0;
    x->nfail = 0;
    return MB_OK;
}

/* Run task i of w into its row; a failure keeps its reason. */
static mb_err run_task(runner *x, const mb_work *w, uint64_t i)
{
    const mb_run *r = x->r;
    double *row = x->rows + i * mb_row_len(r->reclen), *extra = row + r->reclen;
    memset(row, 0, r->reclen * sizeof *row);
    mb_error_clear();
    double t = mb_clock_now();
    mb_err rc = r->kernel->run(r->kstate, w->first + i, mb_work_payload(w, i), row);
    extra[MB_ROW_SECONDS] = mb_clock_now() - t;
    extra[MB_ROW_RANK] = r->rank;
    extra[MB_ROW_START] = t + x->offset;
    extra[MB_ROW_STATUS] = (double)rc;
    if (rc == MB_OK)
        return MB_OK;
    x->nfail++;
    return mb_wire_pack_failure(&x->fails, w->first + i, *mb_error_message() ? mb_error_message()
                                                                             : mb_strerror(rc));
}

/* Run a whole chunk and append its result message to out. */
static mb_err run_chunk(runner *x, const mb_work *w, mb_buf *out)
{
    mb_err rc = runner_reserve(x, w->count);
    for (uint64_t i = 0; rc == MB_OK && i < w->count; i++)
        rc = run_task(x, w, i);
    if (rc == MB_OK)
        rc = mb_wire_put_result(out, w->first, w->count, mb_row_len(x->r->reclen), x->rows,
                                x->nfail, x->fails.data, x->fails.len);
    return rc;
}

static mb_err collect(const mb_run *r, const char *msg, size_t len, size_t *pos)
{
    mb_result res;
    mb_err rc = mb_wire_get_result(msg, len, pos, mb_row_len(r->reclen), &res);
    return rc == MB_OK ? mb_collector_add(r->col, &res) : rc;
}

static int fits_int(size_t n)
{
    return n <= (size_t)INT_MAX;
}

/* ---- retries (rank 0) -------------------------------------------------- */

/* A chunk with failed tasks waiting for their re-runs. */
typedef struct pending {
    uint64_t first, count;
    double *rows;         /* count rows, replaced as re-runs return */
    char **reason;        /* per task: why it failed last, NULL if it did not */
    unsigned *attempts;   /* re-runs started per task */
    uint64_t waiting;     /* tasks whose re-runs are queued or running */
    mb_buf work;          /* the chunk's work message: payloads to re-send */
} pending;

/* One task to run again, on any rank but `avoid` when there is another. */
typedef struct retry_item {
    pending *p;
    uint64_t i;
    int avoid;
} retry_item;

typedef struct retrier {
    mb_run *r;
    retry_item *queue;
    size_t nqueue, capqueue;
    mb_batch one;         /* the payload of one re-run */
    mb_buf msg, fails;    /* a finished chunk's result message */
} retrier;

static void pending_free(pending *p)
{
    for (uint64_t i = 0; p && i < p->count; i++)
        free(p->reason[i]);
    if (p) {
        free(p->rows);
        free(p->reason);
        free(p->attempts);
        mb_buf_free(&p->work);
    }
    free(p);
}

static void retrier_free(retrier *rt)
{
    /* Only a failed job leaves items queued; their chunks go with them. */
    for (size_t k = 0; k < rt->nqueue; k++) {
        pending *p = rt->queue[k].p;
        for (size_t m = k + 1; m < rt->nqueue; m++)
            if (rt->queue[m].p == p)
                rt->queue[m].p = NULL;
        pending_free(p);
    }
    free(rt->queue);
    mb_batch_free(&rt->one);
    mb_buf_free(&rt->msg);
    mb_buf_free(&rt->fails);
}

static mb_err retry_push(retrier *rt, pending *p, uint64_t i, int avoid)
{
    if (rt->nqueue == rt->capqueue) {
        size_t cap = rt->capqueue ? 2 * rt->capqueue : 16;
        retry_item *q = realloc(rt->queue, cap * sizeof *q);
        if (!q)
            return mb_error_set(MB_ERR_NOMEM, "out of memory queueing a retry");
        rt->queue = q;
        rt->capqueue = cap;
    }
    rt->queue[rt->nqueue++] = (retry_item){p, i, avoid};
    return MB_OK;
}

/* Take the first queued re-run that `rank` may run; 0 when none. */
static int retry_take(retrier *rt, int rank, retry_item *it)
{
    /* With a single rank running tasks, "another rank" does not exist. */
    int alone = rt->r->size - (rt->r->root_serves_only ? 1 : 0) == 1;
    for (size_t k = 0; k < rt->nqueue; k++)
        if (rt->queue[k].avoid != rank || alone) {
            *it = rt->queue[k];
            memmove(rt->queue + k, rt->queue + k + 1, (rt->nqueue - k - 1) * sizeof *it);
            rt->nqueue--;
            return 1;
        }
    return 0;
}

/* Append the work message re-running item it's task to out. */
static mb_err retry_work(retrier *rt, const retry_item *it, mb_buf *out)
{
    mb_work w;
    size_t pos = 0;
    uint64_t task = it->p->first + it->i;
    mb_err rc = mb_wire_get_work(it->p->work.data, it->p->work.len, &pos, &w);
    if (rc != MB_OK)
        return rc;
    it->p->attempts[it->i]++;
    rt->r->retried++;
    if (!w.offsets)
        return mb_wire_put_work(out, task, 1, NULL, 0);
    mb_payload pl = mb_work_payload(&w, it->i);
    mb_batch_clear(&rt->one);
    rc = mb_batch_add(&rt->one, pl.data, pl.len);
    return rc == MB_OK ? mb_wire_put_work(out, task, 1, &rt->one, 0) : rc;
}

/* All re-runs of p ended: pass its final rows to the collector. */
static mb_err pending_finish(retrier *rt, pending *p)
{
    size_t rowlen = mb_row_len(rt->r->reclen), pos = 0;
    uint64_t nfail = 0;
    mb_err rc = MB_OK;
    rt->fails.len = 0;
    for (uint64_t i = 0; rc == MB_OK && i < p->count; i++)
        if (p->reason[i]) {
            rc = mb_wire_pack_failure(&rt->fails, p->first + i, p->reason[i]);
            nfail++;
        }
    rt->msg.len = 0;
    if (rc == MB_OK)
        rc = mb_wire_put_result(&rt->msg, p->first, p->count, rowlen, p->rows, nfail,
                                rt->fails.data, rt->fails.len);
    if (rc == MB_OK)
        rc = collect(rt->r, rt->msg.data, rt->msg.len, &pos);
    pending_free(p);
    return rc;
}

/* Set task i's failure reason from the next failure of res. */
static mb_err take_reason(pending *p, uint64_t i, const mb_result *res, size_t *fpos)
{
    uint64_t t;
    const char *text;
    size_t len;
    free(p->reason[i]);
    p->reason[i] = NULL;
    if (!mb_result_next_failure(res, fpos, &t, &text, &len) || t != p->first + i)
        return mb_error_set(MB_ERR_INTERNAL, "task %llu failed without a reason",
                            (unsigned long long)(p->first + i));
    if (!(p->reason[i] = strndup(text, len)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a failure reason");
    return MB_OK;
}

static mb_err pending_new(const mb_result *res, size_t rowlen, const char *work, size_t wlen,
                          pending **pp)
{
    pending *p = calloc(1, sizeof *p);
    *pp = p;
    if (!p || !(p->rows = malloc(res->count * rowlen * sizeof *p->rows)) ||
        !(p->reason = calloc(res->count, sizeof *p->reason)) ||
        !(p->attempts = calloc(res->count, sizeof *p->attempts)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory holding a chunk for retries");
    p->first = res->first;
    p->count = res->count;
    memcpy(p->rows, res->rows, res->count * rowlen * sizeof *p->rows);
    return mb_buf_append(&p->work, work, wlen);
}

/* A chunk's first result: straight to the collector, or held while its
 * failed tasks run again.  work[0..wlen) is the chunk's work message. */
static mb_err intake(retrier *rt, const mb_result *res, const char *work, size_t wlen)
{
    const mb_run *r = rt->r;
    size_t rowlen = mb_row_len(r->reclen), fpos = 0;
    pending *p;
    if (res->nfail == 0 || r->retries == 0)
        return mb_collector_add(r->col, res);
    mb_err rc = pending_new(res, rowlen, work, wlen, &p);
    for (uint64_t i = 0; rc == MB_OK && i < p->count; i++) {
        const double *extra = p->rows + i * rowlen + r->reclen;
        if (extra[MB_ROW_STATUS] == 0)
            continue;
        if ((rc = take_reason(p, i, res, &fpos)) == MB_OK)
            rc = retry_push(rt, p, i, (int)extra[MB_ROW_RANK]);
        p->waiting++;
    }
    if (rc != MB_OK) {
        /* Drop the items already queued for p with it. */
        while (rt->nqueue > 0 && rt->queue[rt->nqueue - 1].p == p)
            rt->nqueue--;
        pending_free(p);
    }
    return rc;
}

/* The result of re-running task i of p. */
static mb_err retry_done(retrier *rt, pending *p, uint64_t i, const mb_result *res)
{
    const mb_run *r = rt->r;
    size_t rowlen = mb_row_len(r->reclen), fpos = 0;
    const double *extra = res->rows + r->reclen;
    mb_err rc = MB_OK;
    if (res->count != 1 || res->first != p->first + i)
        return mb_error_set(MB_ERR_INTERNAL, "a retry of task %llu came back as task %llu",
                            (unsigned long long)(p->first + i), (unsigned long long)res->first);
    memcpy(p->rows + i * rowlen, res->rows, rowlen * sizeof *p->rows);
    free(p->reason[i]);
    p->reason[i] = NULL;
    if (extra[MB_ROW_STATUS] != 0 && (rc = take_reason(p, i, res, &fpos)) == MB_OK &&
        p->attempts[i] < r->retries)
        return retry_push(rt, p, i, (int)extra[MB_ROW_RANK]);
    if (rc != MB_OK)
        return rc;
    return --p->waiting == 0 ? pending_finish(rt, p) : MB_OK;
}

/* ---- static ------------------------------------------------------------ */

typedef struct round_bufs {
    mb_buf *deal;         /* rank 0: one buffer of work messages per rank */
    mb_buf mine, results, all;
    int *counts, *displs; /* rank 0 */
    size_t *cursor;       /* rank 0: read position in each rank's results */
    size_t *wcursor;      /* rank 0: read position in each rank's work */
} round_bufs;

static void round_free(round_bufs *b, int size)
{
    for (int p = 0; b->deal && p < size; p++)
        mb_buf_free(&b->deal[p]);
    free(b->deal);
    mb_buf_free(&b->mine);
    mb_buf_free(&b->results);
    mb_buf_free(&b->all);
    free(b->counts);
    free(b->displs);
    free(b->cursor);
    free(b->wcursor);
}

static mb_err round_alloc(const mb_run *r, round_bufs *b)
{
    size_t p = (size_t)r->size;
    memset(b, 0, sizeof *b);
    if (r->rank != 0)
        return MB_OK;
    b->deal = calloc(p, sizeof *b->deal);
    b->counts = malloc(p * sizeof *b->counts);
    b->displs = malloc(p * sizeof *b->displs);
    b->cursor = malloc(p * sizeof *b->cursor);
    b->wcursor = malloc(p * sizeof *b->wcursor);
    if (!b->deal || !b->counts || !b->displs || !b->cursor || !b->wcursor)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a static round");
    return MB_OK;
}

/* Rank 0: deal chunks turn by turn (chunk j*P + p to rank p) until the
 * round is full or the input ends.  *more says whether rounds follow. */
static mb_err round_deal(const mb_run *r, feed *f, round_bufs *b, int *more, uint64_t *turns)
{
    uint64_t tasks = 0;
    size_t bytes = 0;
    for (int p = 0; p < r->size; p++)
        b->deal[p].len = 0;
    *turns = 0;
    while (!f->done && tasks < ROUND_TASKS && bytes < ROUND_BYTES) {
        for (int p = 0; p < r->size; p++) {
            uint64_t count;
            size_t before = b->deal[p].len;
            mb_err rc = feed_next(f, &b->deal[p], &count);
            if (rc != MB_OK)
                return rc;
            tasks += count;
            bytes += b->deal[p].len - before;
        }
        ++*turns;
    }
    for (int p = 0; p < r->size; p++)
        if (!fits_int(b->deal[p].len))
            return mb_error_set(MB_ERR_USAGE, "'chunk' %llu is too large for one static round",
                                (unsigned long long)r->chunk);
    *more = !f->done;
    return MB_OK;
}

/* Rank 0: results turn by turn, rank by rank: the deal's order, which is
 * task order, so the collector never holds a chunk back (unless it waits
 * for retries).  Each result goes with the work message it answers. */
static mb_err round_collect(const mb_run *r, retrier *rt, round_bufs *b, uint64_t turns)
{
    for (int p = 0; p < r->size; p++) {
        b->cursor[p] = (size_t)b->displs[p];
        b->wcursor[p] = 0;
    }
    for (uint64_t j = 0; j < turns; j++)
        for (int p = 0; p < r->size; p++) {
            size_t end = (size_t)b->displs[p] + (size_t)b->counts[p], wstart = b->wcursor[p];
            mb_result res;
            mb_work w;
            mb_err rc;
            if (b->cursor[p] >= end)
                return MB_OK; /* the input ended during this turn */
            rc = mb_wire_get_result(b->all.data, end, &b->cursor[p], mb_row_len(r->reclen), &res);
            if (rc == MB_OK)
                rc = mb_wire_get_work(b->deal[p].data, b->deal[p].len, &b->wcursor[p], &w);
            if (rc == MB_OK)
                rc = intake(rt, &res, b->deal[p].data + wstart, b->wcursor[p] - wstart);
            if (rc != MB_OK)
                return rc;
        }
    return MB_OK;
}

/* Every rank: run the chunks received in b->mine into b->results. */
static mb_err round_compute(runner *x, round_bufs *b)
{
    size_t pos = 0;
    b->results.len = 0;
    while (pos < b->mine.len) {
        mb_work w;
        mb_err rc = mb_wire_get_work(b->mine.data, b->mine.len, &pos, &w);
        if (rc == MB_OK)
            rc = run_chunk(x, &w, &b->results);
        if (rc != MB_OK)
            return rc;
    }
    return fits_int(b->results.len) ? MB_OK
        : mb_error_set(MB_ERR_USAGE, "a static round's results exceed 2 GiB: lower 'chunk'");
}

/* Send each rank its work messages; *more (rank 0's) reaches every rank. */
static mb_err round_scatter(const mb_run *r, round_bufs *b, int *more)
{
    long long head[2] = {0, *more}, *heads = NULL;
    mb_err rc = MB_OK;
    if (r->rank == 0 && !(heads = malloc(2 * (size_t)r->size * sizeof *heads)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a static round");
    for (int p = 0; r->rank == 0 && p < r->size; p++) {
        heads[2 * p] = (long long)b->deal[p].len;
        heads[2 * p + 1] = *more;
    }
    rc = mb_mpi_check(MPI_Scatter(heads, 2, MPI_LONG_LONG, head, 2, MPI_LONG_LONG, 0, r->comm),
                      "MPI_Scatter");
    free(heads);
    *more = (int)head[1];
    b->mine.len = 0;
    if (rc == MB_OK)
        rc = mb_buf_reserve(&b->mine, (size_t)head[0]);
    if (rc != MB_OK)
        return rc;
    b->mine.len = (size_t)head[0];
    /* Rank 0 sends from its deal buffers, packed into b->all first. */
    if (r->rank == 0) {
        b->all.len = 0;
        for (int p = 0; p < r->size && rc == MB_OK; p++) {
            b->counts[p] = (int)b->deal[p].len;
            b->displs[p] = (int)b->all.len;
            rc = mb_buf_append(&b->all, b->deal[p].data, b->deal[p].len);
        }
        if (rc == MB_OK && !fits_int(b->all.len))
            rc = mb_error_set(MB_ERR_USAGE, "a static round exceeds 2 GiB: lower 'chunk'");
    }
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Scatterv(b->all.data, b->counts, b->displs, MPI_BYTE, b->mine.data,
                                       (int)b->mine.len, MPI_BYTE, 0, r->comm), "MPI_Scatterv");
    return rc;
}

static mb_err round_gather(const mb_run *r, round_bufs *b)
{
    int n = (int)b->results.len;
    mb_err rc = mb_mpi_check(MPI_Gather(&n, 1, MPI_INT, b->counts, 1, MPI_INT, 0, r->comm),
                             "MPI_Gather");
    if (rc == MB_OK && r->rank == 0) {
        size_t total = 0;
        for (int p = 0; p < r->size; p++) {
            b->displs[p] = (int)total;
            total += (size_t)b->counts[p];
        }
        b->all.len = 0;
        if (!fits_int(total))
            rc = mb_error_set(MB_ERR_USAGE, "a static round's results exceed 2 GiB: lower 'chunk'");
        if (rc == MB_OK)
            rc = mb_buf_reserve(&b->all, total);
    }
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Gatherv(b->results.data, n, MPI_BYTE, b->all.data, b->counts,
                                      b->displs, MPI_BYTE, 0, r->comm), "MPI_Gatherv");
    return rc;
}

/* Rank 0: deal the queued re-runs, each to the rank after the one that
 * failed it; items[k] went to rank target[k]. */
static mb_err retry_deal(const mb_run *r, retrier *rt, round_bufs *b, retry_item **items,
                         int **target, size_t *n)
{
    mb_err rc = MB_OK;
    *n = rt->nqueue;
    *items = malloc(*n * sizeof **items);
    *target = malloc(*n * sizeof **target);
    if (!*items || !*target)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a retry round");
    memcpy(*items, rt->queue, *n * sizeof **items);
    rt->nqueue = 0;
    for (int p = 0; p < r->size; p++)
        b->deal[p].len = 0;
    for (size_t k = 0; rc == MB_OK && k < *n; k++) {
        (*target)[k] = ((*items)[k].avoid + 1) % r->size;
        rc = retry_work(rt, &(*items)[k], &b->deal[(*target)[k]]);
    }
    for (int p = 0; rc == MB_OK && p < r->size; p++)
        if (!fits_int(b->deal[p].len))
            rc = mb_error_set(MB_ERR_USAGE, "a static retry round exceeds 2 GiB");
    return rc;
}

/* Rank 0: each rank's results answer its re-runs in the order dealt. */
static mb_err retry_collect(const mb_run *r, retrier *rt, round_bufs *b,
                            const retry_item *items, const int *target, size_t n)
{
    mb_err rc = MB_OK;
    for (int p = 0; rc == MB_OK && p < r->size; p++) {
        size_t pos = (size_t)b->displs[p], end = pos + (size_t)b->counts[p];
        for (size_t k = 0; rc == MB_OK && k < n; k++) {
            mb_result res;
            if (target[k] != p)
                continue;
            rc = mb_wire_get_result(b->all.data, end, &pos, mb_row_len(r->reclen), &res);
            if (rc == MB_OK)
                rc = retry_done(rt, items[k].p, items[k].i, &res);
        }
    }
    return rc;
}

/* Every rank: one extra round re-running the failed tasks rank 0 holds. */
static mb_err retry_round(const mb_run *r, retrier *rt, round_bufs *b, runner *x)
{
    retry_item *items = NULL;
    int *target = NULL, more = 1;
    size_t n = 0;
    mb_err rc = MB_OK;
    if (r->rank == 0)
        rc = retry_deal(r, rt, b, &items, &target, &n);
    if ((rc = mb_comm_agree(r->comm, rc)) == MB_OK && (rc = round_scatter(r, b, &more)) == MB_OK)
        rc = round_compute(x, b);
    if (rc == MB_OK)
        rc = round_gather(r, b);
    if (rc == MB_OK && r->rank == 0)
        rc = retry_collect(r, rt, b, items, target, n);
    free(items);
    free(target);
    return rc;
}

mb_err mb_schedule_static(mb_run *r)
{
    feed f = {.r = r, .next = r->first};
    retrier rt = {.r = r};
    round_bufs b;
    runner x;
    int more = 1;
    mb_err rc = round_alloc(r, &b);
    if (rc == MB_OK)
        rc = runner_init(&x, r);
    while (rc == MB_OK && more) {
        uint64_t turns = 0;
        if (r->rank == 0)
            rc = round_deal(r, &f, &b, &more, &turns);
        /* A dealing error on rank 0 must not leave others in the scatter. */
        if ((rc = mb_comm_agree(r->comm, rc)) != MB_OK)
            break;
        if ((rc = round_scatter(r, &b, &more)) == MB_OK)
            rc = round_compute(&x, &b);
        if (rc == MB_OK)
            rc = round_gather(r, &b);
        if (rc == MB_OK && r->rank == 0)
            rc = round_collect(r, &rt, &b, turns);
        /* Extra rounds while rank 0 holds failed tasks to run again. */
        while (rc == MB_OK && r->retries > 0) {
            int again = r->rank == 0 && rt.nqueue > 0;
            rc = mb_mpi_check(MPI_Bcast(&again, 1, MPI_INT, 0, r->comm), "MPI_Bcast");
            if (rc != MB_OK || !again)
                break;
            rc = retry_round(r, &rt, &b, &x);
        }
        if (rc == MB_OK && r->rank == 0)
            show_progress(r, &f);
    }
    retrier_free(&rt);
    runner_free(&x);
    round_free(&b, r->size);
    mb_batch_free(&f.batch);
    return rc;
}

/* ---- dynamic ----------------------------------------------------------- */

/* One piece of work handed out: a chunk, or the re-run of one task of a
 * pending chunk.  It may run twice (a speculative copy); the first result
 * is taken, and it is freed when every copy is accounted for. */
typedef struct entry {
    mb_buf work;          /* its work message, also the send buffer */
    pending *p;           /* a re-run of task i of p, or NULL: a chunk */
    uint64_t i;
    int runs;             /* copies handed out and not yet returned */
    int done;             /* a result was taken */
    int spec;             /* a speculative copy was started */
    double started;       /* when it began running, once it is known */
    MPI_Request req[2];   /* sends of the original and of the copy */
    struct entry *next;   /* free list */
} entry;

enum { ACTIVE, STOPPING, STOPPED };

typedef struct dispatcher {
    mb_run *r;
    feed f;
    retrier rt;
    entry **q;                  /* DEPTH entries per rank, a ring each */
    int *qhead, *qlen;
    int *state;                 /* ACTIVE, STOPPING (STOP sent), STOPPED (DONE came) */
    uint64_t *sent;             /* work messages sent per worker */
    uint64_t undone;            /* entries still waiting for a result */
    entry *spare;               /* freed entries, reused */
    double *times;              /* run times of finished chunks, for the median */
    size_t ntimes, captimes, sorted;
    double median;
    mb_buf msg;                 /* receive buffer for one result */
} dispatcher;

static entry *entry_new(dispatcher *d)
{
    entry *e = d->spare;
    if (e) {
        d->spare = e->next;
        mb_buf work = e->work;
        memset(e, 0, sizeof *e);
        e->work = work;
        e->work.len = 0;
    } else if (!(e = calloc(1, sizeof *e))) {
        return NULL;
    }
    e->req[0] = e->req[1] = MPI_REQUEST_NULL;
    return e;
}

static void entry_release(dispatcher *d, entry *e)
{
    /* Its sends finished (the worker received them), but MPI wants the
     * requests completed before the buffer is reused. */
    MPI_Waitall(2, e->req, MPI_STATUSES_IGNORE);
    e->next = d->spare;
    d->spare = e;
}

static void queue_push(dispatcher *d, int w, entry *e)
{
    int k = (d->qhead[w] + d->qlen[w]) % DEPTH;
    if (d->qlen[w]++ == 0)
        e->started = mb_clock_now();
    d->q[(size_t)w * DEPTH + (size_t)k] = e;
}

static entry *queue_pop(dispatcher *d, int w)
{
    if (d->qlen[w] == 0)
        return NULL;
    entry *e = d->q[(size_t)w * DEPTH + (size_t)d->qhead[w]];
    d->qhead[w] = (d->qhead[w] + 1) % DEPTH;
    if (--d->qlen[w] > 0)
        d->q[(size_t)w * DEPTH + (size_t)d->qhead[w]]->started = mb_clock_now();
    return e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static mb_err note_time(dispatcher *d, double t)
{
    if (d->ntimes == d->captimes) {
        size_t cap = d->captimes ? 2 * d->captimes : 256;
        double *p = realloc(d->times, cap * sizeof *p);
        if (!p)
            return mb_error_set(MB_ERR_NOMEM, "out of memory for chunk times");
        d->times = p;
        d->captimes = cap;
    }
    d->times[d->ntimes++] = t;
    return MB_OK;
}

/* The chunk worth running again on rank w, or NULL: the one running
 * longest past speculate_after times the median chunk time, on another
 * rank, not a re-run, not already copied.  A chunk queued behind chunks
 * already finished elsewhere counts as running from when that was seen. */
static entry *straggler(dispatcher *d, int w)
{
    entry *best = NULL;
    double now = mb_clock_now(), longest = 0;
    if (d->r->speculate_after <= 0 || d->ntimes == 0 || d->qlen[w] > 0)
        return NULL;
    if (d->sorted != d->ntimes) {
        /* Only at the tail of the job, and only when a result came in. */
        qsort(d->times, d->ntimes, sizeof *d->times, cmp_double);
        d->median = d->times[d->ntimes / 2];
        d->sorted = d->ntimes;
    }
    for (int v = 0; v < d->r->size; v++) {
        entry *e = NULL;
        for (int k = 0; v != w && k < d->qlen[v]; k++)
            if (!(e = d->q[(size_t)v * DEPTH + (size_t)((d->qhead[v] + k) % DEPTH)])->done)
                break;
        if (!e || e->done || e->spec || e->p)
            continue;
        if (e->started == 0)
            e->started = now;
        if (now - e->started > d->r->speculate_after * d->median && now - e->started > longest) {
            best = e;
            longest = now - e->started;
        }
    }
    return best;
}

/* The next work for rank w: a re-run, else a new chunk, else (at the
 * tail) a straggler's copy; *e is NULL when there is none. */
static mb_err take_work(dispatcher *d, int w, entry **out)
{
    retry_item it;
    uint64_t count = 1;
    mb_err rc = MB_OK;
    entry *e = entry_new(d);
    *out = NULL;
    if (!e)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the dispatcher");
    if (retry_take(&d->rt, w, &it)) {
        e->p = it.p;
        e->i = it.i;
        rc = retry_work(&d->rt, &it, &e->work);
    } else {
        rc = feed_next(&d->f, &e->work, &count);
    }
    if (rc != MB_OK || count == 0) {
        entry_release(d, e);
        if (rc == MB_OK && (e = straggler(d, w))) {
            e->spec = 1;
            e->runs++;
            d->r->speculated++;
            *out = e;
        }
        return rc;
    }
    if (!fits_int(e->work.len)) {
        entry_release(d, e);
        return mb_error_set(MB_ERR_USAGE, "a chunk's payload exceeds 2 GiB: lower 'chunk'");
    }
    e->runs = 1;
    d->undone++;
    *out = e;
    return MB_OK;
}

/* Keep worker w's queue full while there is work for it. */
static mb_err refill(dispatcher *d, int w)
{
    mb_err rc = MB_OK;
    while (rc == MB_OK && d->state[w] == ACTIVE && d->qlen[w] < DEPTH) {
        entry *e;
        if ((rc = take_work(d, w, &e)) != MB_OK || !e)
            break;
        queue_push(d, w, e);
        d->sent[w]++;
        rc = mb_mpi_check(MPI_Isend(e->work.data, (int)e->work.len, MPI_BYTE, w, TAG_WORK,
                                    d->r->comm, &e->req[e->spec]), "MPI_Isend");
    }
    return rc;
}

/* Idle workers ask for nothing: offer them re-runs and stragglers. */
static mb_err refill_idle(dispatcher *d)
{
    mb_err rc = MB_OK;
    if (d->rt.nqueue == 0 && !(d->f.done && d->r->speculate_after > 0))
        return MB_OK;
    for (int w = 1; rc == MB_OK && w < d->r->size; w++)
        if (d->qlen[w] == 0)
            rc = refill(d, w);
    return rc;
}

/* The result of the oldest work rank w holds. */
static mb_err on_result(dispatcher *d, int w, const char *msg, size_t len)
{
    entry *e = queue_pop(d, w);
    mb_result res;
    size_t pos = 0;
    mb_err rc = MB_OK;
    double took = e ? mb_clock_now() - e->started : 0;
    if (!e)
        return mb_error_set(MB_ERR_INTERNAL, "rank %d sent a result for no work", w);
    e->runs--;
    /* A duplicate's result (the other copy's came first) is dropped unread. */
    if (!e->done && (rc = mb_wire_get_result(msg, len, &pos, mb_row_len(d->r->reclen),
                                             &res)) == MB_OK) {
        e->done = 1;
        d->undone--;
        /* Chunk times feed the median only where speculation reads it. */
        if (!e->p && !e->spec && d->r->speculate_after > 0)
            rc = note_time(d, took);
        if (rc == MB_OK)
            rc = e->p ? retry_done(&d->rt, e->p, e->i, &res)
                      : intake(&d->rt, &res, e->work.data, e->work.len);
    }
    if (e->runs == 0)
        entry_release(d, e);
    return rc;
}

/* Receive the message a probe found: a result, or a stopped worker's DONE
 * (its unanswered work was abandoned or never started). */
static mb_err serve(dispatcher *d, const MPI_Status *st)
{
    int n = 0, w = st->MPI_SOURCE;
    mb_err rc = mb_mpi_check(MPI_Get_count(st, MPI_BYTE, &n), "MPI_Get_count");
    d->msg.len = 0;
    if (rc == MB_OK)
        rc = mb_buf_reserve(&d->msg, (size_t)n);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Recv(d->msg.data, n, MPI_BYTE, w, st->MPI_TAG, d->r->comm,
                                   MPI_STATUS_IGNORE), "MPI_Recv");
    if (rc != MB_OK)
        return rc;
    if (st->MPI_TAG == TAG_DONE) {
        d->state[w] = STOPPED;
        for (entry *e; (e = queue_pop(d, w));)
            if (--e->runs == 0)
                entry_release(d, e);
        return MB_OK;
    }
    if ((rc = on_result(d, w, d->msg.data, (size_t)n)) == MB_OK)
        rc = refill(d, w);
    return rc == MB_OK ? refill_idle(d) : rc;
}

/* Serve every message waiting; with block, wait for one first. */
static mb_err poll(dispatcher *d, int block)
{
    MPI_Status st;
    int flag = 1;
    mb_err rc;
    if (block)
        rc = mb_mpi_check(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &st), "MPI_Probe");
    else
        rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &flag, &st),
                          "MPI_Iprobe");
    while (rc == MB_OK && flag) {
        rc = serve(d, &st);
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &flag, &st),
                              "MPI_Iprobe");
    }
    return rc;
}

static mb_err dispatcher_init(dispatcher *d, mb_run *r)
{
    size_t p = (size_t)r->size;
    memset(d, 0, sizeof *d);
    d->r = r;
    d->f.r = r;
    d->f.next = r->first;
    d->rt.r = r;
    d->q = calloc(p * DEPTH, sizeof *d->q);
    d->qhead = calloc(p, sizeof *d->qhead);
    d->qlen = calloc(p, sizeof *d->qlen);
    d->state = calloc(p, sizeof *d->state);
    d->sent = calloc(p, sizeof *d->sent);
    if (!d->q || !d->qhead || !d->qlen || !d->state || !d->sent)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the dispatcher");
    return MB_OK;
}

static void dispatcher_free(dispatcher *d)
{
    /* A finished run leaves every entry on the free list.  After an error
     * (the job is then aborted) entries still out are left alone: waiting
     * for their sends could hang on a worker that never receives them. */
    while (d->spare) {
        entry *e = d->spare;
        d->spare = e->next;
        mb_buf_free(&e->work);
        free(e);
    }
    retrier_free(&d->rt);
    free(d->q);
    free(d->qhead);
    free(d->qlen);
    free(d->state);
    free(d->sent);
    free(d->times);
    mb_buf_free(&d->msg);
    mb_batch_free(&d->f.batch);
}

/* Tell every worker to stop (with the count of work messages it was sent,
 * so it can drain those it never started) and wait for each DONE. */
static mb_err stop_workers(dispatcher *d)
{
    mb_err rc = MB_OK;
    int left = 0;
    for (int w = 1; rc == MB_OK && w < d->r->size; w++) {
        rc = mb_mpi_check(MPI_Send(&d->sent[w], 1, MPI_UINT64_T, w, TAG_STOP, d->r->comm),
                          "MPI_Send");
        d->state[w] = STOPPING;
        left++;
    }
    while (rc == MB_OK && left > 0) {
        MPI_Status st;
        rc = mb_mpi_check(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &st), "MPI_Probe");
        if (rc == MB_OK)
            rc = serve(d, &st);
        if (rc == MB_OK && d->state[st.MPI_SOURCE] == STOPPED && st.MPI_TAG == TAG_DONE)
            left--;
    }
    return rc;
}

/* Rank 0's own work, run one task at a time between polls. */
typedef struct local_chunk {
    entry *e;             /* NULL when idle */
    mb_buf result;
    mb_work w;
    uint64_t done;
} local_chunk;

static mb_err local_take(dispatcher *d, runner *x, local_chunk *l)
{
    size_t pos = 0;
    mb_err rc = take_work(d, 0, &l->e);
    if (rc != MB_OK || !l->e)
        return rc;
    queue_push(d, 0, l->e);
    l->done = 0;
    if ((rc = mb_wire_get_work(l->e->work.data, l->e->work.len, &pos, &l->w)) == MB_OK)
        rc = runner_reserve(x, l->w.count);
    return rc;
}

static mb_err local_step(dispatcher *d, runner *x, local_chunk *l)
{
    const mb_run *r = d->r;
    mb_err rc;
    if (l->e->done) { /* a speculative copy won: abandon this one */
        queue_pop(d, 0);
        if (--l->e->runs == 0)
            entry_release(d, l->e);
        l->e = NULL;
        return MB_OK;
    }
    rc = run_task(x, &l->w, l->done);
    if (rc != MB_OK || ++l->done < l->w.count)
        return rc;
    l->result.len = 0;
    l->e = NULL;
    rc = mb_wire_put_result(&l->result, l->w.first, l->w.count, mb_row_len(r->reclen), x->rows,
                            x->nfail, x->fails.data, x->fails.len);
    if (rc == MB_OK)
        rc = on_result(d, 0, l->result.data, l->result.len);
    return rc == MB_OK ? refill_idle(d) : rc;
}

static int finished(const dispatcher *d)
{
    return d->f.done && d->rt.nqueue == 0 && d->undone == 0;
}

/* Rank 0 with nothing to run: wait for results, waking every millisecond
 * while stragglers may need copying. */
static mb_err wait_results(dispatcher *d)
{
    struct timespec nap = {0, 1000000};
    if (d->r->speculate_after <= 0 || !d->f.done)
        return poll(d, 1);
    mb_err rc = poll(d, 0);
    if (rc == MB_OK)
        rc = refill_idle(d);
    nanosleep(&nap, NULL);
    return rc;
}

/* Rank 0: prime every worker, then alternate between one task of its own
 * and serving whatever results have arrived. */
static mb_err dynamic_root(mb_run *r)
{
    dispatcher d;
    runner x;
    local_chunk l;
    memset(&l, 0, sizeof l);
    mb_err rc = dispatcher_init(&d, r);
    if (rc == MB_OK)
        rc = runner_init(&x, r);
    for (int w = 1; rc == MB_OK && w < r->size; w++)
        rc = refill(&d, w);
    while (rc == MB_OK) {
        int idle = 0;
        show_progress(r, &d.f);
        if (l.e)
            rc = local_step(&d, &x, &l);
        else if (r->root_serves_only || ((rc = local_take(&d, &x, &l)) == MB_OK && !l.e)) {
            if (finished(&d))
                break;
            idle = 1; /* only results (or a straggler's time) can bring work */
        }
        if (rc == MB_OK && r->size > 1)
            rc = idle ? wait_results(&d) : poll(&d, 0);
    }
    if (rc == MB_OK)
        rc = stop_workers(&d);
    runner_free(&x);
    mb_buf_free(&l.result);
    dispatcher_free(&d);
    return rc;
}

/* Worker: between tasks, has rank 0 said STOP (the work it holds was
 * finished elsewhere and the job is done)?  Only speculation sends STOP
 * to a busy worker.  A message that arrived while this rank computed can
 * take Open MPI more than one probe to progress, hence a few. */
static int stop_waiting(const mb_run *r)
{
    int flag = 0;
    for (int k = 0; r->speculate_after > 0 && !flag && k < 4; k++)
        MPI_Iprobe(0, TAG_STOP, r->comm, &flag, MPI_STATUS_IGNORE);
    return flag;
}

/* Worker: receive the STOP, drain the work sent but never started, say DONE. */
static mb_err worker_stop(const mb_run *r, mb_buf *work, uint64_t received)
{
    uint64_t sent = 0;
    mb_err rc = mb_mpi_check(MPI_Recv(&sent, 1, MPI_UINT64_T, 0, TAG_STOP, r->comm,
                                      MPI_STATUS_IGNORE), "MPI_Recv");
    for (; rc == MB_OK && received < sent; received++) {
        MPI_Status st;
        int n = 0;
        rc = mb_mpi_check(MPI_Probe(0, TAG_WORK, r->comm, &st), "MPI_Probe");
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count");
        work->len = 0;
        if (rc == MB_OK)
            rc = mb_buf_reserve(work, (size_t)n);
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Recv(work->data, n, MPI_BYTE, 0, TAG_WORK, r->comm,
                                       MPI_STATUS_IGNORE), "MPI_Recv");
    }
    return rc == MB_OK ? mb_mpi_check(MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_DONE, r->comm),
                                      "MPI_Send") : rc;
}

/* Run a chunk task by task; *stopped when STOP came first. */
static mb_err worker_chunk(runner *x, const mb_work *w, mb_buf *out, int *stopped)
{
    mb_err rc = runner_reserve(x, w->count);
    *stopped = 0;
    for (uint64_t i = 0; rc == MB_OK && i < w->count; i++) {
        if (i > 0 && (*stopped = stop_waiting(x->r)))
            return MB_OK;
        rc = run_task(x, w, i);
    }
    if (rc == MB_OK)
        rc = mb_wire_put_result(out, w->first, w->count, mb_row_len(x->r->reclen), x->rows,
                                x->nfail, x->fails.data, x->fails.len);
    if (rc == MB_OK && !fits_int(out->len))
        rc = mb_error_set(MB_ERR_USAGE, "a chunk's results exceed 2 GiB: lower 'chunk'");
    return rc;
}

/* Workers: receive a chunk, run it, return its result, until told to stop.
 * Two result buffers alternate so a send overlaps the next chunk. */
static mb_err dynamic_worker(mb_run *r)
{
    mb_buf work = {0}, out[2] = {{0}, {0}};
    MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    uint64_t received = 0;
    int stopped = 0;
    runner x;
    mb_err rc = runner_init(&x, r);
    for (int i = 0; rc == MB_OK && !stopped; i ^= 1) {
        MPI_Status st;
        int n = 0;
        size_t pos = 0;
        mb_work w;
        /* STOP overtakes queued work only when looked for by its tag. */
        if ((stopped = stop_waiting(r)))
            break;
        rc = mb_mpi_check(MPI_Probe(0, MPI_ANY_TAG, r->comm, &st), "MPI_Probe");
        if (rc != MB_OK || (stopped = st.MPI_TAG == TAG_STOP))
            break;
        if ((rc = mb_mpi_check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count")) != MB_OK)
            break;
        work.len = 0;
        if ((rc = mb_buf_reserve(&work, (size_t)n)) == MB_OK)
            rc = mb_mpi_check(MPI_Recv(work.data, n, MPI_BYTE, 0, TAG_WORK, r->comm,
                                       MPI_STATUS_IGNORE), "MPI_Recv");
        received++;
        if (rc != MB_OK ||
            (rc = mb_wire_get_work(work.data, (size_t)n, &pos, &w)) != MB_OK ||
            (rc = mb_mpi_check(MPI_Wait(&req[i], MPI_STATUS_IGNORE), "MPI_Wait")) != MB_OK)
            break;
        out[i].len = 0;
        if ((rc = worker_chunk(&x, &w, &out[i], &stopped)) == MB_OK && !stopped)
            rc = mb_mpi_check(MPI_Isend(out[i].data, (int)out[i].len, MPI_BYTE, 0, TAG_RESULT,
                                        r->comm, &req[i]), "MPI_Isend");
    }
    MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
    if (rc == MB_OK)
        rc = worker_stop(r, &work, received);
    mb_buf_free(&work);
    mb_buf_free(&out[0]);
    mb_buf_free(&out[1]);
    runner_free(&x);
    return rc;
}

mb_err mb_schedule_dynamic(mb_run *r)
{
    return r->rank == 0 ? dynamic_root(r) : dynamic_worker(r);
}
