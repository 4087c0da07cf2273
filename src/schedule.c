/* schedule.c - the static and dynamic schedules. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mpibatch/chunk.h"
#include "mpibatch/clock.h"
#include "mpibatch/comm.h"
#include "mpibatch/row.h"
#include "mpibatch/schedule.h"

/* Tasks per static round: bounds rank 0's gather buffer (a few MiB of rows
 * for small records) while keeping collectives rare. */
#define ROUND_TASKS (1u << 18)

/* Chunks a dynamic worker holds: one running, one queued behind it. */
#define DEPTH 2

enum { TAG_WORK = 1, TAG_STOP, TAG_RESULT };

/* Converts this rank's monotonic clock to seconds since the job's start. */
static double clock_offset(const mb_run *r)
{
    return mb_clock_wall() - r->t0 - mb_clock_now();
}

/* Run one task into row; failures zero the record and keep the status. */
static void run_task(const mb_run *r, uint64_t task, double *row, double offset)
{
    double t = mb_clock_now();
    mb_err rc = r->kernel->run(r->kstate, task, (mb_payload){NULL, 0}, row);
    double *extra = row + r->reclen;
    extra[MB_ROW_SECONDS] = mb_clock_now() - t;
    if (rc != MB_OK)
        memset(row, 0, r->reclen * sizeof *row);
    extra[MB_ROW_RANK] = r->rank;
    extra[MB_ROW_START] = t + offset;
    extra[MB_ROW_STATUS] = (double)rc;
}

/* Run a chunk into msg = [first, count, rows...]; returns doubles used. */
static size_t run_chunk(const mb_run *r, uint64_t first, uint64_t count, double *msg,
                        double offset)
{
    size_t rowlen = mb_row_len(r->reclen);
    msg[0] = (double)first;
    msg[1] = (double)count;
    for (uint64_t i = 0; i < count; i++)
        run_task(r, first + i, msg + MB_CHUNK_HEADER + i * rowlen, offset);
    return MB_CHUNK_HEADER + count * rowlen;
}

/* Doubles in one chunk message, checked against MPI's int counts. */
static mb_err chunk_doubles(const mb_run *r, uint64_t chunks, size_t *n)
{
    *n = 0;
    double total = (double)chunks * (MB_CHUNK_HEADER + (double)r->chunk * mb_row_len(r->reclen));
    if (total > INT_MAX / 2)
        return mb_error_set(MB_ERR_USAGE, "'chunk' %llu is too large: a chunk's results "
                            "must fit one MPI message", (unsigned long long)r->chunk);
    *n = (size_t)total;
    return MB_OK;
}

/* ---- static ------------------------------------------------------------ */

typedef struct static_bufs {
    uint64_t *deal;      /* rank 0: [first, count] per rank and turn */
    uint64_t *mine;      /* this rank's [first, count] per turn */
    double *rows;        /* this rank's chunk messages */
    double *all;         /* rank 0: everyone's chunk messages */
    int *counts, *displs;
    size_t *cursor;      /* rank 0: position in each rank's gathered part */
} static_bufs;

static void static_free(static_bufs *b)
{
    free(b->deal);
    free(b->mine);
    free(b->rows);
    free(b->all);
    free(b->counts);
    free(b->displs);
    free(b->cursor);
}

