/* dynamic.c - the dynamic schedule (self-scheduling) and speculation. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "schedule/internal.h"

/* Chunks a dynamic worker holds per slot (a rank runs as many chunks at
 * once as its kernel has slots): one running and, while chunks are short,
 * one queued behind it, so the next is there the moment one ends.  A chunk
 * of LONG_CHUNK seconds or more on average (or, before any has ended, one
 * of a kernel with long tasks) gets none queued behind it: work waiting in
 * one rank's queue while another rank is idle is a hole in the schedule. */
#define DEPTH 2
#define LONG_CHUNK 0.05

/* Rank 0's turn while its own task waits (MB_KERNEL_WAITS_IDLE kernels),
 * every IDLE_SERVE_MS with other ranks to answer, else every
 * IDLE_PROGRESS_MS for the progress line and status file. */
#define IDLE_SERVE_MS 1
#define IDLE_PROGRESS_MS 100

/* TAG_SIGNAL: a worker caught a signal (its number); TAG_DRAIN: rank 0
 * tells the workers the job drains (the signal's number, 0 if none). */
/* TAG_ALIVE: a worker's heartbeat (empty), sent every heartbeat/3 s. */
enum { TAG_WORK = 1, TAG_STOP, TAG_RESULT, TAG_DONE, TAG_SIGNAL, TAG_DRAIN,
       TAG_ALIVE = MB_TAG_ALIVE };

/* One piece of work handed out: a chunk, or the re-run of one task of a
 * pending chunk.  It may run twice (a speculative copy); the first result
 * is taken, and it is freed when every copy is accounted for. */
typedef struct entry {
    mb_buf work;          /* its work message, also the send buffer */
    mb_pending *p;           /* a re-run of task i of p, or NULL: a chunk */
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
    mb_feed f;
    mb_retrier rt;
    entry **q;                  /* qcap entries per rank, oldest first; the first
                                 * slots[w] of them run */
    uint64_t *qseq;             /* the number of each one's work message */
    int *qlen, qcap, *slots;
    int64_t busy;               /* chunks running on all ranks */
    int *state;                 /* ACTIVE, STOPPING (STOP sent), STOPPED (DONE came) */
    uint64_t *sent;             /* work messages sent per worker */
    uint64_t undone;            /* entries still waiting for a result */
    entry *spare;               /* freed entries, reused */
    double *times;              /* run times of finished chunks, for the median */
    size_t ntimes, captimes, sorted;
    double median;
    double chunk_seconds;       /* run time of the chunks finished, for depth() */
    uint64_t chunks;
    mb_err idle_rc;             /* the first error of a turn inside rank 0's task */
    mb_buf msg;                 /* receive buffer for one result */
    mb_buf local;               /* one result of rank 0's own */
    mb_pool *pool;              /* rank 0's own tasks */
    int draining;               /* the job drains: nothing more is handed out */
    mb_watch watch;             /* when each rank's last message came */
} dispatcher;

/* How many chunks worker w may hold (see DEPTH). */
static int depth(const dispatcher *d, int w)
{
    if (d->chunks == 0)
        return d->r->kernel->flags & MB_KERNEL_LONG_TASKS ? d->slots[w] : DEPTH * d->slots[w];
    return d->chunk_seconds / (double)d->chunks >= LONG_CHUNK ? d->slots[w] : DEPTH * d->slots[w];
}

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

static entry **queue_of(const dispatcher *d, int w)
{
    return d->q + (size_t)w * (size_t)d->qcap;
}

/* Rank w holds e now, in work message number seq (its count of sends). */
static void queue_push(dispatcher *d, int w, entry *e, uint64_t seq)
{
    if (d->qlen[w] < d->slots[w]) {
        e->started = mb_clock_now();
        d->busy++;
    }
    d->qseq[(size_t)w * (size_t)d->qcap + (size_t)d->qlen[w]] = seq;
    queue_of(d, w)[d->qlen[w]++] = e;
}

/* Take the work of message seq from rank w's queue (the oldest for
 * UINT64_MAX); the first one queued behind the running ones starts. */
