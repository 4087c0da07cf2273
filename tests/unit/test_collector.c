/* test_collector.c - reordering, ordered reduction and statistics. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpibatch/collector.h"
#include "mpibatch/row.h"
#include "mpibatch/wire.h"

/* A kernel whose reduction records the order it is fed in. */
static uint64_t order[64];
static size_t norder;

static mb_err record_order(void *state, uint64_t task, const char *failure, const double *rec)
{
    ck_assert(rec[0] == (double)task * 10); /* the record belongs to the task */
    if (!failure)
        order[norder++] = task;
    else
        ck_assert(strstr(failure, "broken") != NULL); /* its own reason */
    return MB_OK;
}

static const mb_kernel fake = {.name = "fake", .reduce = record_order};
enum { RECLEN = 1, ROWLEN = RECLEN + MB_ROW_EXTRA };

/* Add a result for tasks [first, first+count) run on rank; fail_task (if
 * in range) failed with a reason naming it. */
static mb_err add(mb_collector *c, uint64_t first, uint64_t count, int rank, int fail_task)
{
    double rows[64 * ROWLEN];
    mb_buf fails = {0}, msg = {0};
    uint64_t nfail = 0;
    mb_result r;
    size_t pos = 0;
    char why[64];
    for (uint64_t i = 0; i < count; i++) {
        double *row = rows + i * ROWLEN;
        int failed = (int)(first + i) == fail_task;
        row[0] = (double)(first + i) * 10;
        row[RECLEN + MB_ROW_RANK] = rank;
        row[RECLEN + MB_ROW_START] = 0;
        row[RECLEN + MB_ROW_SECONDS] = 0.5;
        row[RECLEN + MB_ROW_STATUS] = failed ? 3 : 0;
        if (failed) {
            snprintf(why, sizeof why, "line %d: broken", fail_task + 1);
            ck_assert_int_eq(mb_wire_pack_failure(&fails, first + i, why), MB_OK);
            nfail++;
        }
    }
    ck_assert_int_eq(mb_wire_put_result(&msg, first, count, ROWLEN, rows, nfail, fails.data,
                                        fails.len), MB_OK);
    ck_assert_int_eq(mb_wire_get_result(msg.data, msg.len, &pos, ROWLEN, &r), MB_OK);
    mb_err rc = mb_collector_add(c, &r);
    mb_buf_free(&msg);
    mb_buf_free(&fails);
    return rc;
}

START_TEST(out_of_order_chunks_come_out_in_order)
{
    mb_collector *c;
    norder = 0;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 3, NULL), MB_OK);
    ck_assert_int_eq(add(c, 6, 2, 2, -1), MB_OK);
    ck_assert_int_eq(add(c, 2, 4, 1, 4), MB_OK);
    ck_assert_uint_eq(mb_collector_done(c), 0);
    ck_assert_uint_eq(mb_collector_pending(c), 2);
    ck_assert_int_eq(add(c, 0, 2, 0, -1), MB_OK);
    ck_assert_uint_eq(mb_collector_done(c), 8);
    ck_assert_uint_eq(mb_collector_pending(c), 0);
    /* Task 4 failed: every other task reduced, strictly in order. */
    ck_assert_uint_eq(norder, 7);
    for (size_t i = 0, t = 0; i < norder; i++, t++) {
        if (t == 4)
            t++;
        ck_assert_uint_eq(order[i], t);
    }
    ck_assert_uint_eq(mb_collector_failed(c), 1);
    size_t nf;
    const mb_failure *f = mb_collector_failures(c, &nf);
    ck_assert_uint_eq(nf, 1);
    ck_assert_uint_eq(f[0].task, 4);
    ck_assert_str_eq(f[0].reason, "line 5: broken"); /* survived being held */
    const mb_rank_stats *s = mb_collector_stats(c);
    ck_assert_uint_eq(s[0].tasks, 2);
    ck_assert_uint_eq(s[1].tasks, 4);
    ck_assert_uint_eq(s[2].tasks, 2);
    ck_assert(s[1].busy_seconds == 2.0);
    mb_collector_free(c);
}
END_TEST

START_TEST(bad_results_are_rejected)
{
    mb_collector *c;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    norder = 0;
    ck_assert_int_eq(add(c, 0, 2, 0, -1), MB_OK);
    ck_assert_int_eq(add(c, 0, 2, 0, -1), MB_ERR_INTERNAL);     /* duplicate */
    ck_assert_int_eq(add(c, 2, 1, 5, -1), MB_ERR_INTERNAL);     /* no rank 5 */
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "rank 5"));
    mb_collector_free(c);
}
END_TEST

START_TEST(held_chunks_are_freed)
{
    mb_collector *c;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    for (int f = 40; f > 2; f -= 2)
        ck_assert_int_eq(add(c, (uint64_t)f, 2, 1, f), MB_OK);
    ck_assert_uint_eq(mb_collector_pending(c), 19);
    mb_collector_free(c); /* the sanitizer build checks nothing leaks */
}
END_TEST

START_TEST(only_the_first_failures_are_kept)
{
    mb_collector *c;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 1, NULL), MB_OK);
    for (int t = 0; t < MB_COLLECTOR_KEEP + 20; t++)
        ck_assert_int_eq(add(c, (uint64_t)t, 1, 0, t), MB_OK);
    size_t nf;
    const mb_failure *f = mb_collector_failures(c, &nf);
    ck_assert_uint_eq(nf, MB_COLLECTOR_KEEP);
    ck_assert_uint_eq(f[MB_COLLECTOR_KEEP - 1].task, MB_COLLECTOR_KEEP - 1);
    ck_assert_uint_eq(mb_collector_failed(c), MB_COLLECTOR_KEEP + 20);
    mb_collector_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("collector");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, out_of_order_chunks_come_out_in_order);
    tcase_add_test(tc, bad_results_are_rejected);
    tcase_add_test(tc, held_chunks_are_freed);
    tcase_add_test(tc, only_the_first_failures_are_kept);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
