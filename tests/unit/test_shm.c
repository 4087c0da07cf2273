/* test_shm.c - node-shared segments at one rank (an MPI singleton); the
 * multi-rank and multi-node paths run in tests/integration/classify.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"
#include "unit_mpi.h"

/* Map n bytes, fill them, publish, and read them back. */
static void round_trip(size_t n)
{
    mb_shm s;
    ck_assert_int_eq(mb_shm_alloc(&s, n, MPI_COMM_WORLD), MB_OK);
    ck_assert_int_eq(s.live, 1);
    ck_assert_uint_eq(s.size, n);
    ck_assert_ptr_nonnull(s.base);
    ck_assert(s.node != MPI_COMM_NULL);
    /* Rank 0 is the first rank of its node, so it is a leader. */
    ck_assert(s.leaders != MPI_COMM_NULL);
    /* One assertion for the whole buffer: Check records every assertion
     * it passes, which is slow under the sanitizers' allocator. */
    unsigned char *want = malloc(n);
    ck_assert_ptr_nonnull(want);
    for (size_t i = 0; i < n; i++)
        want[i] = (unsigned char)(i * 7 + 1);
    memcpy(s.base, want, n);
    ck_assert_int_eq(mb_shm_publish(&s, MPI_COMM_WORLD), MB_OK);
    ck_assert(memcmp(s.base, want, n) == 0);
    free(want);
    mb_shm_free(&s);
    ck_assert_int_eq(s.live, 0);
    ck_assert(s.win == MPI_WIN_NULL);
    ck_assert(s.node == MPI_COMM_NULL);
    ck_assert(s.leaders == MPI_COMM_NULL);
    /* A second free of the same handle is harmless. */
    mb_shm_free(&s);
}

START_TEST(segment_round_trips)
{
    round_trip(1);
    round_trip(4096 + 3);
    round_trip((size_t)3 << 20);
}
END_TEST

START_TEST(per_rank_segment_round_trips)
{
    /* Every rank its own node: at one rank the same segment, through the
     * split that the tests of the between-node broadcast use. */
    setenv("MPIBATCH_SHM_PER_RANK", "1", 1);
    round_trip(12345);
    unsetenv("MPIBATCH_SHM_PER_RANK");
}
END_TEST

START_TEST(oversized_segment_is_refused)
{
    mb_shm s;
    memset(&s, 0x5a, sizeof s);
    ck_assert_int_eq(mb_shm_alloc(&s, SIZE_MAX, MPI_COMM_WORLD), MB_ERR_NOMEM);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "shared segment"));
    /* Nothing is left mapped, and the handle can be freed anyway. */
    ck_assert_int_eq(s.live, 0);
    ck_assert(s.win == MPI_WIN_NULL);
    ck_assert(s.node == MPI_COMM_NULL);
    mb_shm_free(&s);
}
END_TEST

START_TEST(zeroed_handle_frees_nothing)
{
    mb_shm s;
    memset(&s, 0, sizeof s);
    mb_shm_free(&s);
    ck_assert_int_eq(s.live, 0);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("shm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, segment_round_trips);
    tcase_add_test(tc, per_rank_segment_round_trips);
    tcase_add_test(tc, oversized_segment_is_refused);
    tcase_add_test(tc, zeroed_handle_frees_nothing);
    suite_add_tcase(s, tc);
    return mb_test_run_mpi(s, &argc, &argv);
}