static entry *queue_take(dispatcher *d, int w, uint64_t seq)
{
    entry **q = queue_of(d, w);
    uint64_t *qs = d->qseq + (size_t)w * (size_t)d->qcap;
    int k = 0;
    while (k < d->qlen[w] && seq != UINT64_MAX && qs[k] != seq)
        k++;
    if (k >= d->qlen[w])
        return NULL;
    entry *e = q[k];
    memmove(q + k, q + k + 1, (size_t)(d->qlen[w] - k - 1) * sizeof *q);
    memmove(qs + k, qs + k + 1, (size_t)(d->qlen[w] - k - 1) * sizeof *qs);
    if (d->qlen[w]-- > d->slots[w] && k < d->slots[w])
        q[d->slots[w] - 1]->started = mb_clock_now();
    else if (k < d->slots[w])
        d->busy--;
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
    if (d->r->speculate_after <= 0 || d->ntimes == 0 || d->qlen[w] >= d->slots[w] || d->draining)
        return NULL;
    if (d->sorted != d->ntimes) {
        /* Only at the tail of the job, and only when a result came in. */
        qsort(d->times, d->ntimes, sizeof *d->times, cmp_double);
        d->median = d->times[d->ntimes / 2];
        d->sorted = d->ntimes;
    }
    for (int v = 0; v < d->r->size; v++)
        for (int k = 0; v != w && k < d->qlen[v] && k < d->slots[v]; k++) {
            entry *e = queue_of(d, v)[k];
            if (e->done || e->spec || e->p)
                continue;
            if (e->started == 0)
                e->started = now;
            if (now - e->started > d->r->speculate_after * d->median &&
                now - e->started > longest) {
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
    mb_retry_item it;
    uint64_t count = 1;
    mb_err rc = MB_OK;
    entry *e = entry_new(d);
    *out = NULL;
    if (!e)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the dispatcher");
    if (mb_retrier_take(&d->rt, w, &it)) {
        e->p = it.p;
        e->i = it.i;
        rc = mb_retrier_work(&d->rt, &it, &e->work);
    } else {
        rc = mb_feed_next(&d->f, &e->work, &count);
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
    if (!mb_fits_int(e->work.len)) {
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
    while (rc == MB_OK && d->state[w] == ACTIVE && d->qlen[w] < depth(d, w)) {
        entry *e;
        if ((rc = take_work(d, w, &e)) != MB_OK || !e)
            break;
        queue_push(d, w, e, d->sent[w]++);
        rc = mb_mpi_check(MPI_Isend(e->work.data, (int)e->work.len, MPI_BYTE, w, TAG_WORK,
                                    d->r->comm, &e->req[e->spec]), "MPI_Isend");
    }
    return rc;
}

/* Idle workers ask for nothing: offer them re-runs, stragglers, and the
 * tasks after a barrier once it is passed. */
static mb_err refill_idle(dispatcher *d)
{
    mb_err rc = MB_OK;
    if (d->rt.nqueue == 0 && !(d->f.done && d->r->speculate_after > 0) && !d->f.barrier)
        return MB_OK;
    for (int w = 1; rc == MB_OK && w < d->r->size; w++)
        if (d->qlen[w] < d->slots[w])
            rc = refill(d, w);
    return rc;
}

/* The result of work message seq of rank w. */
static mb_err on_result(dispatcher *d, int w, uint64_t seq, const char *msg, size_t len)
{
    entry *e = queue_take(d, w, seq);
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
        if (!e->p && !e->spec) {
            d->chunk_seconds += took;
            d->chunks++;
        }
        /* Chunk times feed the median only where speculation reads it. */
        if (!e->p && !e->spec && d->r->speculate_after > 0)
            rc = note_time(d, took);
        if (rc == MB_OK)
            rc = e->p ? mb_retrier_done(&d->rt, e->p, e->i, &res)
                      : mb_retrier_intake(&d->rt, &res, e->work.data, e->work.len);
    }
    if (e->runs == 0)
        entry_release(d, e);
    return rc;
}

/* Receive the message a probe found: a result, or a stopped worker's DONE
 * (its unanswered work was abandoned or never started). */
static mb_err drain_begin(dispatcher *d);

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
    mb_watch_heard(&d->watch, w, mb_clock_now());
    if (st->MPI_TAG == TAG_ALIVE)
        return MB_OK;
    if (st->MPI_TAG == TAG_SIGNAL) { /* a worker caught a signal: drain */
        int sig = 0;
        if (n == (int)sizeof sig)
            memcpy(&sig, d->msg.data, sizeof sig);
        mb_stop_note(sig);
        return d->draining ? MB_OK : drain_begin(d);
    }
    if (st->MPI_TAG == TAG_DONE) {
        d->state[w] = STOPPED;
        mb_watch_off(&d->watch, w);
        for (entry *e; (e = queue_take(d, w, UINT64_MAX));)
            if (--e->runs == 0)
                entry_release(d, e);
        return MB_OK;
    }
    /* A result: the number of the work message it answers, then the result. */
    uint64_t seq;
    if (n < (int)sizeof seq)
        return mb_error_set(MB_ERR_INTERNAL, "rank %d sent a result of %d bytes", w, n);
    memcpy(&seq, d->msg.data, sizeof seq);
    if ((rc = on_result(d, w, seq, d->msg.data + sizeof seq, (size_t)n - sizeof seq)) == MB_OK)
        rc = refill(d, w);
    return rc == MB_OK ? refill_idle(d) : rc;
}

/* Serve every message waiting; with block, wait for one first, or for a
 * drain to begin (a signal is not seen inside MPI_Probe). */
static mb_err poll(dispatcher *d, int block)
{
    MPI_Status st;
    int flag = 0;
    mb_err rc;
    for (;;) {
        rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &flag, &st),
                          "MPI_Iprobe");
        if (rc == MB_OK && !flag && d->r->heartbeat > 0)
            rc = mb_watch_check(&d->watch, mb_clock_now());
        if (rc != MB_OK || flag || !block || (!d->draining && mb_stop_draining()))
            break;
        mb_feed_progress(d->r, &d->f, d->busy); /* the status stays fresh while waiting */
    }
    while (rc == MB_OK && flag) {
        rc = serve(d, &st);
        if (rc == MB_OK)
            rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &flag, &st),
                              "MPI_Iprobe");
    }
    return rc;
}

