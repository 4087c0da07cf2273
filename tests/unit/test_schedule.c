/* test_schedule.c - the static and dynamic schedules at one rank (an MPI
 * singleton), with a test kernel that counts its runs and a collector
 * whose ordered reduction checks the order: every task runs exactly once
 * and reaches the reduction in task order, payloads reach their tasks,
 * resumed tasks are skipped, failed tasks are re-run and keep their last
 * reason, and a reduction error stops the job; rank 0's silence check
 * (watch.c) names a lost rank.  Several ranks, worker placement,
 * heartbeats and speculation are covered by tests/integration. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mpibatch/clock.h"
#include "row.h"
#include "schedule/internal.h"
#include "schedule/schedule.h"
#include "unit_mpi.h"

enum { MAX_TASKS = 2000, ROWLEN = 1 + MB_ROW_EXTRA };

/* What the kernel is told to do and what it saw. */
static struct {
    unsigned runs[MAX_TASKS];
    uint64_t next;        /* the task the reduction expects next */
    uint64_t failures;    /* failed tasks the reduction saw */
    int payloads;         /* tasks carry the payload "p<task>" */
    uint64_t fail_task;   /* this task fails ... */
    unsigned fail_runs;   /* ... on each of its first fail_runs runs */
    uint64_t stop_at;     /* the reduction fails at this task */
} h;

static mb_err k_run(void *state, uint64_t task, mb_payload p, double *record)
{
    ck_assert_uint_lt(task, MAX_TASKS);
    h.runs[task]++;
    if (h.payloads) {
        char want[32];
        int n = snprintf(want, sizeof want, "p%llu", (unsigned long long)task);
        ck_assert_uint_eq(p.len, (size_t)n);
        ck_assert_int_eq(memcmp(p.data, want, p.len), 0);
    } else {
        ck_assert_uint_eq(p.len, 0);
    }
    record[0] = 3.0 * (double)task + 1;
    if (task == h.fail_task && h.runs[task] <= h.fail_runs)
        return mb_error_set(MB_ERR_INPUT, "task %llu broke on run %u", (unsigned long long)task,
                            h.runs[task]);
    return MB_OK;
}

static mb_err k_reduce(void *state, uint64_t task, const char *failure, const double *record)
{
    ck_assert_uint_eq(task, h.next);
    h.next++;
    ck_assert(record[0] == 3.0 * (double)task + 1); /* the task's own record */
    if (task == h.stop_at)
        return mb_error_set(MB_ERR_INPUT, "reduction stops at task %llu",
                            (unsigned long long)task);
    if (failure) {
        char want[64];
        /* The reason of the last run, not of the first. */
        snprintf(want, sizeof want, "task %llu broke on run %u", (unsigned long long)task,
                 h.fail_runs < h.runs[task] ? h.fail_runs : h.runs[task]);
        ck_assert_str_eq(failure, want);
        h.failures++;
    }
    return MB_OK;
}

static const mb_kernel kernel = {.name = "counting", .run = k_run, .reduce = k_reduce};

static void setup(void)
{
    memset(&h, 0, sizeof h);
    h.fail_task = h.stop_at = UINT64_MAX;
}

/* A source of payloads "p0", "p1", ... up to total. */
typedef struct counter {
    uint64_t next, total;
} counter;

static mb_err counter_read(void *state, uint64_t max, mb_batch *out)
{
    counter *c = state;
    mb_err rc = MB_OK;
    for (; rc == MB_OK && max > 0 && c->next < c->total; max--, c->next++) {
        char p[32];
        int n = snprintf(p, sizeof p, "p%llu", (unsigned long long)c->next);
        rc = mb_batch_add(out, p, (size_t)n);
    }
    return rc;
}

/* Feed the collector tasks [0, n) as a journal replay would. */
static void replay(mb_collector *col, uint64_t n)
{
    double rows[MAX_TASKS * ROWLEN] = {0};
    mb_buf msg = {0};
    mb_result res;
    size_t pos = 0;
    for (uint64_t t = 0; t < n; t++)
        rows[t * ROWLEN] = 3.0 * (double)t + 1;
    ck_assert_int_eq(mb_wire_put_result(&msg, 0, n, ROWLEN, rows, 0, NULL, 0), MB_OK);
    ck_assert_int_eq(mb_wire_get_result(msg.data, msg.len, &pos, ROWLEN, &res), MB_OK);
    ck_assert_int_eq(mb_collector_replay(col, &res), MB_OK);
    mb_buf_free(&msg);
}

