/* test_chunk.c - chunk ranges and the static block-cyclic deal. */
#include <stdlib.h>

#include "mpibatch/chunk.h"
#include "unit.h"

START_TEST(ranges_cover_tasks_once)
{
    const uint64_t T = 103, K = 10;
    uint64_t seen = 0, first, count;
    ck_assert_uint_eq(mb_chunk_count(T, K), 11);
    for (uint64_t c = 0; c < mb_chunk_count(T, K); c++) {
        mb_chunk_range(T, K, c, &first, &count);
        ck_assert_uint_eq(first, seen);
        seen += count;
    }
    ck_assert_uint_eq(seen, T);
    mb_chunk_range(T, K, 10, &first, &count);
    ck_assert_uint_eq(count, 3);
    mb_chunk_range(T, K, 11, &first, &count);
    ck_assert_uint_eq(count, 0);
    mb_chunk_range(T, K, UINT64_MAX / 2, &first, &count); /* no overflow */
    ck_assert_uint_eq(count, 0);
}
END_TEST

START_TEST(exact_division)
{
    ck_assert_uint_eq(mb_chunk_count(100, 10), 10);
    ck_assert_uint_eq(mb_chunk_count(1, 1000), 1);
    ck_assert_uint_eq(mb_chunk_count(1000000, 1), 1000000);
}
END_TEST

/* Every chunk is dealt exactly once across rounds, turns and ranks. */
START_TEST(static_deal_is_a_partition)
{
    const int P = 3;
    const uint64_t K = 2, T = 1001, nchunks = mb_chunk_count(T, K);
    uint64_t turns = mb_chunk_round_turns(K, P, 60);
    uint64_t rounds = mb_chunk_rounds(nchunks, P, turns);
    char *hit = calloc(nchunks, 1);
    ck_assert_uint_eq(turns, 10);
    ck_assert_uint_eq(rounds, 17); /* 501 chunks, 30 per round */
    for (uint64_t r = 0; r < rounds; r++)
        for (uint64_t j = 0; j < turns; j++)
            for (int p = 0; p < P; p++) {
                uint64_t c = mb_chunk_static(r, j, p, P, turns);
                if (c < nchunks) {
                    ck_assert_int_eq(hit[c], 0);
                    hit[c] = 1;
                }
            }
    for (uint64_t c = 0; c < nchunks; c++)
        ck_assert_int_eq(hit[c], 1);
    free(hit);
}
END_TEST

START_TEST(round_turns_at_least_one)
{
    ck_assert_uint_eq(mb_chunk_round_turns(1000000, 4, 1000), 1);
    ck_assert_uint_eq(mb_chunk_round_turns(1, 2, 1u << 18), 1u << 17);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chunk");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ranges_cover_tasks_once);
    tcase_add_test(tc, exact_division);
    tcase_add_test(tc, static_deal_is_a_partition);
    tcase_add_test(tc, round_turns_at_least_one);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
