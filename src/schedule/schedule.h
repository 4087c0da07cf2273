/* schedule.h - how chunks of tasks reach ranks and results reach rank 0.
 *
 * static:  rounds of MPI_Scatterv (chunks with their payloads), compute,
 *          MPI_Gatherv (rows); every rank computes its share.  A round
 *          holds about 2^18 tasks or 32 MiB of payload, whichever is less.
 * dynamic: self-scheduling.  Each worker keeps two chunks in hand (one
 *          running, one queued) and gets a new one for every result it
 *          returns, so it never waits for work while work remains.  Rank 0
 *          computes too, one task at a time, serving results between tasks
 *          (not for kernels of long tasks when other ranks exist).
 *          At the end rank 0 sends each worker STOP and waits for its DONE.
 * Both call mb_collector_add() on rank 0 exactly once for every chunk
 * that was done; a chunk with a task not done (MB_ERR_STOPPED) is dropped.
 *
 * Draining (stop.h): once any rank caught SIGTERM, SIGUSR1 or SIGINT, rank
 * 0 hands out no more work and tells the others; no rank starts a task,
 * running ones end or are killed when the grace is over, every piece of
 * work handed out is answered, and both schedules return MB_ERR_STOPPED on
 * every rank (rank 0 says why in `ending`).  Dynamic ranks wait for
 * messages by polling, so a signal is seen while they wait.
 *
 * Failed tasks (status not 0) are run again up to `retries` times, each
 * time on another rank where there is one (dynamic: any worker but the one
 * that failed it; static: an extra round sending it to the next rank); the
 * chunk waits on rank 0, with its work message for the payloads, until its
 * retries end, and the collector sees only its final rows.
 * Barriers (a source's at_barrier, e.g. exec's '#mpibatch barrier'): the
 * feed hands out nothing after a barrier until the collector holds every
 * task before it, retries included (static: the barrier ends the round).
 * A speculative copy of a task before a barrier may still be running
 * (its result unused) when the tasks after it start.
 * Speculation (dynamic, speculate_after > 0): once no new work or retry is
 * left, an idle rank runs again a chunk that has been running more than
 * speculate_after times the median chunk time; the first result is kept,
 * the duplicate dropped, and the slower rank abandons it between tasks.
 */
#ifndef MPIBATCH_SCHEDULE_H
#define MPIBATCH_SCHEDULE_H

#include <mpi.h>
#include <stdint.h>

#include "collector.h"
#include "mpibatch/error.h"
#include "mpibatch/kernel.h"
#include "progress.h"
#include "mpibatch/source.h"

typedef struct mb_run {
    MPI_Comm comm;
    int rank, size;
    const mb_kernel *kernel;
    void *kstate;
    size_t reclen;        /* doubles per kernel record */
    uint64_t ntasks;      /* index kernels: tasks 0..ntasks-1 */
    uint64_t first;       /* first task to run: those before it were resumed
                           * (a source has already skipped their payloads) */
    unsigned retries;     /* re-runs of a failed task */
    double speculate_after; /* dynamic: multiple of the median chunk time; 0 off */
    int root_serves_only;   /* dynamic: rank 0 runs no tasks (MB_KERNEL_LONG_TASKS) */
    mb_source *source;    /* rank 0, kernels with input: payloads (else NULL) */
    uint64_t chunk;
    double t0;            /* job start on rank 0's wall clock */
    mb_collector *col;    /* rank 0 only */
    struct mb_journal *journal; /* rank 0: notes each task's input hash, or NULL */
    mb_progress *progress; /* rank 0: progress line and status document, or NULL */
    uint64_t retried;     /* rank 0: task re-runs started after a failure */
    uint64_t speculated;  /* rank 0: speculative chunk runs started */
    uint64_t dispatched;  /* rank 0: tasks handed out (first included) */
    int input_done;       /* rank 0: the feed reached the last task */
    char ending[256];     /* rank 0, MB_ERR_STOPPED: why, e.g. "stopped by SIGTERM" */
    double heartbeat;     /* a worker silent this long is lost (0: not watched) */
    const char *const *hosts; /* rank 0: host of each rank, for messages */
    int lost;             /* rank 0: the rank found lost (MB_ERR_STOPPED), else -1 */
} mb_run;

/* Run every task of r under the static schedule.  Collective. */
mb_err mb_schedule_static(mb_run *r);

/* Run every task of r under the dynamic schedule.  Collective. */
mb_err mb_schedule_dynamic(mb_run *r);

#endif