static mb_err static_alloc(const mb_run *r, uint64_t turns, static_bufs *b, size_t *cap)
{
    size_t p = (size_t)r->size;
    memset(b, 0, sizeof *b);
    mb_err rc = chunk_doubles(r, turns * p, cap);
    if (rc != MB_OK)
        return rc;
    *cap /= p;
    b->mine = malloc(2 * turns * sizeof *b->mine);
    b->rows = malloc(*cap * sizeof *b->rows);
    if (r->rank == 0) {
        b->deal = malloc(2 * turns * p * sizeof *b->deal);
        b->all = malloc(*cap * p * sizeof *b->all);
        b->counts = malloc(p * sizeof *b->counts);
        b->displs = malloc(p * sizeof *b->displs);
        b->cursor = malloc(p * sizeof *b->cursor);
    }
    if (!b->mine || !b->rows ||
        (r->rank == 0 && (!b->deal || !b->all || !b->counts || !b->displs || !b->cursor)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a static round");
    return MB_OK;
}

/* Rank 0: deal round `round`'s chunks; counts[p] = values for rank p. */
static void static_deal(const mb_run *r, uint64_t round, uint64_t turns, static_bufs *b)
{
    for (int p = 0; p < r->size; p++) {
        int n = 0;
        for (uint64_t j = 0; j < turns; j++) {
            uint64_t first, count;
            mb_chunk_range(r->ntasks, r->chunk, mb_chunk_static(round, j, p, r->size, turns),
                           &first, &count);
            if (count == 0)
                break;
            b->deal[2 * (p * turns) + n++] = first;
            b->deal[2 * (p * turns) + n++] = count;
        }
        b->counts[p] = n;
        b->displs[p] = (int)(2 * turns * (uint64_t)p);
    }
}

/* Rank 0: hand the gathered chunk messages to the collector turn by turn,
 * rank by rank: that is the deal's order, hence task order, so the
 * collector never has to hold a chunk back. */
static mb_err static_collect(const mb_run *r, static_bufs *b, uint64_t turns)
{
    size_t rowlen = mb_row_len(r->reclen);
    for (uint64_t j = 0; j < turns; j++)
        for (int p = 0; p < r->size; p++) {
            const double *m = b->all + b->displs[p] + b->cursor[p];
            size_t len;
            mb_err rc;
            if (b->cursor[p] >= (size_t)b->counts[p])
                return MB_OK; /* the deal ran out of chunks here */
            len = MB_CHUNK_HEADER + (size_t)m[1] * rowlen;
            if ((rc = mb_collector_add(r->col, m, len)) != MB_OK)
                return rc;
            b->cursor[p] += len;
        }
    return MB_OK;
}

static mb_err static_round(const mb_run *r, uint64_t round, uint64_t turns, static_bufs *b,
                           size_t cap, double offset)
{
    int nmine = 0, nrows = 0;
    mb_err rc;
    if (r->rank == 0)
        static_deal(r, round, turns, b);
    rc = mb_mpi_check(MPI_Scatter(b->counts, 1, MPI_INT, &nmine, 1, MPI_INT, 0, r->comm),
                      "MPI_Scatter");
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Scatterv(b->deal, b->counts, b->displs, MPI_UINT64_T, b->mine,
                                       nmine, MPI_UINT64_T, 0, r->comm), "MPI_Scatterv");
    if (rc != MB_OK)
        return rc;
    for (int i = 0; i < nmine; i += 2)
        nrows += (int)run_chunk(r, b->mine[i], b->mine[i + 1], b->rows + nrows, offset);
    if (r->rank == 0)
        for (int p = 0; p < r->size; p++) {
            b->displs[p] = (int)(cap * (size_t)p);
            b->cursor[p] = 0;
        }
    rc = mb_mpi_check(MPI_Gather(&nrows, 1, MPI_INT, b->counts, 1, MPI_INT, 0, r->comm),
                      "MPI_Gather");
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Gatherv(b->rows, nrows, MPI_DOUBLE, b->all, b->counts, b->displs,
                                      MPI_DOUBLE, 0, r->comm), "MPI_Gatherv");
    return rc == MB_OK && r->rank == 0 ? static_collect(r, b, turns) : rc;
}

mb_err mb_schedule_static(mb_run *r)
{
    uint64_t turns = mb_chunk_round_turns(r->chunk, r->size, ROUND_TASKS);
    uint64_t rounds = mb_chunk_rounds(mb_chunk_count(r->ntasks, r->chunk), r->size, turns);
    double offset = clock_offset(r);
    static_bufs b;
    size_t cap;
    mb_err rc = static_alloc(r, turns, &b, &cap);
    for (uint64_t round = 0; rc == MB_OK && round < rounds; round++)
        rc = static_round(r, round, turns, &b, cap, offset);
    static_free(&b);
    return rc;
}

/* ---- dynamic ----------------------------------------------------------- */

typedef struct dispatcher {
    mb_run *r;
    uint64_t next, nchunks;     /* next chunk to hand out */
    int *inflight;              /* chunks held by each worker; -1 once stopped */
    unsigned *sent;             /* sends per worker, rotating its slots */
    uint64_t outstanding;
    uint64_t (*slots)[2];       /* DEPTH send buffers per worker */
    MPI_Request *reqs;          /* their Isend requests */
    double *msg;                /* receive buffer for one result chunk */
    size_t msgcap;
} dispatcher;

static mb_err send_next(dispatcher *d, int w)
{
    uint64_t first, count;
    if (d->next >= d->nchunks) {
        if (d->inflight[w] > 0)
            return MB_OK;
        d->inflight[w] = -1; /* stopped */
        return mb_mpi_check(MPI_Send(NULL, 0, MPI_BYTE, w, TAG_STOP, d->r->comm), "MPI_Send");
    }
    mb_chunk_range(d->r->ntasks, d->r->chunk, d->next++, &first, &count);
    /* The slot's previous send finished long ago (its result is back), but
     * MPI still wants the request completed before the buffer is reused. */
    size_t s = (size_t)w * DEPTH + d->sent[w]++ % DEPTH;
    mb_err rc = mb_mpi_check(MPI_Wait(&d->reqs[s], MPI_STATUS_IGNORE), "MPI_Wait");
    if (rc != MB_OK)
        return rc;
    d->slots[s][0] = first;
    d->slots[s][1] = count;
    d->inflight[w]++;
    d->outstanding++;
    return mb_mpi_check(MPI_Isend(d->slots[s], 2, MPI_UINT64_T, w, TAG_WORK, d->r->comm,
                                  &d->reqs[s]), "MPI_Isend");
}

