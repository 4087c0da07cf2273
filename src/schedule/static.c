/* static.c - the static schedule: rounds of scatter, compute, gather.
 * Its collectives are non-blocking, completed by mb_watch_wait: rank 0
 * takes the workers' heartbeats meanwhile, and a lost worker ends the job
 * as under the dynamic schedule rather than hanging it. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "schedule/internal.h"

/* A static round: about this many tasks or payload bytes, whichever comes
 * first.  Bounds rank 0's buffers while keeping collectives rare. */
#define ROUND_TASKS (1u << 18)
#define ROUND_BYTES (32u << 20)

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
 * round is full, the input ends or reaches a barrier.  *more says whether rounds follow. */
static mb_err round_deal(const mb_run *r, mb_feed *f, round_bufs *b, int *more, uint64_t *turns)
{
    uint64_t tasks = 0;
    size_t bytes = 0;
    for (int p = 0; p < r->size; p++)
        b->deal[p].len = 0;
    *turns = 0;
    /* A barrier ends the round: the next one starts once this one, and
     * its re-runs, are over. */
    while (!f->done && !f->stopped && !mb_feed_waits(f) && tasks < ROUND_TASKS &&
           bytes < ROUND_BYTES) {
        for (int p = 0; p < r->size; p++) {
            uint64_t count;
            size_t before = b->deal[p].len;
            mb_err rc = mb_feed_next(f, &b->deal[p], &count);
            if (rc != MB_OK)
                return rc;
            tasks += count;
            bytes += b->deal[p].len - before;
        }
        ++*turns;
    }
    for (int p = 0; p < r->size; p++)
        if (!mb_fits_int(b->deal[p].len))
            return mb_error_set(MB_ERR_USAGE, "'chunk' %llu is too large for one static round",
                                (unsigned long long)r->chunk);
    *more = !f->done && !f->stopped;
    return MB_OK;
}

/* Rank 0: results turn by turn, rank by rank: the deal's order, which is
 * task order, so the collector never holds a chunk back (unless it waits
 * for retries).  Each result goes with the work message it answers. */
static mb_err round_collect(const mb_run *r, mb_retrier *rt, round_bufs *b, uint64_t turns)
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
                rc = mb_retrier_intake(rt, &res, b->deal[p].data + wstart, b->wcursor[p] - wstart);
            if (rc != MB_OK)
                return rc;
        }
    return MB_OK;
}

/* Rank 0's turn inside its own waiting tasks (MB_KERNEL_WAITS_IDLE), every
 * ROOT_TURN_MS: take the workers' heartbeats and look for a lost one, so a
 * frozen worker is noticed while rank 0 runs a long share of the round. */
#define ROOT_TURN_MS 100

typedef struct root_turn {
    mb_watch *w;
    mb_err rc;            /* a lost rank: the task's wait returns */
} root_turn;

static int root_idle(void *ctx)
{
    root_turn *t = ctx;
    if (t->rc == MB_OK)
        t->rc = mb_watch_poll(t->w);
    return t->rc != MB_OK;
}

/* Every rank: run the chunks received in b->mine into b->results, in
 * their order, with as many tasks at once as the pool's slots; turn
 * (rank 0's, else NULL) ends the round when a rank is lost. */
static mb_err round_compute(mb_pool *x, round_bufs *b, const root_turn *turn)
{
    size_t pos = 0;
    uint64_t seq;
    mb_err rc = MB_OK;
    b->results.len = 0;
    while (rc == MB_OK && pos < b->mine.len) {
        size_t start = pos;
        mb_work w;
        if ((rc = mb_wire_get_work(b->mine.data, b->mine.len, &pos, &w)) == MB_OK)
            rc = mb_pool_add(x, b->mine.data + start, pos - start, 0);
    }
    while (rc == MB_OK && mb_pool_busy(x)) {
        if ((rc = mb_pool_step(x)) != MB_OK || (turn && (rc = turn->rc) != MB_OK))
            break;
        mb_heartbeat(x->r, x->now); /* when the last task ended: no clock read */
        while (mb_pool_take(x, 1, &b->results, &seq, &rc) && rc == MB_OK)
            ;
    }
    if (rc != MB_OK)
        return rc;
    return mb_fits_int(b->results.len) ? MB_OK
        : mb_error_set(MB_ERR_USAGE, "a static round's results exceed 2 GiB: lower 'chunk'");
}

/* Every rank: rc agreed by all (mb_comm_agree, watched on the way). */
static mb_err agree(mb_watch *w, mb_err rc)
{
    int bad = rc != MB_OK, any = 0;
    MPI_Request req;
    mb_err mrc = mb_mpi_check(MPI_Iallreduce(&bad, &any, 1, MPI_INT, MPI_MAX, w->r->comm, &req),
                              "MPI_Iallreduce");
    if (mrc == MB_OK)
        mrc = mb_watch_wait(w, &req, "MPI_Iallreduce");
    if (mrc != MB_OK)
        return mrc;
    return any ? mb_comm_agree(w->r->comm, rc) : MB_OK;
}

