/* schedule.c - the static and dynamic schedules. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

enum { TAG_WORK = 1, TAG_STOP, TAG_RESULT };

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

/* ---- static ------------------------------------------------------------ */

typedef struct round_bufs {
    mb_buf *deal;         /* rank 0: one buffer of work messages per rank */
    mb_buf mine, results, all;
    int *counts, *displs; /* rank 0 */
    size_t *cursor;       /* rank 0: read position in each rank's results */
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
    if (!b->deal || !b->counts || !b->displs || !b->cursor)
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
 * task order, so the collector never holds a chunk back. */
static mb_err round_collect(const mb_run *r, round_bufs *b, uint64_t turns)
{
    for (int p = 0; p < r->size; p++)
        b->cursor[p] = (size_t)b->displs[p];
    for (uint64_t j = 0; j < turns; j++)
        for (int p = 0; p < r->size; p++) {
            size_t end = (size_t)b->displs[p] + (size_t)b->counts[p];
            mb_err rc;
            if (b->cursor[p] >= end)
                return MB_OK; /* the input ended during this turn */
            if ((rc = collect(r, b->all.data, end, &b->cursor[p])) != MB_OK)
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

mb_err mb_schedule_static(mb_run *r)
{
    feed f = {.r = r};
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
            rc = round_collect(r, &b, turns);
    }
    runner_free(&x);
    round_free(&b, r->size);
    mb_batch_free(&f.batch);
    return rc;
}

/* ---- dynamic ----------------------------------------------------------- */

typedef struct dispatcher {
    mb_run *r;
    feed f;
    int *inflight;              /* chunks held by each worker; -1 once stopped */
    unsigned *sent;             /* sends per worker, rotating its slots */
    uint64_t outstanding;
    mb_buf *slots;              /* DEPTH send buffers per worker */
    MPI_Request *reqs;          /* their Isend requests */
    mb_buf msg;                 /* receive buffer for one result */
} dispatcher;

static mb_err send_next(dispatcher *d, int w)
{
    size_t s = (size_t)w * DEPTH + d->sent[w] % DEPTH;
    uint64_t count;
    /* The slot's last send finished long ago (its result came back), but
     * MPI wants the request completed before the buffer is reused. */
    mb_err rc = mb_mpi_check(MPI_Wait(&d->reqs[s], MPI_STATUS_IGNORE), "MPI_Wait");
    if (rc != MB_OK)
        return rc;
    d->slots[s].len = 0;
    if ((rc = feed_next(&d->f, &d->slots[s], &count)) != MB_OK)
        return rc;
    if (count == 0) {
        if (d->inflight[w] > 0)
            return MB_OK;
        d->inflight[w] = -1;
        return mb_mpi_check(MPI_Send(NULL, 0, MPI_BYTE, w, TAG_STOP, d->r->comm), "MPI_Send");
    }
    if (!fits_int(d->slots[s].len))
        return mb_error_set(MB_ERR_USAGE, "a chunk's payload exceeds 2 GiB: lower 'chunk'");
    d->sent[w]++;
    d->inflight[w]++;
    d->outstanding++;
    return mb_mpi_check(MPI_Isend(d->slots[s].data, (int)d->slots[s].len, MPI_BYTE, w, TAG_WORK,
                                  d->r->comm, &d->reqs[s]), "MPI_Isend");
}

/* Receive the result a probe found, collect it and refill that worker. */
static mb_err serve(dispatcher *d, const MPI_Status *st)
{
    int n = 0, w = st->MPI_SOURCE;
    size_t pos = 0;
    mb_err rc = mb_mpi_check(MPI_Get_count(st, MPI_BYTE, &n), "MPI_Get_count");
    d->msg.len = 0;
    if (rc == MB_OK)
        rc = mb_buf_reserve(&d->msg, (size_t)n);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Recv(d->msg.data, n, MPI_BYTE, w, TAG_RESULT, d->r->comm,
                                   MPI_STATUS_IGNORE), "MPI_Recv");
    if (rc == MB_OK)
        rc = collect(d->r, d->msg.data, (size_t)n, &pos);
    if (rc != MB_OK)
        return rc;
    d->inflight[w]--;
    d->outstanding--;
    return send_next(d, w);
}

static mb_err poll(dispatcher *d, int block)
{
    MPI_Status st;
    int flag = 1;
    mb_err rc;
    if (block)
        rc = mb_mpi_check(MPI_Probe(MPI_ANY_SOURCE, TAG_RESULT, d->r->comm, &st), "MPI_Probe");
    else
        rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, d->r->comm, &flag, &st),
                          "MPI_Iprobe");
    while (rc == MB_OK && flag) {
        rc = serve(d, &st);
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, d->r->comm, &flag, &st),
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
    d->inflight = calloc(p, sizeof *d->inflight);
    d->sent = calloc(p, sizeof *d->sent);
    d->slots = calloc(p * DEPTH, sizeof *d->slots);
    d->reqs = malloc(p * DEPTH * sizeof *d->reqs);
    if (!d->inflight || !d->sent || !d->slots || !d->reqs)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the dispatcher");
    for (size_t i = 0; i < p * DEPTH; i++)
        d->reqs[i] = MPI_REQUEST_NULL;
    return MB_OK;
}