typedef struct outcome {
    mb_err rc;
    uint64_t done, failed, retried, ran_here;
} outcome;

/* Run tasks [first, ntasks) (or src's payloads) under schedule `dynamic`
 * (the loop index: 0 static, 1 dynamic). */
static outcome run(int dynamic, uint64_t ntasks, uint64_t chunk, unsigned retries,
                   mb_source *src, uint64_t first)
{
    mb_collector *col;
    outcome o;
    ck_assert_int_eq(mb_collector_init(&col, &kernel, NULL, 1, 1, NULL), MB_OK);
    if (first > 0)
        replay(col, first);
    mb_run r = {.comm = MPI_COMM_WORLD, .rank = 0, .size = 1, .kernel = &kernel, .reclen = 1,
                .ntasks = ntasks, .first = first, .retries = retries, .source = src,
                .chunk = chunk, .t0 = mb_clock_wall(), .col = col};
    o.rc = dynamic ? mb_schedule_dynamic(&r) : mb_schedule_static(&r);
    o.done = mb_collector_done(col);
    o.failed = mb_collector_failed(col);
    o.retried = r.retried;
    o.ran_here = mb_collector_stats(col)[0].tasks;
    mb_collector_free(col);
    return o;
}

static void assert_each_ran(uint64_t from, uint64_t to, unsigned times)
{
    for (uint64_t t = 0; t < MAX_TASKS; t++)
        ck_assert_msg(h.runs[t] == (t >= from && t < to ? times : 0),
                      "task %llu ran %u times", (unsigned long long)t, h.runs[t]);
}

START_TEST(every_task_once_in_order)
{
    /* Chunks that divide the tasks, that do not, and one larger than all. */
    static const uint64_t chunks[] = {1, 7, 100, 5000};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        setup();
        outcome o = run(_i, 1000, chunks[k], 0, NULL, 0);
        ck_assert_int_eq(o.rc, MB_OK);
        assert_each_ran(0, 1000, 1);
        ck_assert_uint_eq(h.next, 1000);
        ck_assert_uint_eq(o.done, 1000);
        ck_assert_uint_eq(o.failed, 0);
        ck_assert_uint_eq(o.ran_here, 1000);
    }
}
END_TEST

START_TEST(no_tasks_runs_nothing)
{
    outcome o = run(_i, 0, 10, 0, NULL, 0);
    ck_assert_int_eq(o.rc, MB_OK);
    assert_each_ran(0, 0, 0);
    ck_assert_uint_eq(o.done, 0);
}
END_TEST

START_TEST(payloads_reach_their_tasks)
{
    /* 53 payloads end in a short chunk; 50 end on a full one, and the
     * source must be asked once more to learn that it is empty. */
    static const uint64_t totals[] = {53, 50};
    for (size_t k = 0; k < 2; k++) {
        counter c = {0, totals[k]};
        mb_source src = {.name = "counter", .read = counter_read, .state = &c};
        setup();
        h.payloads = 1;
        outcome o = run(_i, 0, 10, 0, &src, 0);
        ck_assert_int_eq(o.rc, MB_OK);
        assert_each_ran(0, totals[k], 1);
        ck_assert_uint_eq(h.next, totals[k]);
        ck_assert_uint_eq(o.done, totals[k]);
    }
}
END_TEST

/* Tasks before `first` came from a journal: they are not run again, the
 * reduction still sees every task in order, and only the run ones count
 * as this rank's. */
START_TEST(resumed_tasks_are_skipped)
{
    outcome o = run(_i, 300, 16, 0, NULL, 120);
    ck_assert_int_eq(o.rc, MB_OK);
    assert_each_ran(120, 300, 1);
    ck_assert_uint_eq(h.next, 300);
    ck_assert_uint_eq(o.done, 300);
    ck_assert_uint_eq(o.ran_here, 180);
}
END_TEST

START_TEST(failures_without_retries)
{
    h.fail_task = 42;
    h.fail_runs = 1;
    outcome o = run(_i, 100, 8, 0, NULL, 0);
    ck_assert_int_eq(o.rc, MB_OK);
    assert_each_ran(0, 100, 1);
    ck_assert_uint_eq(o.failed, 1);
    ck_assert_uint_eq(h.failures, 1);
    ck_assert_uint_eq(o.retried, 0);
}
END_TEST

