/* shm.h - one copy of a read-only buffer per node (MPI-3 shared memory).
 *
 * Ranks on one host map the same segment, owned by the node's lowest
 * rank, so a large read-only table (a classifier model) costs its memory
 * once per node and reaches the other ranks of the node without a copy.
 * Rank 0 fills its segment; mb_shm_publish sends it to the first rank of
 * every other node (one broadcast among those ranks) and makes it visible
 * to every rank.  Each call is collective over comm, and each returns the
 * same status on every rank (agreed with mb_comm_agree).
 * MPIBATCH_SHM_PER_RANK=1 in the environment (of every rank) gives each
 * rank a segment of its own, as if each were alone on its node: the
 * tests use it to run the between-node broadcast on one host.
 */
#ifndef MPIBATCH_SHM_H
#define MPIBATCH_SHM_H

#include <mpi.h>
#include <stddef.h>

#include "mpibatch/error.h"

typedef struct mb_shm {
    MPI_Comm node;     /* the ranks sharing this host's segment */
    MPI_Comm leaders;  /* the first rank of every node; MPI_COMM_NULL elsewhere */
    MPI_Win win;
    void *base;        /* size bytes, the same on every rank of the node */
    size_t size;
    int live;          /* alloc succeeded and free has not run */
} mb_shm;

/* Map size bytes (every rank passes the same size) on every node.  On
 * error nothing is left to free. */
mb_err mb_shm_alloc(mb_shm *s, size_t size, MPI_Comm comm);

/* Copy rank 0's segment to every node; afterwards every rank reads it. */
mb_err mb_shm_publish(mb_shm *s, MPI_Comm comm);

/* Collective over the node: unmap.  A zeroed or freed mb_shm is left
 * alone. */
void mb_shm_free(mb_shm *s);

#endif
