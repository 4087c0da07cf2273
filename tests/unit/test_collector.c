/* test_collector.c - reordering, ordered reduction and statistics. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mpibatch/collector.h"
#include "mpibatch/row.h"

/* A kernel whose reduction records the order it is fed in. */
static uint64_t order[64];
static size_t norder;

static void record_order(void *state, uint64_t task, const double *rec)
{
    ck_assert(rec[0] == (double)task * 10); /* the record belongs to the task */
    order[norder++] = task;
}

static const mb_kernel fake = {.name = "fake", .reduce = record_order};
enum { RECLEN = 1, ROWLEN = RECLEN + MB_ROW_EXTRA };

/* A chunk message for tasks [first, first+count) run on rank. */
static size_t chunk(double *m, uint64_t first, uint64_t count, int rank, int fail_task)
{
    m[0] = (double)first;
    m[1] = (double)count;
    for (uint64_t i = 0; i < count; i++) {
        double *r = m + MB_CHUNK_HEADER + i * ROWLEN;
        r[0] = (double)(first + i) * 10;
        r[RECLEN + MB_ROW_RANK] = rank;
        r[RECLEN + MB_ROW_START] = 0;
        r[RECLEN + MB_ROW_SECONDS] = 0.5;
        r[RECLEN + MB_ROW_STATUS] = (int)(first + i) == fail_task ? 3 : 0;
    }
    return MB_CHUNK_HEADER + count * ROWLEN;
}

START_TEST(out_of_order_chunks_come_out_in_order)
{
    mb_collector *c;
    double m[64];
    size_t n;
    norder = 0;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 3, NULL), MB_OK);
    n = chunk(m, 6, 2, 2, -1);
    ck_assert_int_eq(mb_collector_add(c, m, n), MB_OK);
    n = chunk(m, 2, 4, 1, 4);
    ck_assert_int_eq(mb_collector_add(c, m, n), MB_OK);
    ck_assert_uint_eq(mb_collector_done(c), 0);
    ck_assert_uint_eq(mb_collector_pending(c), 2);
    n = chunk(m, 0, 2, 0, -1);
    ck_assert_int_eq(mb_collector_add(c, m, n), MB_OK);
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
    const mb_rank_stats *s = mb_collector_stats(c);
    ck_assert_uint_eq(s[0].tasks, 2);
    ck_assert_uint_eq(s[1].tasks, 4);
    ck_assert_uint_eq(s[2].tasks, 2);
    ck_assert(s[1].busy_seconds == 2.0);
    mb_collector_free(c);
}
END_TEST

START_TEST(bad_messages_are_rejected)
{
    mb_collector *c;
    double m[64];
    size_t n;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    norder = 0;
    n = chunk(m, 0, 2, 0, -1);
    ck_assert_int_eq(mb_collector_add(c, m, n - 1), MB_ERR_INTERNAL); /* truncated */
    ck_assert_int_eq(mb_collector_add(c, m, n), MB_OK);
    ck_assert_int_eq(mb_collector_add(c, m, n), MB_ERR_INTERNAL);     /* duplicate */
    n = chunk(m, 2, 1, 5, -1);
    ck_assert_int_eq(mb_collector_add(c, m, n), MB_ERR_INTERNAL);     /* no rank 5 */
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "rank 5"));
    ck_assert_int_eq(mb_collector_add(c, m, 1), MB_ERR_INTERNAL);
    mb_collector_free(c);
}
END_TEST

START_TEST(held_chunks_are_freed)
{
    mb_collector *c;
    double m[64];
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    for (uint64_t f = 40; f > 2; f -= 2)
        ck_assert_int_eq(mb_collector_add(c, m, chunk(m, f, 2, 1, -1)), MB_OK);
    ck_assert_uint_eq(mb_collector_pending(c), 19);
    mb_collector_free(c); /* the sanitizer build checks nothing leaks */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("collector");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, out_of_order_chunks_come_out_in_order);
    tcase_add_test(tc, bad_messages_are_rejected);
    tcase_add_test(tc, held_chunks_are_freed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
