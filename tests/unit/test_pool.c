/* test_pool.c - a rank's tasks in flight (schedule/pool.c), with a test
 * kernel whose tasks end in the order the test chooses: never more tasks
 * at once than its slots, tasks start in chunk order, a chunk comes out
 * only when all its tasks ended, rows and failures (in task order) are the
 * tasks' own, and a kernel without start runs its tasks through run(). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mpibatch/clock.h"
#include "row.h"
#include "schedule/internal.h"
#include "unit.h"

enum { SLOTS = 3, MAXT = 64, ROWLEN = 1 + MB_ROW_EXTRA };

static struct {
    double *rec[MAXT];       /* records of the tasks in flight */
    uint64_t task[MAXT];
    int n, most;             /* in flight now, and the most at once */
    uint64_t order[MAXT];    /* tasks in the order they started */
    int started;
    int lifo;                /* the newest task ends first */
} k;

static unsigned k_slots(void *state)
{
    return SLOTS;
}

static mb_err k_start(void *state, uint64_t task, mb_payload p, double *record)
{
    ck_assert_int_lt(k.n, SLOTS);
    k.order[k.started++] = task;
    if (task == 7) /* fails at once: not in flight */
        return mb_error_set(MB_ERR_INPUT, "task 7 cannot start");
    k.rec[k.n] = record;
    k.task[k.n++] = task;
    k.most = k.n > k.most ? k.n : k.most;
    return MB_OK;
}

static mb_err k_wait(void *state, double **record)
{
    int i = k.lifo ? k.n - 1 : 0;
    uint64_t task = k.task[i];
    ck_assert_int_gt(k.n, 0);
    *record = k.rec[i];
    (*record)[0] = 2.0 * (double)task;
    memmove(k.rec + i, k.rec + i + 1, (size_t)(k.n - i - 1) * sizeof *k.rec);
    memmove(k.task + i, k.task + i + 1, (size_t)(k.n - i - 1) * sizeof *k.task);
    k.n--;
    if (task % 5 == 3)
        return mb_error_set(MB_ERR_TASKS, "task %llu failed", (unsigned long long)task);
    return MB_OK;
}

/* As k_start and k_wait in one (task 7 fails before it starts). */
static mb_err k_run(void *state, uint64_t task, mb_payload p, double *record)
{
    if (task == 7)
        return mb_error_set(MB_ERR_INPUT, "task 7 cannot start");
    record[0] = 2.0 * (double)task;
    return task % 5 == 3 ? mb_error_set(MB_ERR_TASKS, "task %llu failed", (unsigned long long)task)
                         : MB_OK;
}

static const mb_kernel async_kernel = {.name = "async", .run = k_run, .slots = k_slots,
                                       .start = k_start, .wait = k_wait};
static const mb_kernel sync_kernel = {.name = "sync", .run = k_run};

/* Add chunk [first, first+count) numbered seq. */
static void add(mb_pool *p, uint64_t first, uint64_t count, uint64_t seq)
{
    mb_buf msg = {0};
    ck_assert_int_eq(mb_wire_put_work(&msg, first, count, NULL, 0), MB_OK);
    ck_assert_int_eq(mb_pool_add(p, msg.data, msg.len, seq), MB_OK);
    mb_buf_free(&msg);
}

/* Check one result message: rows 2*task, failures of tasks 3 mod 5 and 7
 * in task order. */
static void check_result(const mb_buf *out, uint64_t first, uint64_t count)
{
    mb_result res;
    size_t pos = 0, fpos = 0;
    uint64_t t;
    const char *text;
    size_t len;
    ck_assert_int_eq(mb_wire_get_result(out->data, out->len, &pos, ROWLEN, &res), MB_OK);
    ck_assert_uint_eq(res.first, first);
    ck_assert_uint_eq(res.count, count);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t task = first + i;
        int failed = task % 5 == 3 || task == 7;
        const double *row = res.rows + i * ROWLEN;
        if (task != 7)
            ck_assert(row[0] == 2.0 * (double)task);
        ck_assert(row[1 + MB_ROW_STATUS] == (failed ? (double)(task == 7 ? MB_ERR_INPUT
                                                                         : MB_ERR_TASKS) : 0));
        if (!failed)
            continue;
        ck_assert(mb_result_next_failure(&res, &fpos, &t, &text, &len));
        ck_assert_uint_eq(t, task);
        char want[64];
        snprintf(want, sizeof want, task == 7 ? "task 7 cannot start" : "task %llu failed",
                 (unsigned long long)task);
        ck_assert_uint_eq(len, strlen(want));
        ck_assert_int_eq(memcmp(text, want, len), 0);
    }
    ck_assert(!mb_result_next_failure(&res, &fpos, &t, &text, &len));
}

static void run_all(const mb_kernel *kern, int lifo, int oldest)
{
    mb_run r = {.rank = 0, .size = 1, .kernel = kern, .reclen = 1, .t0 = mb_clock_wall()};
    mb_pool p;
    mb_buf out = {0};
    uint64_t seen[4] = {0}, seq;
    int got = 0;
    mb_err rc;
    memset(&k, 0, sizeof k);
    k.lifo = lifo;
    ck_assert_int_eq(mb_pool_init(&p, &r), MB_OK);
    ck_assert_uint_eq(p.slots, kern->start ? SLOTS : 1);
    /* Chunks of 4, 1, 5 and 2 tasks: 0-3, 4, 5-9, 10-11. */
    add(&p, 0, 4, 10);
    add(&p, 4, 1, 11);
    add(&p, 5, 5, 12);
    add(&p, 10, 2, 13);
    ck_assert(!mb_pool_has_room(&p));
    while (mb_pool_busy(&p)) {
        ck_assert_int_eq(mb_pool_step(&p), MB_OK);
        out.len = 0;
        while (mb_pool_take(&p, oldest, &out, &seq, &rc)) {
            static const uint64_t first[] = {0, 4, 5, 10}, count[] = {4, 1, 5, 2};
            ck_assert_int_eq(rc, MB_OK);
            ck_assert_uint_ge(seq, 10);
            ck_assert_uint_le(seq, 13);
            ck_assert_uint_eq(seen[seq - 10]++, 0);
            if (oldest)
                ck_assert_uint_eq(seq, 10 + (uint64_t)got);
            check_result(&out, first[seq - 10], count[seq - 10]);
            got++;
            out.len = 0;
        }
    }
    ck_assert_int_eq(got, 4);
    ck_assert(mb_pool_has_room(&p));
    if (kern->start) {
        ck_assert_int_eq(k.most, SLOTS);
        for (int i = 0; i < 12; i++) /* tasks start in order */
            ck_assert_uint_eq(k.order[i], (uint64_t)i);
    }
    mb_buf_free(&out);
    mb_pool_free(&p);
}

START_TEST(slots_bound_tasks_in_flight_fifo)
{
    run_all(&async_kernel, 0, 0);
}
END_TEST

START_TEST(chunks_end_out_of_order)
{
    run_all(&async_kernel, 1, 0);
}
END_TEST

START_TEST(oldest_first_keeps_chunk_order)
{
    run_all(&async_kernel, 1, 1);
}
END_TEST

START_TEST(kernel_without_start_runs_through_run)
{
    run_all(&sync_kernel, 0, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, slots_bound_tasks_in_flight_fifo);
    tcase_add_test(tc, chunks_end_out_of_order);
    tcase_add_test(tc, oldest_first_keeps_chunk_order);
    tcase_add_test(tc, kernel_without_start_runs_through_run);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
