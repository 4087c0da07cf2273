/* main.c - MPI start-up around the in-process driver. */
#include <mpi.h>

#include "mpibatch/driver.h"

int main(int argc, char **argv)
{
    int status;
    MPI_Init(&argc, &argv);
    status = mb_main(argc, argv, MPI_COMM_WORLD);
    MPI_Finalize();
    return status;
}
