/* comm.h - MPI calls wrapped so their error text reaches the user.
 *
 * Communicators get MPI_ERRORS_RETURN; every call goes through
 * mb_mpi_check().  Errors found by some ranks during a collective phase are
 * agreed on with mb_comm_agree(), so every rank leaves together and rank 0
 * prints one message.  Only mid-run failures, when ranks cannot meet in a
 * collective any more, end the job with mb_comm_abort().
 */
#ifndef MPIBATCH_COMM_H
#define MPIBATCH_COMM_H

#include <mpi.h>

#include "mpibatch/error.h"

/* Turn an MPI return code into MB_ERR_MPI with MPI's own message. */
mb_err mb_mpi_check(int rc, const char *what);

/* Collective: every rank passes its local result; all return the error of
 * the lowest failing rank (MB_OK if none), whose message is copied to
 * every rank and, when it is not rank 0, prefixed with "rank N: ". */
mb_err mb_comm_agree(MPI_Comm comm, mb_err local);

/* Broadcast a NUL-terminated string from rank 0; *text is replaced on the
 * other ranks by a malloc'd copy the caller frees. */
mb_err mb_comm_bcast_string(MPI_Comm comm, char **text);

/* Print "mpibatch: rank R: <message>" and abort the whole job with the
 * exit status of code.  Never returns. */
void mb_comm_abort(MPI_Comm comm, mb_err code) __attribute__((noreturn));

#endif
