/* report.c - report JSON built with cJSON, written atomically. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "output.h"
#include "atomic.h"
#include "report.h"
#include "io/url.h"

struct mb_report_file {
    mb_atomic file;
    FILE *fp;
};

/* Distinct host names in order of first appearance. */
static cJSON *host_list(const char *const *hosts, int n)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(hosts[i], hosts[j]) == 0;
        if (!seen)
            cJSON_AddItemToArray(list, cJSON_CreateString(hosts[i]));
    }
    return list;
}

/* The per-rank list; the busiest and total busy time of the ranks that
 * run tasks (all, or all but a rank 0 that only served). */
static cJSON *per_rank(const mb_report_run *run, double *max_busy, double *sum_busy)
{
    cJSON *list = cJSON_CreateArray();
    *max_busy = *sum_busy = 0;
    for (int r = 0; list && r < run->nranks; r++) {
        const mb_rank_stats *s = &run->stats[r];
        cJSON *o = cJSON_CreateObject();
        double idle = run->wall_seconds - s->busy_seconds;
        cJSON_AddNumberToObject(o, "rank", r);
        cJSON_AddStringToObject(o, "host", run->hosts[r]);
        cJSON_AddNumberToObject(o, "tasks", (double)s->tasks);
        cJSON_AddNumberToObject(o, "busy_seconds", s->busy_seconds);
        cJSON_AddNumberToObject(o, "idle_seconds", idle > 0 ? idle : 0);
        cJSON_AddItemToArray(list, o);
        if (r == 0 && run->root_served_only)
            continue;
        *sum_busy += s->busy_seconds;
        if (s->busy_seconds > *max_busy)
            *max_busy = s->busy_seconds;
    }
    return list;
}

cJSON *mb_report_build(const mb_report_run *run, cJSON *result)
{
    cJSON *r = cJSON_CreateObject();
    double max_busy, sum_busy;
    const mb_job *job = run->job;
    if (!r) {
        cJSON_Delete(result);
        return NULL;
    }
    cJSON_AddStringToObject(r, "program", "mpibatch");
    cJSON_AddStringToObject(r, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(r, "kernel", job->kernel->name);
    cJSON_AddStringToObject(r, "schedule", job->schedule == MB_SCHEDULE_STATIC ? "static" : "dynamic");
    cJSON_AddNumberToObject(r, "chunk", (double)job->chunk);
    cJSON_AddNumberToObject(r, "ranks", run->nranks);
    cJSON_AddItemToObject(r, "hosts", host_list(run->hosts, run->nranks));
    cJSON_AddNumberToObject(r, "tasks", (double)run->tasks);
    cJSON_AddNumberToObject(r, "tasks_failed", (double)run->failed);
    cJSON_AddNumberToObject(r, "tasks_retried", (double)run->retried);
    cJSON_AddNumberToObject(r, "tasks_resumed", (double)run->resumed);
    cJSON_AddNumberToObject(r, "speculative_runs", (double)run->speculated);
    cJSON_AddNumberToObject(r, "wall_seconds", run->wall_seconds);
    /* The rate of this run: tasks replayed from a journal took no time. */
    cJSON_AddNumberToObject(r, "tasks_per_second", run->wall_seconds > 0
                            ? (double)(run->tasks - run->resumed) / run->wall_seconds : 0);
    cJSON *ranks = per_rank(run, &max_busy, &sum_busy);
    /* max/mean - 1 over the ranks that run tasks: 0 when every one of them
     * was equally busy. */
    int workers = run->nranks - (run->root_served_only ? 1 : 0);
    cJSON_AddNumberToObject(r, "load_imbalance",
                            sum_busy > 0 ? max_busy / (sum_busy / workers) - 1 : 0);
    cJSON_AddItemToObject(r, "per_rank", ranks);
    cJSON *fails = cJSON_AddArrayToObject(r, "failures");
    for (size_t i = 0; fails && i < run->nfailures; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "task", (double)run->failures[i].task);
        cJSON_AddStringToObject(f, "reason", run->failures[i].reason);
        cJSON_AddItemToArray(fails, f);
    }
    cJSON_AddStringToObject(r, "state", run->state ? run->state : "complete");
    cJSON_AddItemToObject(r, "ending", run->ending ? cJSON_CreateString(run->ending)
                                                   : cJSON_CreateNull());
    cJSON_AddNumberToObject(r, "tasks_not_done", (double)run->not_done);
    cJSON_AddItemToObject(r, "time_left_seconds", run->time_left >= 0
                          ? cJSON_CreateNumber(run->time_left) : cJSON_CreateNull());
    cJSON_AddItemToObject(r, "slurm_restart_count", run->restart_count >= 0
                          ? cJSON_CreateNumber(run->restart_count) : cJSON_CreateNull());
    cJSON_AddItemToObject(r, "result", result ? result : cJSON_CreateObject());
    cJSON *spec = cJSON_Duplicate(job->spec, 1);
    mb_url_redact_json(spec); /* no secret from a URL reaches a report */
    cJSON_AddItemToObject(r, "job", spec);
    cJSON *out = cJSON_GetObjectItemCaseSensitive(spec, "out");
    cJSON_AddItemToObject(r, "output", cJSON_IsString(out) ? cJSON_CreateString(out->valuestring)
                                                          : cJSON_CreateNull());
    return r;
}