START_TEST(a_retry_that_succeeds)
{
    h.fail_task = 42;
    h.fail_runs = 1;
    outcome o = run(_i, 100, 8, 2, NULL, 0);
    ck_assert_int_eq(o.rc, MB_OK);
    ck_assert_uint_eq(h.runs[42], 2);
    h.runs[42] = 1;
    assert_each_ran(0, 100, 1);
    ck_assert_uint_eq(o.failed, 0);
    ck_assert_uint_eq(h.failures, 0);
    ck_assert_uint_eq(o.retried, 1);
    ck_assert_uint_eq(h.next, 100);
}
END_TEST

START_TEST(retries_run_out)
{
    /* Payloads too: a re-run must get its task's payload again. */
    counter c = {0, 60};
    mb_source src = {.name = "counter", .read = counter_read, .state = &c};
    h.payloads = 1;
    h.fail_task = 13;
    h.fail_runs = 100;
    outcome o = run(_i, 0, 5, 3, &src, 0);
    ck_assert_int_eq(o.rc, MB_OK);
    ck_assert_uint_eq(h.runs[13], 4); /* the first run and three re-runs */
    h.runs[13] = 1;
    assert_each_ran(0, 60, 1);
    ck_assert_uint_eq(o.failed, 1);
    ck_assert_uint_eq(h.failures, 1);
    ck_assert_uint_eq(o.retried, 3);
    ck_assert_uint_eq(h.next, 60);
}
END_TEST

START_TEST(a_reduction_error_stops_the_job)
{
    h.stop_at = 25;
    outcome o = run(_i, 1000, 10, 0, NULL, 0);
    ck_assert_int_eq(o.rc, MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "reduction stops at task 25"));
    /* Nothing more reaches the reduction (how much ran meanwhile depends on
     * the schedule: a static round holds all 1000 tasks). */
    ck_assert_uint_eq(h.next, 26);
}
END_TEST

/* Rank 0 of 3 ranks: a worker silent for longer than --heartbeat is lost,
 * named with its host; one that finished is not watched; 0 is off. */
START_TEST(a_silent_rank_is_lost)
{
    static const char *const hosts[] = {"h0", "h1", "h2"};
    mb_run r = {.comm = MPI_COMM_WORLD, .rank = 0, .size = 3, .heartbeat = 5, .hosts = hosts};
    mb_watch w;
    double now = mb_clock_now();
    ck_assert_int_eq(mb_watch_init(&w, &r), MB_OK);
    ck_assert_int_eq(r.lost, -1);
    ck_assert_int_eq(mb_watch_check(&w, now), MB_OK);
    mb_watch_heard(&w, 1, now + 9);
    mb_watch_heard(&w, 2, now);
    /* Within a second of the last look: not looked at again. */
    ck_assert_int_eq(mb_watch_check(&w, now + 0.5), MB_OK);
    ck_assert_int_eq(mb_watch_check(&w, now + 10), MB_ERR_STOPPED);
    ck_assert_int_eq(r.lost, 2);
    ck_assert_str_eq(r.ending, "lost rank 2 on host h2 (silent for 10 s, --heartbeat 5)");
    /* A rank that finished is silent for good and not lost. */
    r.lost = -1;
    mb_watch_off(&w, 2);
    ck_assert_int_eq(mb_watch_check(&w, now + 12), MB_OK);
    ck_assert_int_eq(r.lost, -1);
    r.heartbeat = 0;
    ck_assert_int_eq(mb_watch_check(&w, now + 100), MB_OK);
    mb_watch_free(&w);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    /* Each test runs once per schedule: _i is 0 for static, 1 for dynamic. */
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, every_task_once_in_order, 0, 2);
    tcase_add_loop_test(tc, no_tasks_runs_nothing, 0, 2);
    tcase_add_loop_test(tc, payloads_reach_their_tasks, 0, 2);
    tcase_add_loop_test(tc, resumed_tasks_are_skipped, 0, 2);
    tcase_add_loop_test(tc, failures_without_retries, 0, 2);
    tcase_add_loop_test(tc, a_retry_that_succeeds, 0, 2);
    tcase_add_loop_test(tc, retries_run_out, 0, 2);
    tcase_add_loop_test(tc, a_reduction_error_stops_the_job, 0, 2);
    tcase_add_test(tc, a_silent_rank_is_lost);
    suite_add_tcase(s, tc);
    return mb_test_run_mpi(s, &argc, &argv);
}
