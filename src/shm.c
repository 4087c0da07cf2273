/* shm.c - node-shared read-only segments (see mpibatch/shm.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "shm.h"

/* Broadcasts move at most this many bytes each: MPI counts are ints. */
#define PIECE ((size_t)1 << 30)

static void clear(mb_shm *s)
{
    memset(s, 0, sizeof *s);
    s->node = s->leaders = MPI_COMM_NULL;
    s->win = MPI_WIN_NULL;
}

static void release(mb_shm *s)
{
    if (s->win != MPI_WIN_NULL)
        MPI_Win_free(&s->win);
    if (s->leaders != MPI_COMM_NULL)
        MPI_Comm_free(&s->leaders);
    if (s->node != MPI_COMM_NULL)
        MPI_Comm_free(&s->node);
    clear(s);
}

static int per_rank(void)
{
    const char *v = getenv("MPIBATCH_SHM_PER_RANK");
    return v && strcmp(v, "1") == 0;
}

/* One collective step of map(), agreed over comm before the next one
 * starts: a rank that failed must not leave the others waiting in a
 * collective it will never join. */
static mb_err agreed(MPI_Comm comm, int mpi_rc, const char *what)
{
    return mb_comm_agree(comm, mb_mpi_check(mpi_rc, what));
}

/* The node's communicator, its leaders' and the segment, each step agreed
 * over comm.  On error the caller releases what was made. */
static mb_err map(mb_shm *s, size_t size, MPI_Comm comm)
{
    int rank, node_rank = 0, unit = 0, mpi_rc;
    MPI_Aint bytes = 0;
    const char *what = "MPI_Win_allocate_shared";
    mb_err rc;
    MPI_Comm_rank(comm, &rank);
    /* Keyed by rank, so rank 0 is the first rank of its node and of the
     * leaders: it owns the segment that the others receive from.
     * MPIBATCH_SHM_PER_RANK=1 makes every rank a node of its own, so one
     * host can test the broadcast between nodes. */
    if (per_rank())
        rc = agreed(comm, MPI_Comm_split(comm, rank, 0, &s->node), "MPI_Comm_split");
    else
        rc = agreed(comm, MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank,
                                              MPI_INFO_NULL, &s->node),
                    "MPI_Comm_split_type");
    if (rc != MB_OK)
        return rc;
    MPI_Comm_rank(s->node, &node_rank);
    rc = agreed(comm, MPI_Comm_split(comm, node_rank == 0 ? 0 : MPI_UNDEFINED, rank,
                                     &s->leaders), "MPI_Comm_split");
    if (rc != MB_OK)
        return rc;
    mpi_rc = MPI_Win_allocate_shared(node_rank == 0 ? (MPI_Aint)size : 0, 1, MPI_INFO_NULL,
                                     s->node, &s->base, &s->win);
    if (mpi_rc == MPI_SUCCESS && node_rank != 0) {
        what = "MPI_Win_shared_query";
        mpi_rc = MPI_Win_shared_query(s->win, 0, &bytes, &unit, &s->base);
    }
    s->size = size;
    return agreed(comm, mpi_rc, what);
}

mb_err mb_shm_alloc(mb_shm *s, size_t size, MPI_Comm comm)
{
    mb_err rc = MB_OK;
    clear(s);
    if (size > (size_t)PTRDIFF_MAX)
        rc = mb_error_set(MB_ERR_NOMEM, "no shared segment of %zu bytes", size);
    if ((rc = mb_comm_agree(comm, rc)) == MB_OK)
        rc = map(s, size, comm);
    if (rc != MB_OK)
        release(s);
    else
        s->live = 1;
    return rc;
}

mb_err mb_shm_publish(mb_shm *s, MPI_Comm comm)
{
    mb_err rc = MB_OK;
    for (size_t at = 0; rc == MB_OK && s->leaders != MPI_COMM_NULL && at < s->size; at += PIECE) {
        size_t n = s->size - at < PIECE ? s->size - at : PIECE;
        rc = mb_mpi_check(MPI_Bcast((char *)s->base + at, (int)n, MPI_BYTE, 0, s->leaders),
                          "MPI_Bcast");
    }
    /* The fence orders the leader's stores before the other ranks' loads. */
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Win_fence(0, s->win), "MPI_Win_fence");
    return mb_comm_agree(comm, rc);
}

void mb_shm_free(mb_shm *s)
{
    if (s->live)
        release(s);
}
