/* test_euler.c - block ranges, block sums and the exact value. */
#include <math.h>
#include <stdlib.h>

#include "kernels/euler_sum.h"
#include "unit.h"

/* Reference: double-double sum of exact double-double terms, the slow way. */
static mb_dd slow_sum(uint64_t first, uint64_t last)
{
    mb_dd acc = {0, 0};
    for (uint64_t i = last; i >= first; i--) {
        double x = (double)i, d = x * x;
        double q = 1.0 / d, r = fma(-q, d, 1.0);
        acc = mb_dd_add(acc, (mb_dd){q, r / d});
    }
    return acc;
}

static double dd_diff(mb_dd a, mb_dd b)
{
    return (a.hi - b.hi) + (a.lo - b.lo);
}

START_TEST(block_ranges_partition)
{
    uint64_t n = 1003, B = 10, next = 1, first, last;
    for (uint64_t b = 0; b < B; b++) {
        mb_euler_block_range(n, B, b, &first, &last);
        ck_assert_uint_eq(first, next);
        ck_assert_uint_eq(last - first + 1, b < 3 ? 101 : 100);
        next = last + 1;
    }
    ck_assert_uint_eq(next, n + 1);
    mb_euler_block_range(5, 5, 4, &first, &last);
    ck_assert_uint_eq(first, 5);
    ck_assert_uint_eq(last, 5);
}
END_TEST

START_TEST(block_sum_matches_slow_sum)
{
    static const uint64_t cases[][2] = {{1, 1}, {1, 7}, {1, 63}, {1, 64}, {1, 1000},
                                        {60, 70}, {1000, 1999}, {123456, 223456}};
    for (int impl = MB_EULER_GENERIC; impl <= MB_EULER_AVX512; impl++) {
        if (!mb_euler_impl_available((mb_euler_impl)impl))
            continue;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            mb_dd got = mb_euler_block_sum(cases[c][0], cases[c][1], (mb_euler_impl)impl, NULL);
            mb_dd want = slow_sum(cases[c][0], cases[c][1]);
            /* Terms from 64 on are rounded to double by design: 2^-53 each. */
            ck_assert_msg(fabs(dd_diff(got, want)) <= 0x1p-53 * want.hi,
                          "impl %d [%llu,%llu]: off by %g", impl,
                          (unsigned long long)cases[c][0], (unsigned long long)cases[c][1],
                          dd_diff(got, want));
        }
    }
}
END_TEST

START_TEST(empty_block_is_zero)
{
    mb_dd z = mb_euler_block_sum(10, 9, MB_EULER_AUTO, NULL);
    ck_assert(z.hi == 0 && z.lo == 0);
}
END_TEST

START_TEST(exact_matches_direct_sum_for_small_n)
{
    static const uint64_t ns[] = {1, 2, 10, 31, 32, 100, 5000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        mb_dd direct = slow_sum(1, ns[i]), exact = mb_euler_exact(ns[i]);
        ck_assert_msg(fabs(dd_diff(direct, exact)) < 1e-20, "n=%llu: exact off by %g",
                      (unsigned long long)ns[i], dd_diff(direct, exact));
    }
    ck_assert(mb_euler_exact(1).hi == 1.0);
}
END_TEST

START_TEST(exact_limit)
{
    /* pi^2/6 - exact = psi1(n+1) = 1/x + 1/(2x^2) + O(1/x^3), x = n + 1. */
    mb_dd e = mb_euler_exact(1000000000ULL);
    double x = 1e9 + 1;
    double gap = (1.6449340668482264 - e.hi) + (3.040672350398476e-17 - e.lo);
    ck_assert_msg(fabs(gap - (1 / x + 0.5 / (x * x))) < 1e-24, "gap %.17g", gap);
}
END_TEST

/* 1e8 terms in 10 blocks, summed in block order: the correctly rounded
 * value of the exact partial sum, whichever implementation. */
START_TEST(blocked_total_is_correctly_rounded)
{
    const uint64_t n = 100000000ULL, B = 10;
    for (int impl = MB_EULER_GENERIC; impl <= MB_EULER_AVX512; impl++) {
        mb_dd acc = {0, 0};
        if (!mb_euler_impl_available((mb_euler_impl)impl))
            continue;
        for (uint64_t b = 0; b < B; b++) {
            uint64_t f, l;
            mb_euler_block_range(n, B, b, &f, &l);
            acc = mb_dd_add(acc, mb_euler_block_sum(f, l, (mb_euler_impl)impl, NULL));
        }
        mb_dd exact = mb_euler_exact(n);
        double total = acc.hi + acc.lo;
        double err = fabs((total - exact.hi) - exact.lo);
        ck_assert_msg(err <= 0.5 * (nextafter(total, 2.0) - total), "impl %d: error %g", impl, err);
    }
}
END_TEST

static int ticks;
static void count_tick(void)
{
    ticks++;
}

/* A block of more than three slices ticks between its slices (a worker's
 * heartbeats inside one long task), and the ticks leave the sum's bits. */
START_TEST(long_block_ticks_between_slices)
{
    const uint64_t first = 1000, last = first + 3 * MB_EULER_SLICE + 999;
    for (int impl = MB_EULER_GENERIC; impl <= MB_EULER_AVX512; impl++) {
        if (!mb_euler_impl_available((mb_euler_impl)impl))
            continue;
        ticks = 0;
        mb_dd with = mb_euler_block_sum(first, last, (mb_euler_impl)impl, count_tick);
        mb_dd without = mb_euler_block_sum(first, last, (mb_euler_impl)impl, NULL);
        ck_assert_int_eq(ticks, 3);
        ck_assert(with.hi == without.hi && with.lo == without.lo);
        ticks = 0;
        mb_euler_block_sum(first, first + MB_EULER_SLICE / 2, (mb_euler_impl)impl, count_tick);
        ck_assert_int_eq(ticks, 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("euler");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, block_ranges_partition);
    tcase_add_test(tc, block_sum_matches_slow_sum);
    tcase_add_test(tc, empty_block_is_zero);
    tcase_add_test(tc, exact_matches_direct_sum_for_small_n);
    tcase_add_test(tc, exact_limit);
    tcase_add_test(tc, blocked_total_is_correctly_rounded);
    tcase_add_test(tc, long_block_ticks_between_slices);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