/* Send each rank its work messages; *more (rank 0's) reaches every rank. */
static mb_err round_scatter(const mb_run *r, mb_watch *w, round_bufs *b, int *more)
{
    long long head[2] = {0, *more}, *heads = NULL;
    MPI_Request req;
    mb_err rc = MB_OK;
    if (r->rank == 0 && !(heads = malloc(2 * (size_t)r->size * sizeof *heads)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a static round");
    for (int p = 0; r->rank == 0 && p < r->size; p++) {
        heads[2 * p] = (long long)b->deal[p].len;
        heads[2 * p + 1] = *more;
    }
    rc = mb_mpi_check(MPI_Iscatter(heads, 2, MPI_LONG_LONG, head, 2, MPI_LONG_LONG, 0, r->comm,
                                   &req), "MPI_Iscatter");
    if (rc == MB_OK)
        rc = mb_watch_wait(w, &req, "MPI_Iscatter");
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
        if (rc == MB_OK && !mb_fits_int(b->all.len))
            rc = mb_error_set(MB_ERR_USAGE, "a static round exceeds 2 GiB: lower 'chunk'");
    }
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Iscatterv(b->all.data, b->counts, b->displs, MPI_BYTE,
                                        b->mine.data, (int)b->mine.len, MPI_BYTE, 0, r->comm,
                                        &req), "MPI_Iscatterv");
    return rc == MB_OK ? mb_watch_wait(w, &req, "MPI_Iscatterv") : rc;
}

static mb_err round_gather(const mb_run *r, mb_watch *w, round_bufs *b)
{
    int n = (int)b->results.len;
    MPI_Request req;
    mb_err rc = mb_mpi_check(MPI_Igather(&n, 1, MPI_INT, b->counts, 1, MPI_INT, 0, r->comm, &req),
                             "MPI_Igather");
    if (rc == MB_OK)
        rc = mb_watch_wait(w, &req, "MPI_Igather");
    if (rc == MB_OK && r->rank == 0) {
        size_t total = 0;
        for (int p = 0; p < r->size; p++) {
            b->displs[p] = (int)total;
            total += (size_t)b->counts[p];
        }
        b->all.len = 0;
        if (!mb_fits_int(total))
            rc = mb_error_set(MB_ERR_USAGE, "a static round's results exceed 2 GiB: lower 'chunk'");
        if (rc == MB_OK)
            rc = mb_buf_reserve(&b->all, total);
    }
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Igatherv(b->results.data, n, MPI_BYTE, b->all.data, b->counts,
                                       b->displs, MPI_BYTE, 0, r->comm, &req), "MPI_Igatherv");
    return rc == MB_OK ? mb_watch_wait(w, &req, "MPI_Igatherv") : rc;
}

/* Rank 0: deal the queued re-runs, each to the rank after the one that
 * failed it; items[k] went to rank target[k]. */
static mb_err retry_deal(const mb_run *r, mb_retrier *rt, round_bufs *b, mb_retry_item **items,
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
        rc = mb_retrier_work(rt, &(*items)[k], &b->deal[(*target)[k]]);
    }
    for (int p = 0; rc == MB_OK && p < r->size; p++)
        if (!mb_fits_int(b->deal[p].len))
            rc = mb_error_set(MB_ERR_USAGE, "a static retry round exceeds 2 GiB");
    return rc;
}

/* Rank 0: each rank's results answer its re-runs in the order dealt. */
static mb_err retry_collect(const mb_run *r, mb_retrier *rt, round_bufs *b,
                            const mb_retry_item *items, const int *target, size_t n)
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
                rc = mb_retrier_done(rt, items[k].p, items[k].i, &res);
        }
    }
    return rc;
}

/* Every rank: one extra round re-running the failed tasks rank 0 holds. */
static mb_err retry_round(const mb_run *r, mb_watch *w, mb_retrier *rt, round_bufs *b,
                          mb_pool *x, const root_turn *turn)
{
    mb_retry_item *items = NULL;
    int *target = NULL, more = 1;
    size_t n = 0;
    mb_err rc = MB_OK;
    if (r->rank == 0)
        rc = retry_deal(r, rt, b, &items, &target, &n);
    if ((rc = agree(w, rc)) == MB_OK && (rc = round_scatter(r, w, b, &more)) == MB_OK)
        rc = round_compute(x, b, turn);
    if (rc == MB_OK)
        rc = round_gather(r, w, b);
    if (rc == MB_OK && r->rank == 0)
        rc = retry_collect(r, rt, b, items, target, n);
    free(items);
    free(target);
    return rc;
}

