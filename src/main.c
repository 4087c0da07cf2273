/* main.c - MPI start-up around the in-process driver. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <mpi.h>

#include "driver.h"

/* Whether a launcher started this process: Open MPI's mpirun/orterun
 * (OMPI_COMM_WORLD_SIZE, PMIX_RANK), srun (SLURM_STEP_ID; PMIX_RANK or
 * PMI_RANK with its PMI plugins), MPICH's Hydra (PMI_RANK, PMI_FD). */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_FD", "SLURM_STEP_ID", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

/* A process started without a launcher is a one-rank MPI singleton.  Open
 * MPI 4.1 then forks an orted helper daemon and probes every transport
 * (psm, psm2, ofi), which took 0.31 s of a 0.4 s run on the development
 * VM (docs/benchmarks.md).  One rank talks only to itself, so neither is
 * needed: isolated singleton mode skips the daemon (giving up only
 * MPI_Comm_spawn, which mpibatch does not use) and the ob1 PML skips the
 * network probes.  Only settings the user left unset are filled in, and
 * launched runs (even mpirun -n 1, which pays the launcher's own start-up)
 * keep Open MPI's choices. */
static void quiet_singleton(void)
{
    if (launched())
        return;
    setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
    setenv("OMPI_MCA_pml", "ob1", 0);
}

int main(int argc, char **argv)
{
    int status;
    /* Past a file-size limit (ulimit -f, a quota) a write must fail with
     * EFBIG and reach the user as an I/O error (exit 3, no output left),
     * not kill the process with SIGXFSZ before it can clean up. */
    signal(SIGXFSZ, SIG_IGN);
    quiet_singleton();
    MPI_Init(&argc, &argv);
    status = mb_main(argc, argv, MPI_COMM_WORLD);
    MPI_Finalize();
    return status;
}
