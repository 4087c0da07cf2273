/* schedule.h - how chunks of tasks reach ranks and results reach rank 0.
 *
 * static:  rounds of MPI_Scatterv (chunks with their payloads), compute,
 *          MPI_Gatherv (rows); every rank computes its share.  A round
 *          holds about 2^18 tasks or 32 MiB of payload, whichever is less.
 * dynamic: self-scheduling.  Each worker keeps two chunks in hand (one
 *          running, one queued) and gets a new one for every result it
 *          returns, so it never waits for work while work remains.  Rank 0
 *          computes too, one task at a time, serving results between tasks.
 * Both call mb_collector_add() on rank 0 for every chunk.
 */
#ifndef MPIBATCH_SCHEDULE_H
#define MPIBATCH_SCHEDULE_H

#include <mpi.h>
#include <stdint.h>

#include "mpibatch/collector.h"
#include "mpibatch/error.h"
#include "mpibatch/kernel.h"
#include "mpibatch/source.h"

typedef struct mb_run {
    MPI_Comm comm;
    int rank, size;
    const mb_kernel *kernel;
    void *kstate;
    size_t reclen;        /* doubles per kernel record */
    uint64_t ntasks;      /* index kernels: tasks 0..ntasks-1 */
    mb_source *source;    /* rank 0, kernels with input: payloads (else NULL) */
    uint64_t chunk;
    double t0;            /* job start on rank 0's wall clock */
    mb_collector *col;    /* rank 0 only */
} mb_run;

/* Run every task of r under the static schedule.  Collective. */
mb_err mb_schedule_static(mb_run *r);

/* Run every task of r under the dynamic schedule.  Collective. */
mb_err mb_schedule_dynamic(mb_run *r);

#endif
