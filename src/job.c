/* job.c - from a JSON spec (flags or file) to a validated job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mpibatch/job.h"
#include "kernels/plugin.h"
#include "io/transfer.h"
#include "io/url.h"
#include "optparse.h"

const mb_option mb_job_options[] = {
    {.name = "schedule", .type = MB_OPT_ENUM, .defval = "dynamic", .choices = "static|dynamic",
     .help = "static: scatter/compute/gather in rounds; dynamic: ranks self-schedule"},
    {.name = "chunk", .type = MB_OPT_INT, .min = 0, .max = MB_OPT_INT_MAX, .meta = "K",
     .defval = "0", .help = "tasks handed out together; 0 picks the documented default"},
    {.name = "out", .type = MB_OPT_STR, .meta = "FILE", .help = "HDF5 output file"},
    {.name = "report", .type = MB_OPT_STR, .meta = "FILE", .help = "JSON report file"},
    {.name = "quiet", .type = MB_OPT_BOOL, .defval = "false",
     .help = "print no summary on standard output and no progress"},
    {.name = "progress", .type = MB_OPT_ENUM, .defval = "auto", .choices = "auto|live|plain|never",
     .help = "on stderr: one line redrawn, or plain lines; auto: live on a terminal"},
    {.name = "progress-interval", .type = MB_OPT_NUM, .defval = "30", .min = 0.01, .max = 86400,
     .meta = "S", .help = "seconds between plain progress lines"},
    {.name = "status", .type = MB_OPT_STR, .meta = "FILE",
     .help = "JSON status document, rewritten atomically while the job runs"},
    {.name = "status-interval", .type = MB_OPT_NUM, .defval = "5", .min = 0.01, .max = 86400,
     .meta = "S", .help = "seconds between status document updates"},
    {.name = "retries", .type = MB_OPT_INT, .defval = "0", .min = 0, .max = 100, .meta = "N",
     .help = "re-runs of a failed task, on another rank when there is one"},
    {.name = "max-failures", .type = MB_OPT_STR, .meta = "N|P%",
     .help = "stop (exit 1) once more than N tasks, or P% of at least 100 done, finally failed"},
    {.name = "journal", .type = MB_OPT_STR, .meta = "FILE",
     .help = "record finished tasks in FILE (default with --out: OUT.journal), to resume"},
    {.name = "no-journal", .type = MB_OPT_BOOL, .defval = "false",
     .help = "keep no journal: a stopped job starts over"},
    {.name = "journal-interval", .type = MB_OPT_NUM, .defval = "2", .min = 0, .max = 3600,
     .meta = "S", .help = "seconds between the journal's syncs to disk (0: every chunk)"},
    {.name = "resume", .type = MB_OPT_BOOL, .defval = "false",
     .help = "continue from the journal (the default whenever one exists)"},
    {.name = "deadline", .type = MB_OPT_STR, .meta = "TIME|DURATION",
     .help = "start no task that would end after it: 2026-12-06T18:00, 18:00, 90m, 2h, 3600"},
    {.name = "task-time", .type = MB_OPT_NUM, .defval = "0", .min = 0, .max = 1e7, .meta = "S",
     .help = "a task's expected seconds, for --deadline (0: measured as tasks run)"},
    {.name = "heartbeat", .type = MB_OPT_NUM, .defval = "30", .min = 0, .max = 86400,
     .meta = "S", .help = "end the job (exit 75) when a rank is silent S seconds (0: off)"},
    {.name = "drain-grace", .type = MB_OPT_NUM, .defval = "20", .min = 0, .max = 86400,
     .meta = "S", .help = "after SIGTERM/SIGUSR1/SIGINT, seconds running tasks may finish"},
    {.name = "dry-run", .type = MB_OPT_BOOL, .defval = "false",
     .help = "check the job and stop before any task runs (exec: print the commands)"},
    {.name = "speculate-after", .type = MB_OPT_NUM, .defval = "0", .min = 0, .max = 1000,
     .meta = "X", .help = "dynamic: re-run a chunk running X times the median chunk time (0: off)"},
    {0}
};

/* The job's keys that are not options. */
static const char *const meta_keys[] = {"kernel", "kernel-lib", NULL};