/* slots: each rank's slots (gathered from all). */
static mb_err dispatcher_init(dispatcher *d, mb_run *r, int *slots)
{
    size_t p = (size_t)r->size;
    memset(d, 0, sizeof *d);
    d->r = r;
    d->f.r = r;
    d->f.next = r->first;
    d->rt.r = r;
    d->slots = slots;
    for (size_t w = 0; w < p; w++)
        d->qcap = slots[w] > d->qcap ? slots[w] : d->qcap;
    d->qcap *= DEPTH;
    d->q = calloc(p * (size_t)d->qcap, sizeof *d->q);
    d->qseq = calloc(p * (size_t)d->qcap, sizeof *d->qseq);
    d->qlen = calloc(p, sizeof *d->qlen);
    d->state = calloc(p, sizeof *d->state);
    d->sent = calloc(p, sizeof *d->sent);
    if (!d->q || !d->qseq || !d->qlen || !d->state || !d->sent)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the dispatcher");
    return mb_watch_init(&d->watch, r);
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
    mb_retrier_free(&d->rt);
    free(d->q);
    free(d->qseq);
    free(d->qlen);
    free(d->state);
    free(d->sent);
    mb_watch_free(&d->watch);
    free(d->times);
    mb_buf_free(&d->msg);
    mb_buf_free(&d->local);
    mb_batch_free(&d->f.batch);
}

/* Tell every worker to stop (with the count of work messages it was sent,
 * so it can drain those it never started) and wait for each DONE. */
