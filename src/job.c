/* job.c - from a JSON spec (flags or file) to a validated job. */
#include <stdlib.h>
#include <string.h>

#include "mpibatch/job.h"
#include "mpibatch/urlio.h"

const mb_option mb_job_options[] = {
    {.name = "schedule", .type = MB_OPT_ENUM, .defval = "dynamic", .choices = "static|dynamic",
     .help = "static: scatter/compute/gather in rounds; dynamic: ranks self-schedule"},
    {.name = "chunk", .type = MB_OPT_INT, .min = 0, .max = MB_OPT_INT_MAX, .meta = "K",
     .defval = "0", .help = "tasks handed out together; 0 picks the documented default"},
    {.name = "out", .type = MB_OPT_STR, .meta = "FILE", .help = "HDF5 output file"},
    {.name = "report", .type = MB_OPT_STR, .meta = "FILE", .help = "JSON report file"},
    {.name = "quiet", .type = MB_OPT_BOOL, .defval = "false",
     .help = "print no summary on standard output"},
    {0}
};

/* The job's keys that are not options. */
static const char *const meta_keys[] = {"kernel", NULL};

static mb_err resolve_kernel(const cJSON *spec, const char *where, const mb_kernel **k)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "kernel");
    if (!cJSON_IsString(name))
        return mb_error_set(MB_ERR_USAGE, "%s: key 'kernel' (a string naming the kernel) is missing",
                            where);
    if (!(*k = mb_kernel_find(name->valuestring)))
        return mb_error_set(MB_ERR_USAGE, "%s: unknown kernel '%s' (see mpibatch --help)",
                            where, name->valuestring);
    return MB_OK;
}

mb_err mb_job_from_spec(cJSON *spec, const char *where, mb_job *job)
{
    mb_err rc;
    memset(job, 0, sizeof *job);
    job->spec = spec;
    if (!cJSON_IsObject(spec))
        return mb_error_set(MB_ERR_USAGE, "%s: the job spec must be a JSON object", where);
    if ((rc = resolve_kernel(spec, where, &job->kernel)) != MB_OK)
        return rc;
    const mb_option *const tables[] = {mb_job_options, job->kernel->options, mb_url_options, NULL};
    if ((rc = mb_options_validate(spec, tables, meta_keys, where)) != MB_OK)
        return rc;
    job->schedule = strcmp(mb_job_str(job, "schedule"), "static") == 0
                        ? MB_SCHEDULE_STATIC : MB_SCHEDULE_DYNAMIC;
    job->chunk = (uint64_t)mb_job_int(job, "chunk");
    job->out = mb_job_str(job, "out");
    job->report = mb_job_str(job, "report");
    job->quiet = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "quiet"));
    return MB_OK;
}

mb_err mb_job_from_text(const char *text, const char *where, mb_job *job)
{
    const char *at = NULL;
    cJSON *spec = cJSON_ParseWithOpts(text, &at, 1);
    if (!spec) {
        /* Name the line and column so a hand-edited spec is easy to fix. */
        size_t line = 1, col = 1;
        for (const char *p = text; at && p < at; p++, col++)
            if (*p == '\n') {
                line++;
                col = 0;
            }
        memset(job, 0, sizeof *job);
        return mb_error_set(MB_ERR_USAGE, "%s:%zu:%zu: malformed JSON", where, line, col);
    }
    return mb_job_from_spec(spec, where, job);
}

void mb_job_set_chunk(mb_job *job, uint64_t ntasks, int nranks)
{
    uint64_t p = nranks > 0 ? (uint64_t)nranks : 1, k;
    if (job->chunk > 0)
        return;
    /* Tasks streamed from input are not counted in advance (ntasks 0).
     * Classifying arXiv abstracts at 2 ranks, K = 5..10 was fastest (K = 1
     * pays a message per document, 3.5x slower; K = 50..100 ran 7% slower):
     * docs/benchmarks.md, classifier. */
    if (ntasks == 0)
        k = 10;
    /* Static: one block per rank, capped so a round stays small.
     * Dynamic: about 64 chunks per rank bounds the tail imbalance to ~1/64
     * of a rank's work, while chunks of up to 1024 tasks amortise the
     * per-message cost of tiny tasks (docs/benchmarks.md, chunk defaults). */
    else if (job->schedule == MB_SCHEDULE_STATIC)
        k = (ntasks + p - 1) / p;
    else
        k = ntasks / (64 * p);
    if (k > 1024 && job->schedule == MB_SCHEDULE_DYNAMIC)
        k = 1024;
    if (k > 65536)
        k = 65536;
    job->chunk = k ? k : 1;
    /* The stored spec records the chunk size that was really used. */
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(job->spec, "chunk"), (double)job->chunk);
}

static const cJSON *get(const mb_job *job, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(job->spec, name);
}

int64_t mb_job_int(const mb_job *job, const char *name)
{
    const cJSON *v = get(job, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

double mb_job_num(const mb_job *job, const char *name)
{
    const cJSON *v = get(job, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

const char *mb_job_str(const mb_job *job, const char *name)
{
    const cJSON *v = get(job, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *mb_job_to_text(const mb_job *job)
{
    return cJSON_PrintUnformatted(job->spec);
}

void mb_job_free(mb_job *job)
{
    cJSON_Delete(job->spec);
    memset(job, 0, sizeof *job);
}
