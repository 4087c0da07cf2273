/* euler.c - the Euler sum kernel: one task per block of 1/i^2 terms. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/euler_sum.h"
#include "mpibatch/job.h"

typedef struct euler_state {
    uint64_t terms, blocks;
    mb_euler_impl impl;
    mb_dd total;          /* rank 0: ordered sum of the blocks so far */
} euler_state;

static const mb_option euler_options[] = {
    {.name = "terms", .type = MB_OPT_INT, .defval = "1000000000", .min = 1,
     .max = (double)MB_EULER_MAX_TERMS, .meta = "N", .help = "number of terms n of sum 1/i^2"},
    {.name = "blocks", .type = MB_OPT_INT, .defval = "100", .min = 1,
     .max = (double)MB_EULER_MAX_TERMS, .meta = "B", .help = "split the terms into B blocks, one task each"},
    {.name = "impl", .type = MB_OPT_ENUM, .defval = "auto", .choices = "auto|generic|avx512",
     .help = "block summation code (auto: fastest this CPU supports)"},
    {0}
};

static const mb_field euler_fields[] = {
    {"first", MB_FIELD_I64, 1, "first term i of the block"},
    {"last", MB_FIELD_I64, 1, "last term i of the block"},
    {"sum", MB_FIELD_F64, 1, "block sum of 1/i^2, rounded to double"},
    {"sum_lo", MB_FIELD_F64, 1, "low part: sum + sum_lo is the double-double block sum"},
};

static mb_err euler_setup(const mb_job *job, MPI_Comm comm, void **state)
{
    euler_state *s = calloc(1, sizeof *s);
    const char *impl = mb_job_str(job, "impl");
    if (!s)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    *state = s;
    s->terms = (uint64_t)mb_job_int(job, "terms");
    s->blocks = (uint64_t)mb_job_int(job, "blocks");
    s->impl = strcmp(impl, "avx512") == 0 ? MB_EULER_AVX512
            : strcmp(impl, "generic") == 0 ? MB_EULER_GENERIC : MB_EULER_AUTO;
    if (s->blocks > s->terms)
        return mb_error_set(MB_ERR_USAGE, "'blocks' (%llu) must not exceed 'terms' (%llu)",
                            (unsigned long long)s->blocks, (unsigned long long)s->terms);
    if (!mb_euler_impl_available(s->impl))
        return mb_error_set(MB_ERR_USAGE, "'impl' avx512 is not supported by this CPU");
    return MB_OK;
}

static const mb_field *euler_fields_of(void *state, size_t *n)
{
    *n = sizeof euler_fields / sizeof euler_fields[0];
    return euler_fields;
}

static uint64_t euler_ntasks(void *state)
{
    return ((euler_state *)state)->blocks;
}

/* The block sum's tick: the schedule's turn (mb_kernel_idle's answer,
 * work for a free slot, is for kernels with slots only). */
static void euler_tick(void)
{
    mb_kernel_idle();
}

static mb_err euler_run(void *state, uint64_t task, mb_payload payload, double *rec)
{
    euler_state *s = state;
    uint64_t first, last;
    mb_euler_block_range(s->terms, s->blocks, task, &first, &last);
    /* A long block still gives the schedule its turns (heartbeats). */
    mb_dd sum = mb_euler_block_sum(first, last, s->impl, euler_tick);
    rec[0] = (double)first;
    rec[1] = (double)last;
    rec[2] = sum.hi;
    rec[3] = sum.lo;
    return MB_OK;
}

static mb_err euler_reduce(void *state, uint64_t task, const char *failure, const double *rec)
{
    if (failure)
        return MB_OK;
    euler_state *s = state;
    s->total = mb_dd_add(s->total, (mb_dd){rec[2], rec[3]});
    return MB_OK;
}

static mb_err euler_summarize(void *state, cJSON *result)
{
    euler_state *s = state;
    mb_dd exact = mb_euler_exact(s->terms);
    double total = s->total.hi + s->total.lo;
    cJSON_AddNumberToObject(result, "terms", (double)s->terms);
    cJSON_AddNumberToObject(result, "blocks", (double)s->blocks);
    cJSON_AddNumberToObject(result, "total", total);
    cJSON_AddNumberToObject(result, "exact", exact.hi + exact.lo);
    /* total - exact with exact kept in double-double: the true error of
     * the rounded total, not the difference of two rounded numbers. */
    cJSON_AddNumberToObject(result, "error", (total - exact.hi) - exact.lo);
    return MB_OK;
}

static void euler_teardown(void *state)
{
    free(state);
}

const mb_kernel mb_kernel_euler = {
    .name = "euler",
    .summary = "sum 1/i^2 for i = 1..n in blocks; compares with pi^2/6 - psi1(n+1)",
    .options = euler_options,
    .setup = euler_setup,
    .fields = euler_fields_of,
    .ntasks = euler_ntasks,
    .run = euler_run,
    .reduce = euler_reduce,
    .summarize = euler_summarize,
    .teardown = euler_teardown,
};