static mb_err stop_workers(dispatcher *d)
{
    mb_err rc = MB_OK;
    int left = 0;
    for (int w = 1; rc == MB_OK && w < d->r->size; w++) {
        uint64_t stop[2] = {d->sent[w], (uint64_t)d->draining};
        rc = mb_mpi_check(MPI_Send(stop, 2, MPI_UINT64_T, w, TAG_STOP, d->r->comm), "MPI_Send");
        d->state[w] = STOPPING;
        left++;
    }
    while (rc == MB_OK && left > 0) {
        MPI_Status st;
        int flag = 0;
        while (rc == MB_OK && !flag &&
               (rc = mb_mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, d->r->comm, &flag, &st),
                                  "MPI_Iprobe")) == MB_OK && !flag)
            rc = mb_watch_check(&d->watch, mb_clock_now());
        if (rc == MB_OK)
            rc = serve(d, &st);
        if (rc == MB_OK && d->state[st.MPI_SOURCE] == STOPPED && st.MPI_TAG == TAG_DONE)
            left--;
    }
    return rc;
}

/* Rank 0: take work for its own pool while a slot is free; the results
 * of its chunks that ended go where a worker's would. */
static mb_err local_run(dispatcher *d, mb_pool *x)
{
    mb_err rc = MB_OK;
    uint64_t seq;
    while (rc == MB_OK && !d->r->root_serves_only && mb_pool_has_room(x)) {
        entry *e;
        if ((rc = take_work(d, 0, &e)) != MB_OK || !e)
            break;
        queue_push(d, 0, e, d->sent[0]);
        rc = mb_pool_add(x, e->work.data, e->work.len, d->sent[0]++);
    }
    if (rc != MB_OK || !mb_pool_busy(x))
        return rc;
    if ((rc = mb_pool_step(x)) != MB_OK)
        return rc;
    d->local.len = 0;
    while (rc == MB_OK && mb_pool_take(x, 0, &d->local, &seq, &rc) && rc == MB_OK) {
        rc = on_result(d, 0, seq, d->local.data, d->local.len);
        d->local.len = 0;
    }
    return rc == MB_OK ? refill_idle(d) : rc;
}

static int finished(const dispatcher *d)
{
    return (d->f.done || d->f.stopped) && d->rt.nqueue == 0 && d->undone == 0;
}

/* Rank 0: the job drains (a signal here or on a worker): hand out nothing
 * more, drop the queued re-runs, and tell every worker, so none starts a
 * task and each answers the work it holds at once. */
static mb_err drain_begin(dispatcher *d)
{
    mb_run *r = d->r;
    int sig;
    mb_err rc = MB_OK;
    mb_schedule_must_drain(r);
    sig = mb_stop_signal();
    d->draining = 1;
    d->f.stopped = 1;
    mb_retrier_drop_all(&d->rt);
    for (int w = 1; rc == MB_OK && w < r->size; w++)
        rc = mb_mpi_check(MPI_Send(&sig, 1, MPI_INT, w, TAG_DRAIN, r->comm), "MPI_Send");
    return rc;
}

/* Rank 0 with nothing to run: wait for results, waking every millisecond
 * while stragglers may need copying, and (for long tasks) to keep the
 * progress line and status file going while commands run elsewhere. */
static mb_err wait_results(dispatcher *d)
{
    struct timespec nap = {0, 1000000};
    if ((d->r->speculate_after <= 0 || !d->f.done) && !(d->r->kernel->flags & MB_KERNEL_LONG_TASKS))
        return poll(d, 1);
    mb_err rc = poll(d, 0);
    if (rc == MB_OK)
        rc = refill_idle(d);
    nanosleep(&nap, NULL);
    return rc;
}

/* Rank 0's turn inside its own waiting tasks: answer the other ranks,
 * draw progress.  An error stops the job once the task returns.  Nonzero
 * when a re-run could start in one of its free slots. */