mb_err mb_report_open(mb_report_file **fp, const char *path)
{
    mb_report_file *f = calloc(1, sizeof *f);
    mb_err rc;
    *fp = NULL;
    if (!f)
        return mb_error_set(MB_ERR_NOMEM, "out of memory opening report '%s'", path);
    if ((rc = mb_atomic_begin(&f->file, path)) != MB_OK ||
        (rc = mb_atomic_fopen(&f->file, "report", &f->fp)) != MB_OK) {
        mb_report_discard(f);
        return rc;
    }
    *fp = f;
    return MB_OK;
}

mb_err mb_report_commit(mb_report_file *f, const cJSON *report)
{
    char *text = cJSON_Print(report);
    mb_err rc = MB_OK;
    if (!text)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory printing the report");
    else if (fputs(text, f->fp) == EOF || fputc('\n', f->fp) == EOF)
        rc = mb_error_set(MB_ERR_IO, "cannot write report '%s': %s", f->file.path,
                          strerror(errno));
    free(text);
    rc = mb_atomic_finish(&f->file, rc, f->fp, 0, "report");
    free(f);
    return rc;
}

void mb_report_discard(mb_report_file *f)
{
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    mb_atomic_discard(&f->file);
    free(f);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Shortest of %.15g and %.17g that reads back as the same double. */
static void print_num(FILE *fp, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, fp);
}

void mb_report_print_summary(const cJSON *r, FILE *fp)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(r, "result");
    const cJSON *item, *out = cJSON_GetObjectItemCaseSensitive(r, "output");
    fprintf(fp, "mpibatch %s: %s, %.0f tasks on %.0f ranks (%d hosts), %s schedule, chunk %.0f\n",
            PACKAGE_VERSION, cJSON_GetObjectItemCaseSensitive(r, "kernel")->valuestring,
            num(r, "tasks"), num(r, "ranks"),
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "hosts")),
            cJSON_GetObjectItemCaseSensitive(r, "schedule")->valuestring, num(r, "chunk"));
    fprintf(fp, "  wall %.3f s, %.6g tasks/s, load imbalance %.1f%%, %.0f failed\n",
            num(r, "wall_seconds"), num(r, "tasks_per_second"), 100 * num(r, "load_imbalance"),
            num(r, "tasks_failed"));
    if (num(r, "tasks_retried") > 0 || num(r, "tasks_resumed") > 0 ||
        num(r, "speculative_runs") > 0)
        fprintf(fp, "  %.0f re-runs of failed tasks, %.0f tasks resumed from the journal, "
                "%.0f speculative runs\n", num(r, "tasks_retried"), num(r, "tasks_resumed"),
                num(r, "speculative_runs"));
    fputs("  result:", fp);
    cJSON_ArrayForEach(item, result) {
        const cJSON *sub;
        if (cJSON_IsNumber(item)) {
            fprintf(fp, " %s=", item->string);
            print_num(fp, item->valuedouble);
        }
        /* One level down, such as classify's subtopics.accuracy; the
         * per-class table (objects of objects) stays in the report. */
        if (cJSON_IsObject(item))
            cJSON_ArrayForEach(sub, item) {
                if (cJSON_IsNumber(sub)) {
                    fprintf(fp, " %s.%s=", item->string, sub->string);
                    print_num(fp, sub->valuedouble);
                }
            }
    }
    fputc('\n', fp);
    if (cJSON_IsString(out))
        fprintf(fp, "  output: %s\n", out->valuestring);
}
