/* driver.h - the whole program as a function, so tests run the real thing. */
#ifndef MPIBATCH_DRIVER_H
#define MPIBATCH_DRIVER_H

#include <mpi.h>

/* Run mpibatch with argv on the ranks of comm (MPI is initialised by the
 * caller).  Collective.  Returns the documented exit status; a failure that
 * leaves ranks unable to agree aborts the job through MPI_Abort instead. */
int mb_main(int argc, char **argv, MPI_Comm comm);

#endif
