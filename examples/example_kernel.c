/* example_kernel.c - a plug-in kernel: estimate pi by Monte Carlo.
 *
 * Task t throws `samples` random points into the unit square from a
 * generator seeded by (seed, t) alone, and counts those inside the quarter
 * circle.  So every task's result, and the total reduced in task order,
 * is the same at any rank count.  Build (see Makefile here):
 *
 *   mpicc -shared -fPIC -I$PREFIX/include $(pkg-config --cflags libcjson) \
 *       -o libmbexample.so example_kernel.c
 *
 * and run it:
 *
 *   mpirun -n 4 mpibatch --kernel-lib ./libmbexample.so --kernel mcpi \
 *       --tasks 100 --samples 1000000 --out pi.h5
 */
#include <math.h>
#include <stdlib.h>

#include <mpibatch/job.h>
#include <mpibatch/kernel.h>

MB_KERNEL_PLUGIN_ABI;

typedef struct mcpi {
    uint64_t tasks, samples, seed;
    uint64_t hits, thrown; /* rank 0, in task order */
} mcpi;

static const mb_option mcpi_options[] = {
    {.name = "tasks", .type = MB_OPT_INT, .defval = "16", .min = 1, .max = 1e9, .meta = "T",
     .help = "number of tasks"},
    {.name = "samples", .type = MB_OPT_INT, .defval = "100000", .min = 1, .max = 1e12,
     .meta = "N", .help = "random points per task"},
    {.name = "seed", .type = MB_OPT_INT, .defval = "1", .min = 0, .max = MB_OPT_INT_MAX,
     .meta = "S", .help = "random seed"},
    {0}
};

static const mb_field mcpi_fields[] = {
    {"hits", MB_FIELD_I64, 1, "points inside the quarter circle"},
    {"estimate", MB_FIELD_F64, 1, "this task's estimate of pi"},
    {"generator", MB_FIELD_STR, 2, "the random generator used"},
};

/* splitmix64: small, fast and good enough for an example. */
static uint64_t next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static mb_err mcpi_setup(const mb_job *job, MPI_Comm comm, void **state)
{
    mcpi *s = calloc(1, sizeof *s);
    if (!(*state = s))
        return mb_error_set(MB_ERR_NOMEM, "mcpi: out of memory");
    s->tasks = (uint64_t)mb_job_int(job, "tasks");
    s->samples = (uint64_t)mb_job_int(job, "samples");
    s->seed = (uint64_t)mb_job_int(job, "seed");
    return MB_OK;
}

static const mb_field *mcpi_fields_of(void *state, size_t *n)
{
    *n = sizeof mcpi_fields / sizeof *mcpi_fields;
    return mcpi_fields;
}

static uint64_t mcpi_ntasks(void *state)
{
    return ((mcpi *)state)->tasks;
}

static mb_err mcpi_run(void *state, uint64_t task, mb_payload payload, double *rec)
{
    const mcpi *s = state;
    uint64_t x = s->seed * 0x100000001b3ULL ^ task, hits = 0;
    for (uint64_t i = 0; i < s->samples; i++) {
        double a = (double)(next(&x) >> 11) * 0x1p-53, b = (double)(next(&x) >> 11) * 0x1p-53;
        hits += a * a + b * b < 1.0;
    }
    rec[0] = (double)hits;
    rec[1] = 4.0 * (double)hits / (double)s->samples;
    mb_record_set_str(rec + 2, 2, "splitmix64", 10);
    return MB_OK;
}

static mb_err mcpi_reduce(void *state, uint64_t task, const char *failure, const double *rec)
{
    mcpi *s = state;
    if (!failure) {
        s->hits += (uint64_t)rec[0];
        s->thrown += s->samples;
    }
    return MB_OK;
}

static mb_err mcpi_summarize(void *state, cJSON *result)
{
    const mcpi *s = state;
    double pi = s->thrown ? 4.0 * (double)s->hits / (double)s->thrown : 0;
    cJSON_AddNumberToObject(result, "samples", (double)s->thrown);
    cJSON_AddNumberToObject(result, "hits", (double)s->hits);
    cJSON_AddNumberToObject(result, "pi", pi);
    cJSON_AddNumberToObject(result, "error", fabs(pi - 3.14159265358979323846));
    return MB_OK;
}

static void mcpi_teardown(void *state)
{
    free(state);
}

/* Exported under mb_kernel_<name>: --kernel mcpi finds it. */
extern const mb_kernel mb_kernel_mcpi;
const mb_kernel mb_kernel_mcpi = {
    .name = "mcpi",
    .summary = "estimate pi by Monte Carlo (an example plug-in)",
    .options = mcpi_options,
    .setup = mcpi_setup,
    .fields = mcpi_fields_of,
    .ntasks = mcpi_ntasks,
    .run = mcpi_run,
    .reduce = mcpi_reduce,
    .summarize = mcpi_summarize,
    .teardown = mcpi_teardown,
};
