/* comm.c - MPI error checking, error agreement and aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"

mb_err mb_mpi_check(int rc, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (rc == MPI_SUCCESS)
        return MB_OK;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error code %d", rc);
    return mb_error_set(MB_ERR_MPI, "%s failed: %s", what, text);
}

mb_err mb_comm_agree(MPI_Comm comm, mb_err local)
{
    int rank, size, first;
    int mine;
    char msg[1024];
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    mine = local != MB_OK ? rank : size;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        mb_comm_abort(comm, MB_ERR_MPI);
    if (first == size)
        return MB_OK;
    int code = (int)local;
    if (rank == first) {
        if (first == 0)
            snprintf(msg, sizeof msg, "%s", mb_error_message());
        else
            snprintf(msg, sizeof msg, "rank %d: %s", first, mb_error_message());
    }
    if (MPI_Bcast(&code, 1, MPI_INT, first, comm) != MPI_SUCCESS ||
        MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, comm) != MPI_SUCCESS)
        mb_comm_abort(comm, MB_ERR_MPI);
    return mb_error_set((mb_err)code, "%s", msg);
}

mb_err mb_comm_bcast_string(MPI_Comm comm, char **text)
{
    int rank;
    unsigned long long len = 0;
    mb_err rc;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0)
        len = strlen(*text) + 1;
    rc = mb_mpi_check(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, comm), "MPI_Bcast");
    if (rc != MB_OK)
        return rc;
    if (rank != 0 && !(*text = malloc(len)))
        mb_comm_abort(comm, mb_error_set(MB_ERR_NOMEM, "out of memory for the job spec"));
    return mb_mpi_check(MPI_Bcast(*text, (int)len, MPI_CHAR, 0, comm), "MPI_Bcast");
}

void mb_comm_abort(MPI_Comm comm, mb_err code)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    fprintf(stderr, "mpibatch: rank %d: %s: %s\n", rank, mb_strerror(code), mb_error_message());
    fflush(stderr);
    MPI_Abort(comm, mb_error_exit_status(code));
    abort(); /* MPI_Abort does not return; this satisfies noreturn. */
}
