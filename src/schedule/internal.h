/* internal.h - what the schedule's files share: rank 0's feed of chunks,
 * the pool that runs a rank's tasks, and the retrier that
 * holds chunks with failed tasks while they run again.  Not installed.
 */
#ifndef MPIBATCH_SCHEDULE_INTERNAL_H
#define MPIBATCH_SCHEDULE_INTERNAL_H

#include <limits.h>

#include "mpibatch/clock.h"
#include "comm.h"
#include "stop.h"
#include "row.h"
#include "schedule/schedule.h"
#include "wire.h"

/* ---- rank 0's feed of chunks (feed.c) ---- */

typedef struct mb_feed {
    const mb_run *r;
    uint64_t next;     /* first task of the next chunk */
    int done;          /* no more tasks */
    int stopped;       /* the job drains: hand out nothing more */
    int barrier;       /* the source stopped at a barrier: nothing more is handed
                        * out until every task handed out so far is collected */
    mb_batch batch;    /* payloads of the chunk being encoded */
} mb_feed;

/* Append the next chunk's work message to out; *count is 0 at the end,
 * and while the feed waits at a barrier (mb_feed_waits). */
mb_err mb_feed_next(mb_feed *f, mb_buf *out, uint64_t *count);

/* Whether the feed waits at a barrier of its source; once every task
 * handed out has been collected (retries and all) the barrier is passed. */
int mb_feed_waits(mb_feed *f);

/* Rank 0: where the feed is, for the progress line and status document
 * (which draw or write only when due). */
void mb_feed_progress(const mb_run *r, const mb_feed *f, int64_t running);

/* ---- a rank's tasks in flight (pool.c) ---- */

typedef struct mb_pool_chunk mb_pool_chunk;

typedef struct mb_pool {
    const mb_run *r;
    unsigned slots;      /* tasks at once: the kernel's slots, 1 without start */
    unsigned running;    /* tasks started and not yet ended */
    uint64_t unstarted;  /* tasks of the chunks held not yet started */
    double offset;       /* this rank's monotonic clock -> seconds since t0 */
    double now;          /* monotonic time the last task ended (no extra clock read) */
    mb_pool_chunk **c;   /* the chunks held, in the order added */
    size_t n, cap;
    mb_buf fails;
} mb_pool;

mb_err mb_pool_init(mb_pool *p, const mb_run *r);

void mb_pool_free(mb_pool *p);

/* Hold the chunk of work message msg[0..len) (copied), numbered seq. */
mb_err mb_pool_add(mb_pool *p, const char *msg, size_t len, uint64_t seq);

/* Start what the free slots allow, then wait until a task ends (or the
 * kernel's wait returns early for the schedule's turn).  While the job
 * drains no task starts, and a task the kernel gave up because of the
 * drain is not done (status MB_ERR_STOPPED, no reason): neither counts as
 * a failure. */
mb_err mb_pool_step(mb_pool *p);

/* A chunk whose tasks all ended (with oldest, only the oldest chunk held):
 * append its result message to out, set *seq to its number, drop it and
 * return 1; 0 when there is none.  *rc is an error building the message. */
int mb_pool_take(mb_pool *p, int oldest, mb_buf *out, uint64_t *seq, mb_err *rc);

/* Whether a slot would be free with one more task. */
int mb_pool_has_room(const mb_pool *p);

/* Whether it holds any chunk. */
int mb_pool_busy(const mb_pool *p);

/* Whether a result holds a task that was not done (the job drains). */
int mb_result_not_done(const mb_run *r, const mb_result *res);

/* Rank 0: whether the job must drain (a signal, or --max-failures hit);
 * the first time, say why in r->ending and stop starting tasks here. */
int mb_schedule_must_drain(mb_run *r);

mb_err mb_schedule_collect(const mb_run *r, const char *msg, size_t len, size_t *pos);

static inline int mb_fits_int(size_t n)
{
    return n <= (size_t)INT_MAX;
}

/* ---- watching the ranks (watch.c) ---- */