static int root_idle(void *ctx)
{
    dispatcher *d = ctx;
    mb_feed_progress(d->r, &d->f, d->busy);
    if (d->idle_rc == MB_OK && d->r->size > 1)
        d->idle_rc = poll(d, 0);
    return d->idle_rc != MB_OK ||
           (!d->r->root_serves_only && d->rt.nqueue > 0 && mb_pool_has_room(d->pool));
}

/* Rank 0: prime every worker, then alternate between its own tasks
 * (which serve the other ranks while they wait) and serving whatever
 * results have arrived. */
static mb_err dynamic_root(mb_run *r, int *slots)
{
    dispatcher d;
    mb_pool x;
    mb_err rc = dispatcher_init(&d, r, slots);
    if (rc == MB_OK)
        rc = mb_pool_init(&x, r);
    d.pool = &x;
    for (int w = 1; rc == MB_OK && w < r->size; w++)
        rc = refill(&d, w);
    if (r->kernel->flags & MB_KERNEL_WAITS_IDLE)
        mb_kernel_set_idle(root_idle, &d, r->size > 1 ? IDLE_SERVE_MS : IDLE_PROGRESS_MS);
    while (rc == MB_OK) {
        int idle = 0;
        if (!d.draining && mb_schedule_must_drain(r) && (rc = drain_begin(&d)) != MB_OK)
            break;
        mb_feed_progress(r, &d.f, d.busy);
        if ((rc = local_run(&d, &x)) == MB_OK)
            rc = d.idle_rc;
        if (rc == MB_OK && !mb_pool_busy(&x)) {
            if (finished(&d)) {
                mb_feed_progress(r, &d.f, d.busy); /* the input's end, for the status */
                break;
            }
            idle = 1; /* only results (or a straggler's time) can bring work */
        }
        if (rc == MB_OK && r->size > 1)
            rc = idle ? wait_results(&d) : poll(&d, 0);
        /* The end of rank 0's last task is recent enough: no clock read. */
        if (rc == MB_OK && r->size > 1 && r->heartbeat > 0)
            rc = mb_watch_check(&d.watch, mb_clock_now());
    }
    mb_kernel_set_idle(NULL, NULL, 0);
    if (rc == MB_OK)
        rc = stop_workers(&d);
    if (rc == MB_OK && d.draining)
        rc = mb_error_set(MB_ERR_STOPPED, "%s", r->ending);
    /* A lost rank cannot answer STOP: the driver ends the job (MPI_Abort). */
    r->dispatched = d.f.next;
    r->input_done = d.f.done;
    mb_pool_free(&x);
    dispatcher_free(&d);
    return rc;
}

/* Worker: between turns, has rank 0 said STOP (the work it holds was
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

/* A worker's side of a drain: whether it told rank 0 of its own signal,
 * and whether rank 0's TAG_DRAIN has been received. */
typedef struct worker_drain {
    int told, heard;
} worker_drain;

/* Worker: a signal caught here reaches rank 0 before any result that
 * holds a task it left undone (messages from one rank arrive in order). */
static mb_err tell_drain(const mb_run *r, worker_drain *wd)
{
    int sig = mb_stop_signal();
    if (wd->told || wd->heard || !mb_stop_draining())
        return MB_OK;
    wd->told = 1;
    return mb_mpi_check(MPI_Send(&sig, 1, MPI_INT, 0, TAG_SIGNAL, r->comm), "MPI_Send");
}

/* Worker: receive rank 0's TAG_DRAIN and drain here too. */
static mb_err hear_drain(const mb_run *r, worker_drain *wd)
{
    int sig = 0;
    mb_err rc = mb_mpi_check(MPI_Recv(&sig, 1, MPI_INT, 0, TAG_DRAIN, r->comm, MPI_STATUS_IGNORE),
                             "MPI_Recv");
    wd->heard = 1;
    mb_stop_note(sig);
    return rc;
}

/* Worker, while a kernel waits for its task (mb_stop_set_poll): take rank
 * 0's TAG_DRAIN if it came, so that the grace starts here too. */
typedef struct worker_poll_ctx {
    const mb_run *r;
    worker_drain *wd;
    mb_pool *pool;        /* the worker's tasks */
} worker_poll_ctx;

