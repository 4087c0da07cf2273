/* test_collector.c - reordering, ordered reduction and statistics. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "journal.h"
#include "row.h"
#include "wire.h"
#include "unit.h"

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
static const mb_kernel no_reduce = {.name = "no_reduce"}; /* for more than 64 tasks */
enum { RECLEN = 1, ROWLEN = RECLEN + MB_ROW_EXTRA };

/* How add() hands results over: mb_collector_add or mb_collector_replay. */
static mb_err (*adder)(mb_collector *, const mb_result *) = mb_collector_add;

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
    mb_err rc = adder(c, &r);
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

START_TEST(max_failures_counts_stop_the_job)
{
    mb_collector *c;
    norder = 0;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 1, NULL), MB_OK);
    mb_collector_set_limit(c, 2, -1);
    ck_assert_int_eq(add(c, 0, 4, 0, 1), MB_OK);
    ck_assert_int_eq(add(c, 4, 4, 0, 5), MB_OK);   /* 2 failed: at the limit */
    ck_assert_ptr_null(mb_collector_limit(c));
    ck_assert_int_eq(add(c, 8, 4, 0, 9), MB_OK);
    ck_assert_ptr_nonnull(strstr(mb_collector_limit(c), "3 tasks failed, more than --max-failures 2"));
    ck_assert_uint_eq(mb_collector_done(c), 12);   /* the chunk that tripped it passed */
    mb_collector_free(c);
}
END_TEST

START_TEST(max_failures_percent_waits_for_a_sample)
{
    mb_collector *c;
    ck_assert_int_eq(mb_collector_init(&c, &no_reduce, NULL, RECLEN, 1, NULL), MB_OK);
    mb_collector_set_limit(c, UINT64_MAX, 10);
    /* Task 0 fails: 100% of 50 tasks, but fewer than 100 are done. */
    ck_assert_int_eq(add(c, 0, 50, 0, 0), MB_OK);
    for (uint64_t t = 50; t < 100; t += 10)
        ck_assert_int_eq(add(c, t, 10, 0, (int)t), MB_OK);
    /* 6 of 100, then 7 of 110: not more than 10%. */
    ck_assert_int_eq(add(c, 100, 10, 0, 100), MB_OK);
    for (uint64_t t = 110; t < 150; t++)
        ck_assert_int_eq(add(c, t, 1, 0, -1), MB_OK);
    ck_assert_int_eq(add(c, 150, 1, 0, 150), MB_OK); /* 8 of 151 */
    mb_collector_set_limit(c, UINT64_MAX, 5);
    ck_assert_ptr_null(mb_collector_limit(c));
    ck_assert_int_eq(add(c, 151, 1, 0, -1), MB_OK); /* 8 of 152 > 5% */
    ck_assert_ptr_nonnull(strstr(mb_collector_limit(c), "8 of 152 tasks done failed"));
    mb_collector_free(c);
}
END_TEST

START_TEST(replayed_rows_skip_statistics)
{
    mb_collector *c;
    norder = 0;
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    adder = mb_collector_replay;
    /* Rank 7 ran these in an earlier run with more ranks. */
    ck_assert_int_eq(add(c, 0, 3, 7, 1), MB_OK);
    adder = mb_collector_add;
    ck_assert_int_eq(add(c, 3, 2, 1, -1), MB_OK);
    ck_assert_uint_eq(mb_collector_done(c), 5);
    ck_assert_uint_eq(mb_collector_failed(c), 1);  /* replayed failures count */
    ck_assert_uint_eq(norder, 4);                  /* and replayed rows are reduced */
    const mb_rank_stats *s = mb_collector_stats(c);
    ck_assert_uint_eq(s[0].tasks, 0);
    ck_assert_uint_eq(s[1].tasks, 2);
    mb_collector_free(c);
}
END_TEST

static mb_err count_replayed(void *arg, const mb_result *r, const uint64_t *inputs)
{
    uint64_t *n = arg;
    ck_assert_uint_eq(r->first, *n);              /* in order, contiguous */
    *n += r->count;
    return MB_OK;
}

START_TEST(journal_records_chunks_in_task_order)
{
    char path[] = "/tmp/test_collector.XXXXXX";
    int fd = mkstemp(path);
    mb_collector *c;
    mb_journal *j;
    uint64_t n = 0, tasks;
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(mb_journal_open(&j, path, 42, ROWLEN, 0, 0, count_replayed, &n, &tasks),
                     MB_OK);
    ck_assert_int_eq(mb_collector_init(&c, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    mb_collector_set_journal(c, j);
    norder = 0;
    ck_assert_int_eq(add(c, 4, 4, 1, -1), MB_OK);  /* held: not recorded yet */
    ck_assert_int_eq(add(c, 0, 4, 0, 2), MB_OK);
    ck_assert_int_eq(mb_journal_close(j), MB_OK);
    mb_collector_free(c);
    ck_assert_int_eq(mb_journal_open(&j, path, 42, ROWLEN, 1, 0, count_replayed, &n, &tasks),
                     MB_OK);
    ck_assert_uint_eq(tasks, 8);
    ck_assert_uint_eq(n, 8);
    mb_journal_close(j);
    unlink(path);
    close(fd);
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
    tcase_add_test(tc, max_failures_counts_stop_the_job);
    tcase_add_test(tc, max_failures_percent_waits_for_a_sample);
    tcase_add_test(tc, replayed_rows_skip_statistics);
    tcase_add_test(tc, journal_records_chunks_in_task_order);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
