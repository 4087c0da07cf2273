/* test_ring.c - the ring benchmark's size lists, statistics and lap plan. */
#include <stdlib.h>
#include <string.h>

#include "commands/ring.h"
#include "unit.h"

/* Parse text and compare with want[0..n-1]. */
static void expect_sizes(const char *text, const size_t *want, size_t n)
{
    size_t *got = NULL, count = 0;
    ck_assert_int_eq(mb_ring_parse_sizes(text, &got, &count), MB_OK);
    ck_assert_uint_eq(count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(got[i], want[i]);
    free(got);
}

static void expect_bad(const char *text, const char *fragment)
{
    size_t *got = NULL, count = 0;
    ck_assert_int_eq(mb_ring_parse_sizes(text, &got, &count), MB_ERR_USAGE);
    ck_assert_ptr_null(got);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "--sizes"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), fragment));
}

START_TEST(range_is_zero_then_powers_of_two)
{
    size_t want[24];
    want[0] = 0;
    for (size_t i = 1; i < 24; i++)
        want[i] = (size_t)1 << (i - 1);
    expect_sizes("0:4M", want, 24);
    ck_assert_uint_eq(want[23], 4u << 20);
    expect_sizes("1:4M", want + 1, 23);
    expect_sizes("4:16", (const size_t[]){4, 8, 16}, 3);
    expect_sizes("0:0", (const size_t[]){0}, 1);
    expect_sizes("8:8", (const size_t[]){8}, 1);
}
END_TEST

START_TEST(lists_and_suffixes)
{
    expect_sizes("8", (const size_t[]){8}, 1);
    expect_sizes("0,8,1K,64k,3000", (const size_t[]){0, 8, 1024, 65536, 3000}, 5);
    expect_sizes("1G", (const size_t[]){1u << 30}, 1);
    expect_sizes("2m,0:2", (const size_t[]){2u << 20, 0, 1, 2}, 4);
}
END_TEST

START_TEST(bad_lists_name_the_option)
{
    expect_bad("", "not a size");
    expect_bad("8,", "not a size");
    expect_bad(",8", "not a size");
    expect_bad("-1", "not a size");
    expect_bad("4X", "not a size");
    expect_bad("4KB", "not a size");
    expect_bad("2G", "larger than 1G");
    expect_bad("99999999999999999999999", "larger than 1G");
    expect_bad("3:16", "power of two");
    expect_bad("16:4", "A <= B");
    expect_bad("0:", "not a size");
    expect_bad("1:2:4", "not a size");
}
END_TEST

START_TEST(too_many_sizes)
{
    char text[4 * MB_RING_MAX_SIZES + 8] = "";
    for (int i = 0; i <= MB_RING_MAX_SIZES; i++)
        strcat(text, i ? ",1" : "1");
    expect_bad(text, "more than");
}
END_TEST

START_TEST(statistics)
{
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2}, one[] = {7.5};
    mb_ring_stats s;
    mb_ring_summarize(odd, 3, &s);
    ck_assert_double_eq(s.min, 1);
    ck_assert_double_eq(s.median, 2);
    ck_assert_double_eq(s.max, 3);
    ck_assert_double_eq(s.mean, 2);
    mb_ring_summarize(even, 4, &s);
    ck_assert_double_eq(s.median, 2.5);
    ck_assert_double_eq(s.mean, 2.5);
    ck_assert_double_eq(s.max, 4);
    mb_ring_summarize(one, 1, &s);
    ck_assert_double_eq(s.min, 7.5);
    ck_assert_double_eq(s.median, 7.5);
    ck_assert_double_eq(s.max, 7.5);
}
END_TEST

START_TEST(lap_plan)
{
    /* No limit, or a fast lap: the iterations split over the repeats. */
    ck_assert_uint_eq(mb_ring_plan(10000, 5, 0, 1.0), 2000);
    ck_assert_uint_eq(mb_ring_plan(10000, 5, 2, 1e-6), 2000);
    /* 2 s at 1 ms a lap: 2000 laps in all. */
    ck_assert_uint_eq(mb_ring_plan(10000, 5, 2, 1e-3), 400);
    /* Always at least one lap per repeat. */
    ck_assert_uint_eq(mb_ring_plan(10000, 5, 2, 10.0), 1);
    ck_assert_uint_eq(mb_ring_plan(7, 5, 0, 0), 1);
    /* An unmeasured lap (0 s) does not limit. */
    ck_assert_uint_eq(mb_ring_plan(100, 1, 2, 0), 100);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, range_is_zero_then_powers_of_two);
    tcase_add_test(tc, lists_and_suffixes);
    tcase_add_test(tc, bad_lists_name_the_option);
    tcase_add_test(tc, too_many_sizes);
    tcase_add_test(tc, statistics);
    tcase_add_test(tc, lap_plan);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