static void worker_poll(void *arg)
{
    worker_poll_ctx *c = arg;
    int flag = 0;
    mb_heartbeat(c->r, mb_clock_now());
    if (c->wd->heard || MPI_Iprobe(0, TAG_DRAIN, c->r->comm, &flag, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS || !flag)
        return;
    hear_drain(c->r, c->wd);
}

/* Worker: wait for rank 0's next work or STOP (*st), taking a TAG_DRAIN
 * on the way and telling rank 0 of a signal caught while waiting. */
static mb_err worker_wait(const mb_run *r, worker_drain *wd, MPI_Status *st)
{
    int flag = 0;
    mb_err rc = MB_OK;
    while (rc == MB_OK && !flag) {
        rc = mb_mpi_check(MPI_Iprobe(0, MPI_ANY_TAG, r->comm, &flag, st), "MPI_Iprobe");
        if (rc == MB_OK && flag && st->MPI_TAG == TAG_DRAIN) {
            flag = 0;
            rc = hear_drain(r, wd);
        }
        if (rc == MB_OK && !flag)
            rc = tell_drain(r, wd);
        if (rc == MB_OK && !flag && r->heartbeat > 0)
            mb_heartbeat(r, mb_clock_now());
    }
    return rc;
}

/* Worker: receive the STOP, drain the work sent but never started, say DONE.
 * A STOP that ends a drain makes the worker return MB_ERR_STOPPED. */
static mb_err worker_stop(const mb_run *r, mb_buf *work, uint64_t received, worker_drain *wd)
{
    uint64_t stop[2] = {0, 0}, sent;
    mb_err rc = mb_mpi_check(MPI_Recv(stop, 2, MPI_UINT64_T, 0, TAG_STOP, r->comm,
                                      MPI_STATUS_IGNORE), "MPI_Recv");
    sent = stop[0];
    /* Rank 0 sent TAG_DRAIN before STOP: take it, so nothing is left. */
    if (rc == MB_OK && stop[1] && !wd->heard)
        rc = hear_drain(r, wd);
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
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_DONE, r->comm), "MPI_Send");
    return rc == MB_OK && stop[1] ? mb_error_set(MB_ERR_STOPPED, "the job stopped") : rc;
}

/* Worker with several slots, inside its kernel's wait: while a slot is
 * free, whether rank 0 sent something (work for it, STOP, a drain) that
 * the worker's loop must take before waiting on. */
static int worker_idle(void *arg)
{
    worker_poll_ctx *c = arg;
    int flag = 0;
    if (!mb_pool_has_room(c->pool))
        return 0;
    return MPI_Iprobe(0, MPI_ANY_TAG, c->r->comm, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag;
}

/* Worker: receive the work message st found and give it to the pool. */
static mb_err worker_receive(const mb_run *r, const MPI_Status *st, mb_buf *work, mb_pool *x,
                             uint64_t seq)
{
    int n = 0;
    size_t pos = 0;
    mb_work w;
    mb_err rc = mb_mpi_check(MPI_Get_count(st, MPI_BYTE, &n), "MPI_Get_count");
    work->len = 0;
    if (rc == MB_OK)
        rc = mb_buf_reserve(work, (size_t)n);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Recv(work->data, n, MPI_BYTE, 0, TAG_WORK, r->comm,
                                   MPI_STATUS_IGNORE), "MPI_Recv");
    if (rc == MB_OK)
        rc = mb_wire_get_work(work->data, (size_t)n, &pos, &w);
    return rc == MB_OK ? mb_pool_add(x, work->data, (size_t)n, seq) : rc;
}

/* Worker: send rank 0 the result of every chunk that ended, each after
 * the number of the work message it answers. */