static void dispatcher_free(dispatcher *d)
{
    if (d->reqs)
        MPI_Waitall(d->r->size * DEPTH, d->reqs, MPI_STATUSES_IGNORE);
    for (size_t i = 0; d->slots && i < (size_t)d->r->size * DEPTH; i++)
        mb_buf_free(&d->slots[i]);
    free(d->inflight);
    free(d->sent);
    free(d->slots);
    free(d->reqs);
    mb_buf_free(&d->msg);
    mb_batch_free(&d->f.batch);
}

/* Rank 0's own chunk, run one task at a time between polls. */
typedef struct local_chunk {
    mb_buf work, result;
    mb_work w;
    uint64_t done;
} local_chunk;

static mb_err local_take(dispatcher *d, runner *x, local_chunk *l)
{
    uint64_t count;
    size_t pos = 0;
    l->work.len = 0;
    l->done = 0;
    l->w.count = 0;
    mb_err rc = feed_next(&d->f, &l->work, &count);
    if (rc == MB_OK && count > 0 && (rc = mb_wire_get_work(l->work.data, l->work.len, &pos,
                                                          &l->w)) == MB_OK)
        rc = runner_reserve(x, l->w.count);
    return rc;
}

static mb_err local_step(const mb_run *r, runner *x, local_chunk *l)
{
    size_t pos = 0;
    mb_err rc = run_task(x, &l->w, l->done);
    if (rc != MB_OK || ++l->done < l->w.count)
        return rc;
    l->result.len = 0;
    rc = mb_wire_put_result(&l->result, l->w.first, l->w.count, mb_row_len(r->reclen), x->rows,
                            x->nfail, x->fails.data, x->fails.len);
    return rc == MB_OK ? collect(r, l->result.data, l->result.len, &pos) : rc;
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
        for (int k = 0; rc == MB_OK && k < DEPTH && d.inflight[w] >= 0; k++)
            rc = send_next(&d, w);
    while (rc == MB_OK) {
        if (l.done < l.w.count)
            rc = local_step(r, &x, &l);
        else if (!d.f.done)
            rc = local_take(&d, &x, &l);
        else if (d.outstanding == 0)
            break;
        if (rc == MB_OK && r->size > 1)
            rc = poll(&d, l.done == l.w.count && d.f.done && d.outstanding > 0);
    }
    runner_free(&x);
    mb_buf_free(&l.work);
    mb_buf_free(&l.result);
    dispatcher_free(&d);
    return rc;
}

/* Workers: receive a chunk, run it, return its result, until told to stop.
 * Two result buffers alternate so a send overlaps the next chunk. */
static mb_err dynamic_worker(mb_run *r)
{
    mb_buf work = {0}, out[2] = {{0}, {0}};
    MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    runner x;
    mb_err rc = runner_init(&x, r);
    for (int i = 0; rc == MB_OK; i ^= 1) {
        MPI_Status st;
        int n = 0;
        size_t pos = 0;
        mb_work w;
        rc = mb_mpi_check(MPI_Probe(0, MPI_ANY_TAG, r->comm, &st), "MPI_Probe");
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count");
        work.len = 0;
        if (rc == MB_OK)
            rc = mb_buf_reserve(&work, (size_t)n);
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Recv(work.data, n, MPI_BYTE, 0, st.MPI_TAG, r->comm,
                                       MPI_STATUS_IGNORE), "MPI_Recv");
        if (rc != MB_OK || st.MPI_TAG == TAG_STOP)
            break;
        if ((rc = mb_wire_get_work(work.data, (size_t)n, &pos, &w)) != MB_OK ||
            (rc = mb_mpi_check(MPI_Wait(&req[i], MPI_STATUS_IGNORE), "MPI_Wait")) != MB_OK)
            break;
        out[i].len = 0;
        if ((rc = run_chunk(&x, &w, &out[i])) == MB_OK && !fits_int(out[i].len))
            rc = mb_error_set(MB_ERR_USAGE, "a chunk's results exceed 2 GiB: lower 'chunk'");
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Isend(out[i].data, (int)out[i].len, MPI_BYTE, 0, TAG_RESULT,
                                        r->comm, &req[i]), "MPI_Isend");
    }
    MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
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
