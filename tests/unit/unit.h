/* unit.h - what every Check suite in tests/unit shares. */
#ifndef MPIBATCH_TESTS_UNIT_H
#define MPIBATCH_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Run suite s (the runner frees it); returns the process's exit status. */
static inline int mb_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