static mb_err resolve_kernel(const cJSON *spec, const char *where, const mb_kernel **k)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "kernel");
    const cJSON *lib = cJSON_GetObjectItemCaseSensitive(spec, "kernel-lib");
    if (!cJSON_IsString(name))
        return mb_error_set(MB_ERR_USAGE, "%s: key 'kernel' (a string naming the kernel) is missing",
                            where);
    if (lib && !cJSON_IsString(lib))
        return mb_error_set(MB_ERR_USAGE, "%s: key 'kernel-lib' must be a string (a library path)",
                            where);
    /* A plug-in: every rank that builds the job loads the library. */
    if (lib && mb_plugin_load(lib->valuestring, name->valuestring, k) != MB_OK)
        return mb_error_set(MB_ERR_USAGE, "%s: %s", where, mb_error_message());
    if (!lib && !(*k = mb_kernel_find(name->valuestring)))
        return mb_error_set(MB_ERR_USAGE, "%s: unknown kernel '%s' (see mpibatch --help)",
                            where, name->valuestring);
    return MB_OK;
}

/* --max-failures: a count N, or a percentage P% of the tasks done. */
static mb_err parse_max_failures(mb_job *job, const char *text, const char *where)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : -1;
    int percent = end && *end == '%';
    if (!text)
        return MB_OK;
    if (end == text || v < 0 || (percent && (end[1] || v > 100)) ||
        (!percent && (*end || v > MB_OPT_INT_MAX || v != (double)(uint64_t)v)))
        return mb_error_set(MB_ERR_USAGE, "%s: 'max-failures' must be a count N or a "
                            "percentage P%% (0 to 100), not '%s'", where, text);
    if (percent)
        job->max_fail_percent = v;
    else
        job->max_fail_count = (uint64_t)v;
    return MB_OK;
}

/* The journal kept by default beside the output: OUT.journal; for an
 * output at a URL, NAME.journal in the working directory. */
static mb_err default_journal(mb_job *job)
{
    const char *name = job->out, *slash = strrchr(job->out, '/');
    size_t n;
    if (mb_url_is_remote(job->out))
        name = slash && slash[1] ? slash + 1 : "output";
    n = strlen(name) + sizeof ".journal";
    if (!(job->journal_buf = malloc(n)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    snprintf(job->journal_buf, n, "%s.journal", name);
    job->journal = job->journal_buf;
    job->journal_default = true;
    return MB_OK;
}

/* The failure policy, journal and speculation settings. */
static mb_err resolve_resilience(mb_job *job, const char *where)
{
    job->retries = (unsigned)mb_job_int(job, "retries");
    job->max_fail_count = UINT64_MAX;
    job->max_fail_percent = -1;
    job->journal = mb_job_str(job, "journal");
    job->journal_interval = mb_job_num(job, "journal-interval");
    job->resume = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->spec, "resume"));
    job->speculate_after = mb_job_num(job, "speculate-after");
    job->drain_grace = mb_job_num(job, "drain-grace");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->spec, "no-journal"))) {
        if (job->journal || job->resume)
            return mb_error_set(MB_ERR_USAGE, "%s: 'no-journal' cannot go with '%s'", where,
                                job->journal ? "journal" : "resume");
    } else if (!job->journal && job->out) {
        mb_err rc = default_journal(job);
        if (rc != MB_OK)
            return rc;
    }
    if (job->resume && !job->journal)
        return mb_error_set(MB_ERR_USAGE, "%s: 'resume' needs 'journal' or 'out' (the journal "
                            "to resume from)", where);
    return parse_max_failures(job, mb_job_str(job, "max-failures"), where);
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
    return resolve_resilience(job, where);
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
     * Classifying arXiv abstracts (about 7 us each) at 2 ranks, K = 32 was
     * fastest, 2-3% ahead of K = 10 and K = 64; K = 1 pays a message per
     * document (docs/benchmarks.md, classifier). */
    if (job->kernel->flags & MB_KERNEL_LONG_TASKS)
        k = 1;
    else if (ntasks == 0)
        k = 32;
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
    free(job->journal_buf);
    cJSON_Delete(job->spec);
    memset(job, 0, sizeof *job);
}