/* A worker's heartbeat (empty), point to point on the run's communicator;
 * the dynamic schedule's messages use the tags below it. */
#define MB_TAG_ALIVE 7

/* Rank 0's view of the other ranks (rank 0 only but r). */
typedef struct mb_watch {
    mb_run *r;
    double *seen;         /* when each rank's last message came */
    unsigned char *off;   /* ranks no longer watched (they finished) */
    uint64_t *heard;      /* heartbeats taken by mb_watch_wait */
    double next_check;    /* when to look for silent ranks next */
} mb_watch;

/* Every rank, before a schedule starts: r->lost is -1, every rank was
 * heard from now, and this rank's heartbeats start again. */
mb_err mb_watch_init(mb_watch *w, mb_run *r);

void mb_watch_free(mb_watch *w);

/* Rank 0: a message from rank came at now. */
void mb_watch_heard(mb_watch *w, int rank, double now);

/* Rank 0: rank is done and no longer watched. */
void mb_watch_off(mb_watch *w, int rank);

/* Rank 0, about once a second: a watched worker that sent nothing for
 * r->heartbeat seconds is lost (killed, frozen or cut off):
 * MB_ERR_STOPPED, r->lost and r->ending name it. */
mb_err mb_watch_check(mb_watch *w, double now);

/* Worker: a heartbeat to rank 0 when one is due (every heartbeat/3 s), so
 * a rank busy in a long task is still seen alive. */
void mb_heartbeat(const mb_run *r, double now);

/* Rank 0: take the heartbeats that came, then mb_watch_check. */
mb_err mb_watch_poll(mb_watch *w);

/* Every rank: complete the non-blocking collective req (MPI_Wait when not
 * watching).  Rank 0 meanwhile takes the heartbeats and looks for a lost
 * rank, counting silence from its own arrival at the earliest; a worker
 * sends its heartbeats. */
mb_err mb_watch_wait(mb_watch *w, MPI_Request *req, const char *what);

/* Every rank, at the end of a schedule that took heartbeats with
 * mb_watch_wait: workers stop them, and rank 0 receives every one sent. */
mb_err mb_watch_end(mb_watch *w);

/* ---- retries, rank 0 (retry.c) ---- */

/* A chunk with failed tasks waiting for their re-runs. */
typedef struct mb_pending {
    uint64_t first, count;
    double *rows;         /* count rows, replaced as re-runs return */
    char **reason;        /* per task: why it failed last, NULL if it did not */
    unsigned *attempts;   /* re-runs started per task */
    uint64_t waiting;     /* tasks whose re-runs are queued or running */
    mb_buf work;          /* the chunk's work message: payloads to re-send */
} mb_pending;

/* One task to run again, on any rank but `avoid` when there is another. */
typedef struct mb_retry_item {
    mb_pending *p;
    uint64_t i;
    int avoid;
} mb_retry_item;

typedef struct mb_retrier {
    mb_run *r;
    mb_retry_item *queue;
    size_t nqueue, capqueue;
    mb_batch one;         /* the payload of one re-run */
    mb_buf msg, fails;    /* a finished chunk's result message */
} mb_retrier;

void mb_retrier_free(mb_retrier *rt);

/* Take the first queued re-run that `rank` may run; 0 when none. */
int mb_retrier_take(mb_retrier *rt, int rank, mb_retry_item *it);

/* Append the work message re-running item it's task to out. */
mb_err mb_retrier_work(mb_retrier *rt, const mb_retry_item *it, mb_buf *out);

/* A chunk's first result: straight to the collector, or held while its
 * failed tasks run again.  work[0..wlen) is the chunk's work message. */
mb_err mb_retrier_intake(mb_retrier *rt, const mb_result *res, const char *work, size_t wlen);

/* The result of re-running task i of p. */
mb_err mb_retrier_done(mb_retrier *rt, mb_pending *p, uint64_t i, const mb_result *res);

/* The job drains: the queued re-runs will not run, and a chunk waiting for
 * nothing else is dropped (not done; resuming runs it again). */
void mb_retrier_drop_all(mb_retrier *rt);

#endif
