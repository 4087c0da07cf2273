/* unit_mpi.h - what the Check suites that call MPI share.  Needs
 * _POSIX_C_SOURCE 200809L (setenv) before the first include. */
#ifndef MPIBATCH_TESTS_UNIT_MPI_H
#define MPIBATCH_TESTS_UNIT_MPI_H

#include <mpi.h>

#include "unit.h"

/* mb_test_run for a suite that calls MPI: one rank, an MPI singleton.  The
 * tests run in this process (Check's fork mode would fork an initialised
 * MPI process), and the singleton skips Open MPI's helper daemon, as
 * mpibatch itself does without a launcher (src/main.c). */
static inline int mb_test_run_mpi(Suite *s, int *argc, char ***argv)
{
    SRunner *sr = srunner_create(s);
    int failed;
    setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
    setenv("OMPI_MCA_pml", "ob1", 0);
    MPI_Init(argc, argv);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    MPI_Finalize();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
