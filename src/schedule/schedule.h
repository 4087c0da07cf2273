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
 * Both call mb_collector_add() on rank 0 exactly once for every chunk.
 *
 * Failed tasks (status not 0) are run again up to `retries` times, each
 * time on another rank where there is one (dynamic: any worker but the one
 * that failed it; static: an extra round sending it to the next rank); the
 * chunk waits on rank 0, with its work message for the payloads, until its
 * retries end, and the collector sees only its final rows.
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
    mb_progress *progress; /* rank 0: progress line and status document, or NULL */
    uint64_t retried;     /* rank 0: task re-runs started after a failure */
    uint64_t speculated;  /* rank 0: speculative chunk runs started */
} mb_run;

/* Run every task of r under the static schedule.  Collective. */
mb_err mb_schedule_static(mb_run *r);

/* Run every task of r under the dynamic schedule.  Collective. */
mb_err mb_schedule_dynamic(mb_run *r);

#endif