/* Receive the result a probe found, collect it and refill that worker. */
static mb_err serve(dispatcher *d, const MPI_Status *st)
{
    int n = 0, w = st->MPI_SOURCE;
    mb_err rc = mb_mpi_check(MPI_Get_count(st, MPI_DOUBLE, &n), "MPI_Get_count");
    if (rc == MB_OK && (size_t)n > d->msgcap)
        rc = mb_error_set(MB_ERR_INTERNAL, "rank %d sent a result of %d values", w, n);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Recv(d->msg, n, MPI_DOUBLE, w, TAG_RESULT, d->r->comm,
                                   MPI_STATUS_IGNORE), "MPI_Recv");
    if (rc == MB_OK)
        rc = mb_collector_add(d->r->col, d->msg, (size_t)n);
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
    mb_err rc = MB_OK;
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
    d->nchunks = mb_chunk_count(r->ntasks, r->chunk);
    mb_err rc = chunk_doubles(r, 1, &d->msgcap);
    if (rc != MB_OK)
        return rc;
    d->inflight = calloc(p, sizeof *d->inflight);
    d->sent = calloc(p, sizeof *d->sent);
    d->slots = calloc(p * DEPTH, sizeof *d->slots);
    d->reqs = malloc(p * DEPTH * sizeof *d->reqs);
    d->msg = malloc(d->msgcap * sizeof *d->msg);
    if (!d->inflight || !d->sent || !d->slots || !d->reqs || !d->msg)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the dispatcher");
    for (size_t i = 0; i < p * DEPTH; i++)
        d->reqs[i] = MPI_REQUEST_NULL;
    return MB_OK;
}

static void dispatcher_free(dispatcher *d)
{
    if (d->reqs)
        MPI_Waitall(d->r->size * DEPTH, d->reqs, MPI_STATUSES_IGNORE);
    free(d->inflight);
    free(d->sent);
    free(d->slots);
    free(d->reqs);
    free(d->msg);
}

/* Rank 0: prime every worker, then alternate between one task of its own
 * and serving whatever results have arrived. */
static mb_err dynamic_root(mb_run *r, double offset)
{
    dispatcher d;
    uint64_t lfirst = 0, lcount = 0, ldone = 0;
    mb_err rc = dispatcher_init(&d, r);
    for (int w = 1; rc == MB_OK && w < r->size; w++)
        for (int k = 0; rc == MB_OK && k < DEPTH && d.inflight[w] >= 0; k++)
            rc = send_next(&d, w);
    double *local = rc == MB_OK ? malloc(d.msgcap * sizeof *local) : NULL;
    if (rc == MB_OK && !local)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for rank 0's chunk");
    while (rc == MB_OK) {
        if (ldone < lcount) {
            run_task(r, lfirst + ldone, local + MB_CHUNK_HEADER + ldone * mb_row_len(r->reclen),
                     offset);
            if (++ldone == lcount)
                rc = mb_collector_add(r->col, local, MB_CHUNK_HEADER + lcount * mb_row_len(r->reclen));
        } else if (d.next < d.nchunks) {
            mb_chunk_range(r->ntasks, r->chunk, d.next++, &lfirst, &lcount);
            local[0] = (double)lfirst;
            local[1] = (double)lcount;
            ldone = 0;
        } else if (d.outstanding == 0) {
            break;
        }
        if (rc == MB_OK && r->size > 1)
            rc = poll(&d, ldone == lcount && d.next >= d.nchunks && d.outstanding > 0);
    }
    free(local);
    dispatcher_free(&d);
    return rc;
}

/* Workers: receive a chunk, run it, return its rows, until told to stop.
 * Two result buffers alternate so a send can overlap the next chunk. */
static mb_err dynamic_worker(mb_run *r, double offset)
{
    size_t cap;
    mb_err rc = chunk_doubles(r, 1, &cap);
    double *buf[2] = {NULL, NULL};
    MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    if (rc == MB_OK && (!(buf[0] = malloc(cap * sizeof(double))) ||
                        !(buf[1] = malloc(cap * sizeof(double)))))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for result buffers");
    for (int i = 0; rc == MB_OK; i ^= 1) {
        MPI_Status st;
        uint64_t work[2];
        rc = mb_mpi_check(MPI_Probe(0, MPI_ANY_TAG, r->comm, &st), "MPI_Probe");
        if (rc != MB_OK || st.MPI_TAG == TAG_STOP) {
            if (rc == MB_OK)
                rc = mb_mpi_check(MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_STOP, r->comm,
                                           MPI_STATUS_IGNORE), "MPI_Recv");
            break;
        }
        rc = mb_mpi_check(MPI_Recv(work, 2, MPI_UINT64_T, 0, TAG_WORK, r->comm,
                                   MPI_STATUS_IGNORE), "MPI_Recv");
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Wait(&req[i], MPI_STATUS_IGNORE), "MPI_Wait");
        if (rc != MB_OK)
            break;
        size_t n = run_chunk(r, work[0], work[1], buf[i], offset);
        rc = mb_mpi_check(MPI_Isend(buf[i], (int)n, MPI_DOUBLE, 0, TAG_RESULT, r->comm, &req[i]),
                          "MPI_Isend");
    }
    MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
    free(buf[0]);
    free(buf[1]);
    return rc;
}

mb_err mb_schedule_dynamic(mb_run *r)
{
    double offset = clock_offset(r);
    return r->rank == 0 ? dynamic_root(r, offset) : dynamic_worker(r, offset);
}
