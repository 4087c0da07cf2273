/* sleep.c - the sleeper: each task sleeps; a probe of scheduling overhead.
 * It naps in turns of mb_kernel_idle_ms() (MB_KERNEL_WAITS_IDLE), so a
 * long sleep still answers other ranks and sends heartbeats. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/kernels.h"
#include "mpibatch/clock.h"
#include "mpibatch/job.h"

typedef struct sleep_state {
    uint64_t tasks;
    double seconds;
    int rank, fail_rank, slow_rank;  /* fault injection: a broken or slow node */
    double slow_seconds;
    double over_sum, over_max; /* rank 0: oversleep statistics */
    uint64_t counted;
} sleep_state;

static const mb_option sleep_options[] = {
    {.name = "tasks", .type = MB_OPT_INT, .defval = "64", .min = 1, .max = MB_OPT_INT_MAX,
     .meta = "T", .help = "number of tasks"},
    {.name = "seconds", .type = MB_OPT_NUM, .defval = "0.25", .min = 0, .max = 86400,
     .meta = "S", .help = "seconds each task sleeps (fractional; 0 measures pure overhead)"},
    {.name = "fail-rank", .type = MB_OPT_INT, .defval = "-1", .min = -1, .max = 1 << 30,
     .meta = "R", .help = "tasks run on rank R fail, as on a broken node (tests retries; -1: none)"},
    {.name = "slow-rank", .type = MB_OPT_INT, .defval = "-1", .min = -1, .max = 1 << 30,
     .meta = "R", .help = "tasks run on rank R sleep --slow-seconds instead (tests stragglers)"},
    {.name = "slow-seconds", .type = MB_OPT_NUM, .defval = "1", .min = 0, .max = 86400,
     .meta = "S", .help = "seconds each task sleeps on --slow-rank"},
    {0}
};

static const mb_field sleep_fields[] = {
    {"overslept", MB_FIELD_F64, 1, "seconds slept beyond the requested time"},
};

static mb_err sleep_setup(const mb_job *job, MPI_Comm comm, void **state)
{
    sleep_state *s = calloc(1, sizeof *s);
    if (!s)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    s->tasks = (uint64_t)mb_job_int(job, "tasks");
    s->seconds = mb_job_num(job, "seconds");
    s->fail_rank = (int)mb_job_int(job, "fail-rank");
    s->slow_rank = (int)mb_job_int(job, "slow-rank");
    s->slow_seconds = mb_job_num(job, "slow-seconds");
    *state = s;
    if (MPI_Comm_rank(comm, &s->rank) != MPI_SUCCESS)
        return mb_error_set(MB_ERR_MPI, "MPI_Comm_rank failed");
    return MB_OK;
}

static const mb_field *sleep_fields_of(void *state, size_t *n)
{
    *n = 1;
    return sleep_fields;
}

static uint64_t sleep_ntasks(void *state)
{
    return ((sleep_state *)state)->tasks;
}

static mb_err sleep_run(void *state, uint64_t task, mb_payload payload, double *rec)
{
    const sleep_state *s = state;
    double seconds = s->rank == s->slow_rank ? s->slow_seconds : s->seconds;
    if (s->rank == s->fail_rank)
        return mb_error_set(MB_ERR_INPUT, "task %llu: rank %d is set to fail (--fail-rank)",
                            (unsigned long long)task, s->rank);
    if (seconds <= 0) { /* no clock calls: measure the runner alone */
        rec[0] = 0;
        return MB_OK;
    }
    double end = mb_clock_now() + seconds, left;
    /* In naps of at most mb_kernel_idle_ms(), the schedule's turn between
     * them: rank 0 answers the other ranks, a worker sends its heartbeat. */
    while ((left = end - mb_clock_now()) > 0) {
        int ms = mb_kernel_idle_ms();
        double nap = ms < 0 || left < ms / 1000.0 ? left : ms / 1000.0;
        struct timespec ts = {(time_t)nap, (long)((nap - floor(nap)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        if (ms >= 0 && mb_clock_now() < end)
            mb_kernel_idle();
    }
    rec[0] = -left;
    return MB_OK;
}

static mb_err sleep_reduce(void *state, uint64_t task, const char *failure, const double *rec)
{
    if (failure)
        return MB_OK;
    sleep_state *s = state;
    s->over_sum += rec[0];
    if (rec[0] > s->over_max)
        s->over_max = rec[0];
    s->counted++;
    return MB_OK;
}

static mb_err sleep_summarize(void *state, cJSON *result)
{
    sleep_state *s = state;
    cJSON_AddNumberToObject(result, "tasks", (double)s->tasks);
    cJSON_AddNumberToObject(result, "seconds_each", s->seconds);
    cJSON_AddNumberToObject(result, "sleep_seconds_total", s->seconds * (double)s->tasks);
    cJSON_AddNumberToObject(result, "mean_overslept_us",
                            s->counted ? 1e6 * s->over_sum / (double)s->counted : 0.0);
    cJSON_AddNumberToObject(result, "max_overslept_us", 1e6 * s->over_max);
    return MB_OK;
}

static void sleep_teardown(void *state)
{
    free(state);
}

const mb_kernel mb_kernel_sleep = {
    .name = "sleep",
    .summary = "each task sleeps S seconds: measures scheduling overhead",
    .options = sleep_options,
    .setup = sleep_setup,
    .fields = sleep_fields_of,
    .ntasks = sleep_ntasks,
    .run = sleep_run,
    .reduce = sleep_reduce,
    .summarize = sleep_summarize,
    .teardown = sleep_teardown,
    .flags = MB_KERNEL_WAITS_IDLE,
};