/* Every rank: whether any rank drains (a signal caught anywhere), agreed
 * by all; rank 0 then stops dealing and says why. */
static mb_err drain_check(mb_run *r, mb_watch *w, mb_feed *f, mb_retrier *rt, int *draining)
{
    /* A signal's number, or OTHER for a drain without one (--max-failures). */
    enum { OTHER = 1 << 16, DEADLINE };
    int sig = mb_stop_signal(), any = 0;
    sig = !mb_stop_draining() ? 0 : sig == MB_STOP_DEADLINE ? DEADLINE : sig ? sig : OTHER;
    MPI_Request req;
    mb_err rc;
    if (r->rank == 0 && sig == 0 && mb_schedule_must_drain(r))
        sig = OTHER;
    rc = mb_mpi_check(MPI_Iallreduce(&sig, &any, 1, MPI_INT, MPI_MAX, r->comm, &req),
                      "MPI_Iallreduce");
    if (rc == MB_OK)
        rc = mb_watch_wait(w, &req, "MPI_Iallreduce");
    if (rc != MB_OK || any == 0)
        return rc;
    mb_stop_note(any == DEADLINE ? MB_STOP_DEADLINE : any != OTHER ? any : 0);
    *draining = 1;
    if (r->rank == 0 && !f->stopped) {
        f->stopped = 1;
        mb_retrier_drop_all(rt);
        mb_schedule_must_drain(r);
    }
    return MB_OK;
}

/* Worker, while a kernel waits for its task (mb_stop_set_poll). */
static void beat_poll(void *arg)
{
    mb_heartbeat(arg, mb_clock_now());
}

mb_err mb_schedule_static(mb_run *r)
{
    mb_feed f = {.r = r, .next = r->first};
    mb_retrier rt = {.r = r};
    round_bufs b;
    mb_pool x;
    mb_watch w = {.r = r};
    root_turn turn = {&w, MB_OK};
    int more = 1, draining = 0;
    mb_err rc = round_alloc(r, &b);
    if (rc == MB_OK)
        rc = mb_pool_init(&x, r);
    if (rc == MB_OK)
        rc = mb_watch_init(&w, r);
    /* A worker busy in a long task still sends its heartbeats. */
    if (r->rank != 0 && r->heartbeat > 0)
        mb_stop_set_poll(beat_poll, r);
    if (r->rank == 0 && r->heartbeat > 0 && r->size > 1 &&
        (r->kernel->flags & MB_KERNEL_WAITS_IDLE))
        mb_kernel_set_idle(root_idle, &turn, ROOT_TURN_MS);
    while (rc == MB_OK && more) {
        uint64_t turns = 0;
        if ((rc = drain_check(r, &w, &f, &rt, &draining)) != MB_OK)
            break;
        if (r->rank == 0)
            rc = round_deal(r, &f, &b, &more, &turns);
        /* A dealing error on rank 0 must not leave others in the scatter. */
        if ((rc = agree(&w, rc)) != MB_OK)
            break;
        if ((rc = round_scatter(r, &w, &b, &more)) == MB_OK)
            rc = round_compute(&x, &b, r->rank == 0 ? &turn : NULL);
        if (rc == MB_OK)
            rc = round_gather(r, &w, &b);
        if (rc == MB_OK && r->rank == 0)
            rc = round_collect(r, &rt, &b, turns);
        /* Extra rounds while rank 0 holds failed tasks to run again. */
        while (rc == MB_OK && r->retries > 0) {
            int again = r->rank == 0 && rt.nqueue > 0;
            MPI_Request req;
            rc = mb_mpi_check(MPI_Ibcast(&again, 1, MPI_INT, 0, r->comm, &req), "MPI_Ibcast");
            if (rc == MB_OK)
                rc = mb_watch_wait(&w, &req, "MPI_Ibcast");
            if (rc != MB_OK || !again)
                break;
            rc = retry_round(r, &w, &rt, &b, &x, r->rank == 0 ? &turn : NULL);
        }
        if (rc == MB_OK && r->rank == 0)
            mb_feed_progress(r, &f, -1);
    }
    /* A signal during the last round left tasks not done. */
    if (rc == MB_OK)
        rc = drain_check(r, &w, &f, &rt, &draining);
    mb_stop_set_poll(NULL, NULL);
    mb_kernel_set_idle(NULL, NULL, 0);
    /* After a lost rank or an error the job is aborted: nothing to take. */
    if (rc == MB_OK)
        rc = mb_watch_end(&w);
    if (rc == MB_OK && draining)
        rc = mb_error_set(MB_ERR_STOPPED, "%s", r->ending);
    r->dispatched = f.next;
    r->input_done = f.done;
    mb_retrier_free(&rt);
    mb_pool_free(&x);
    mb_watch_free(&w);
    round_free(&b, r->size);
    mb_batch_free(&f.batch);
    return rc;
}