static mb_err worker_results(const mb_run *r, mb_pool *x, mb_buf *out, worker_drain *wd)
{
    uint64_t seq = 0;
    mb_err rc = MB_OK;
    for (;;) {
        out->len = 0;
        if ((rc = mb_buf_append(out, &seq, sizeof seq)) != MB_OK ||
            !mb_pool_take(x, 0, out, &seq, &rc) || rc != MB_OK)
            return rc;
        memcpy(out->data, &seq, sizeof seq);
        if (!mb_fits_int(out->len))
            return mb_error_set(MB_ERR_USAGE, "a chunk's results exceed 2 GiB: lower 'chunk'");
        if ((rc = tell_drain(r, wd)) != MB_OK ||
            (rc = mb_mpi_check(MPI_Send(out->data, (int)out->len, MPI_BYTE, 0, TAG_RESULT,
                                        r->comm), "MPI_Send")) != MB_OK)
            return rc;
    }
}

/* Workers: receive chunks, run them (as many tasks at once as the pool's
 * slots), return each one's result, until told to stop.  Work that came
 * is taken before the pool waits again. */
static mb_err dynamic_worker(mb_run *r)
{
    mb_buf work = {0}, out = {0};
    uint64_t received = 0;
    worker_drain wd = {0, 0};
    mb_pool x;
    worker_poll_ctx pc = {r, &wd, &x};
    mb_watch watch;
    mb_err rc = mb_watch_init(&watch, r); /* this rank's heartbeats */
    if (rc == MB_OK)
        rc = mb_pool_init(&x, r);
    mb_stop_set_poll(worker_poll, &pc);
    /* With one slot nothing that comes could start before a task ends. */
    if (x.slots > 1)
        mb_kernel_set_idle(worker_idle, &pc, IDLE_SERVE_MS);
    while (rc == MB_OK) {
        MPI_Status st;
        int flag = 0;
        /* STOP overtakes queued work only when looked for by its tag. */
        if (stop_waiting(r))
            break;
        if (!mb_pool_busy(&x)) {
            rc = worker_wait(r, &wd, &st);
            flag = 1;
        } else if ((rc = mb_mpi_check(MPI_Iprobe(0, MPI_ANY_TAG, r->comm, &flag, &st),
                                      "MPI_Iprobe")) == MB_OK && flag && st.MPI_TAG == TAG_DRAIN) {
            rc = hear_drain(r, &wd);
            continue;
        }
        if (rc != MB_OK || (flag && st.MPI_TAG == TAG_STOP))
            break;
        if (flag) {
            rc = worker_receive(r, &st, &work, &x, received++);
            continue;
        }
        mb_heartbeat(r, x.now); /* when the last task ended: no clock read */
        if ((rc = mb_pool_step(&x)) == MB_OK)
            rc = worker_results(r, &x, &out, &wd);
    }
    mb_kernel_set_idle(NULL, NULL, 0);
    mb_stop_set_poll(NULL, NULL);
    if (rc == MB_OK)
        rc = worker_stop(r, &work, received, &wd);
    mb_buf_free(&work);
    mb_buf_free(&out);
    mb_pool_free(&x);
    return rc;
}

/* Every rank: its slots, gathered on rank 0 for the dispatcher. */
static mb_err gather_slots(const mb_run *r, int **slots)
{
    int mine = r->kernel->start ? (int)r->kernel->slots(r->kstate) : 1;
    *slots = NULL;
    if (r->rank == 0 && !(*slots = malloc((size_t)r->size * sizeof **slots)))
        mine = -1;
    mb_err rc = mb_comm_agree(r->comm, mine < 0 ? mb_error_set(MB_ERR_NOMEM, "out of memory")
                                                : MB_OK);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Gather(&mine, 1, MPI_INT, *slots, 1, MPI_INT, 0, r->comm),
                          "MPI_Gather");
    for (int w = 0; rc == MB_OK && *slots && w < r->size; w++)
        if ((*slots)[w] < 1)
            (*slots)[w] = 1;
    return rc;
}

mb_err mb_schedule_dynamic(mb_run *r)
{
    int *slots;
    mb_err rc = gather_slots(r, &slots);
    if (rc == MB_OK)
        rc = r->rank == 0 ? dynamic_root(r, slots) : dynamic_worker(r);
    free(slots);
    return rc;
}
