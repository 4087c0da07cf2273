/* test_retry.c - the back-off schedule and its two bounds. */
#include <stdlib.h>

#include "io/retry.h"
#include "unit.h"

START_TEST(delay_doubles_with_jitter_in_upper_half)
{
    for (unsigned k = 0; k < 8; k++) {
        double d = MB_RETRY_BASE * (double)(1u << k);
        ck_assert_double_eq_tol(mb_retry_delay(k, 0.0), d / 2, 1e-12);
        ck_assert(mb_retry_delay(k, 0.999999) <= d && mb_retry_delay(k, 0.999999) > 0.99 * d);
    }
    /* Huge attempt numbers stay finite. */
    ck_assert(mb_retry_delay(1000, 0.5) < 1e10);
}
END_TEST

START_TEST(count_bound)
{
    mb_retry r;
    double d, total = 0;
    unsigned n = 0;
    mb_retry_init(&r, 3, 1e9, 42);
    while (mb_retry_next(&r, &d)) {
        ck_assert(d >= mb_retry_delay(n, 0.0) && d <= mb_retry_delay(n, 1.0));
        total += d;
        n++;
    }
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(total, r.waited, 1e-12);
    mb_retry_init(&r, 0, 100, 1);
    ck_assert(!mb_retry_next(&r, &d));
}
END_TEST

START_TEST(time_bound)
{
    mb_retry r;
    double d, total = 0;
    unsigned n = 0;
    mb_retry_init(&r, 100, 1.0, 7);
    while (mb_retry_next(&r, &d)) {
        total += d;
        n++;
    }
    ck_assert(total <= 1.0 + 1e-12);
    ck_assert(total >= 1.0 - 1e-12); /* the last wait is cut to fit, not dropped */
    ck_assert(n >= 2 && n <= 4);
    mb_retry_init(&r, 5, 0.0, 7);
    ck_assert(!mb_retry_next(&r, &d));
}
END_TEST

START_TEST(jitter_differs_by_seed)
{
    mb_retry a, b;
    double da, db;
    mb_retry_init(&a, 5, 100, 1);
    mb_retry_init(&b, 5, 100, 2);
    ck_assert(mb_retry_next(&a, &da) && mb_retry_next(&b, &db));
    ck_assert(da != db);
}
END_TEST

START_TEST(transient_statuses)
{
    static const long yes[] = {408, 429, 500, 502, 503, 504};
    static const long no[] = {200, 206, 301, 400, 401, 403, 404, 409, 412, 416, 501};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        ck_assert(mb_retry_http_transient(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        ck_assert(!mb_retry_http_transient(no[i]));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retry");
    TCase *tc = tcase_create("retry");
    tcase_add_test(tc, delay_doubles_with_jitter_in_upper_half);
    tcase_add_test(tc, count_bound);
    tcase_add_test(tc, time_bound);
    tcase_add_test(tc, jitter_differs_by_seed);
    tcase_add_test(tc, transient_statuses);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
