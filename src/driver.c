/* driver.c - one job from argv to output: parse, set up, schedule, write.
 *
 * Phases are separated by mb_comm_agree(), so an error found on any rank
 * (bad spec, unwritable output) makes every rank leave with the same exit
 * status and rank 0 print one message.  Inside the schedule ranks cannot
 * meet in a collective, so a failure there aborts the job.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/transfer.h"
#include "kernels/kernels.h"
#include "mpibatch/clock.h"
#include "cli.h"
#include "collector.h"
#include "commands/commands.h"
#include "comm.h"
#include "driver.h"
#include "mpibatch/job.h"
#include "journal.h"
#include "output.h"
#include "progress.h"
#include "report.h"
#include "row.h"
#include "schedule/schedule.h"
#include "mpibatch/source.h"
#include "stage.h"
#include "io/url.h"
#include "stop.h"

typedef struct driver {
    MPI_Comm comm;
    int rank, size;
    mb_job job;
    void *kstate;
    const mb_field *fields;
    size_t nfields;
    char (*hostbuf)[MPI_MAX_PROCESSOR_NAME];
    const char **hosts;
    mb_output *out;           /* rank 0 */
    mb_report_file *report;   /* rank 0 */
    mb_collector *col;        /* rank 0 */
    mb_source source;         /* rank 0, kernels with input */
    mb_journal *journal;      /* rank 0, with --journal */
    mb_progress *progress;    /* rank 0: progress line, --status; NULL if neither */
    uint64_t resumed;         /* rank 0: tasks the journal records up to its first gap */
    uint64_t islands;         /* rank 0: tasks it records past a gap */
    uint64_t recorded;        /* rank 0, stopped: tasks the journal keeps */
    uint64_t retried, speculated; /* rank 0: from the schedule */
    uint64_t dispatched;      /* rank 0: tasks handed out (known to exist) */
    int input_done;           /* rank 0: the feed reached the end of the tasks */
    char ending[256];         /* rank 0: why a stopped job stopped */
    double deadline;          /* Unix seconds, 0: none */
    int lost;                 /* rank 0: a rank that stopped answering, else -1 */
    int journal_ours;         /* rank 0: this run opened (or created) the default journal */
    mb_staged out_at, report_at; /* rank 0: where --out and --report go */
    mb_url_opts url;
} driver;

/* Rank 0 parses argv; every rank learns the spec or that nothing runs. */
static mb_err parse(driver *d, int argc, char **argv, int *done)
{
    char *spec = NULL;
    mb_err rc = MB_OK;
    if (d->rank == 0)
        rc = mb_cli_parse(argc, argv, stdout, &spec, done);
    rc = mb_comm_agree(d->comm, rc);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Bcast(done, 1, MPI_INT, 0, d->comm), "MPI_Bcast");
    if (rc == MB_OK && !*done)
        rc = mb_comm_bcast_string(d->comm, &spec);
    if (rc == MB_OK && !*done)
        rc = mb_job_from_text(spec, "job spec", &d->job);
    free(spec);
    return mb_comm_agree(d->comm, rc);
}

static mb_err setup(driver *d)
{
    const mb_kernel *k = d->job.kernel;
    mb_err rc = k->setup(&d->job, d->comm, &d->kstate);
    if (rc == MB_OK) {
        d->fields = k->fields(d->kstate, &d->nfields);
        /* Tasks read from input are not counted in advance: 0 = unknown. */
        mb_job_set_chunk(&d->job, k->ntasks ? k->ntasks(d->kstate) : 0, d->size);
    }
    return mb_comm_agree(d->comm, rc);
}

static mb_err gather_hosts(driver *d)
{
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int len;
    mb_err rc = mb_mpi_check(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name");
    d->hostbuf = calloc((size_t)d->size, sizeof *d->hostbuf);
    d->hosts = calloc((size_t)d->size, sizeof *d->hosts);
    if (rc == MB_OK && (!d->hostbuf || !d->hosts))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for host names");
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, d->hostbuf,
                                     MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, d->comm), "MPI_Gather");
    for (int r = 0; rc == MB_OK && r < d->size; r++)
        d->hosts[r] = d->hostbuf[r];
    return rc;
}

/* The spec as stored in the output: secrets in URLs redacted. */
static char *public_spec(const mb_job *job)
{
    cJSON *copy = cJSON_Duplicate(job->spec, 1);
    char *text = copy && mb_url_redact_json(copy) == MB_OK ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);
    return text;
}

/* Rank 0, resuming: each recorded frame goes through the collector
 * (output rows, reduction); a source reads its tasks' payloads and checks
 * them against the hashes the journal recorded, so a result is never
 * reused for a task whose input changed (the resume is refused). */
static mb_err replay_one(void *arg, const mb_result *r, const uint64_t *inputs)
{
    driver *d = arg;
    mb_err rc = MB_OK;
    if (d->source.read) {
        mb_batch b = {0};
        if ((rc = mb_source_read_through(&d->source, r->count, &b)) == MB_OK && b.count < r->count)
            rc = mb_error_set(MB_ERR_USAGE, "the input has %llu tasks but journal '%s' records "
                              "more: the input changed since the journal was written; restore "
                              "it, or remove the journal to start over",
                              (unsigned long long)(r->first + b.count), d->job.journal);
        for (uint64_t i = 0; rc == MB_OK && inputs && i < r->count; i++) {
            const char *p = b.bytes.data + b.offsets[i];
            if (mb_journal_input_hash(p, b.offsets[i + 1] - b.offsets[i]) != inputs[i])
                rc = mb_error_set(MB_ERR_USAGE, "task %llu's input changed since journal '%s' "
                                  "recorded its result: restore the input, or remove the "
                                  "journal to start over", (unsigned long long)(r->first + i),
                                  d->job.journal);
        }
        mb_batch_free(&b);
    }
    return rc == MB_OK ? mb_collector_replay(d->col, r) : rc;
}

/* Rank 0: the failure limit, then the journal; resuming replays what it
 * recorded (replay_one) and the schedule starts after it. */
static mb_err open_journal(driver *d)
{
    const mb_kernel *k = d->job.kernel;
    mb_collector_set_limit(d->col, d->job.max_fail_count, d->job.max_fail_percent);
    if (!d->job.journal)
        return MB_OK;
    uint64_t hash = mb_journal_spec_hash(d->job.spec, k->name, k->options);
    /* An existing journal of this job is continued: the same command line
     * resumes a stopped job (--resume is implied). */
    mb_err rc = mb_journal_open(&d->journal, d->job.journal, hash,
                                mb_row_len(mb_kernel_record_len(d->fields, d->nfields)),
                                1, d->job.journal_interval, replay_one, d,
                                &d->resumed);
    d->journal_ours = rc == MB_OK && d->job.journal_default;
    d->islands = mb_journal_island_tasks(d->journal);
    if (rc == MB_OK && k->ntasks && d->resumed > k->ntasks(d->kstate))
        rc = mb_error_set(MB_ERR_USAGE, "journal '%s' records %llu tasks, more than the job's %llu",
                          d->job.journal, (unsigned long long)d->resumed,
                          (unsigned long long)k->ntasks(d->kstate));
    mb_collector_set_journal(d->col, d->journal);
    return rc;
}

/* Rank 0 opens the input and creates the output and report files (local
 * stand-ins for URLs) before any work is done, so a bad path fails at once. */
static mb_err open_outputs(driver *d)
{
    mb_err rc = MB_OK;
    if (d->rank == 0) {
        char *spec = public_spec(&d->job);
        if (!spec)
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
        if (rc == MB_OK && d->job.kernel->open_source)
            rc = d->job.kernel->open_source(d->kstate, &d->job, &d->source);
        if (rc == MB_OK && d->job.out && (rc = mb_stage_output(&d->out_at, d->job.out)) == MB_OK)
            rc = mb_output_open(&d->out, d->out_at.local, d->fields, d->nfields,
                                d->job.kernel->name, spec);
        if (rc == MB_OK && d->job.report &&
            (rc = mb_stage_output(&d->report_at, d->job.report)) == MB_OK)
            rc = mb_report_open(&d->report, d->report_at.local);
        if (rc == MB_OK)
            rc = mb_collector_init(&d->col, d->job.kernel, d->kstate,
                                   mb_kernel_record_len(d->fields, d->nfields), d->size, d->out);
        if (rc == MB_OK)
            rc = open_journal(d);
        if (rc == MB_OK)
            rc = mb_progress_open(&d->progress, &d->job, d->col, d->size, d->hosts,
                                  d->job.kernel->ntasks ? d->job.kernel->ntasks(d->kstate)
                                                        : d->source.total, stderr);
        free(spec);
    }
    return mb_comm_agree(d->comm, rc);
}

/* Under the dynamic schedule with other ranks, rank 0 only hands out work
 * for a kernel of long tasks that cannot serve from inside them. */
static int root_serves_only(const driver *d)
{
    unsigned f = d->job.kernel->flags;
    return d->size > 1 && d->job.schedule == MB_SCHEDULE_DYNAMIC && (f & MB_KERNEL_LONG_TASKS) &&
           !(f & MB_KERNEL_WAITS_IDLE);
}

static mb_err schedule(driver *d, double t0)
{
    mb_run run = {
        .comm = d->comm, .rank = d->rank, .size = d->size,
        .kernel = d->job.kernel, .kstate = d->kstate,
        .reclen = mb_kernel_record_len(d->fields, d->nfields),
        .ntasks = d->job.kernel->ntasks ? d->job.kernel->ntasks(d->kstate) : 0,
        .source = d->rank == 0 && d->source.read ? &d->source : NULL,
        .chunk = d->job.chunk, .t0 = t0, .col = d->col, .journal = d->journal,
        .first = d->resumed, .retries = d->job.retries,
        .speculate_after = d->job.speculate_after, .progress = d->progress,
        .root_serves_only = root_serves_only(d),
        .heartbeat = mb_job_num(&d->job, "heartbeat"), .hosts = d->hosts, .lost = -1,
    };
    mb_err rc = d->job.schedule == MB_SCHEDULE_STATIC ? mb_schedule_static(&run)
                                                      : mb_schedule_dynamic(&run);
    d->retried = run.retried;
    d->speculated = run.speculated;
    d->dispatched = run.dispatched;
    d->lost = run.lost;
    d->input_done = run.input_done;
    memcpy(d->ending, run.ending, sizeof d->ending);
    return rc;
}

/* SLURM_RESTART_COUNT (how often Slurm requeued the job), or -1. */
static int restart_count(void)
{
    const char *v = getenv("SLURM_RESTART_COUNT");
    return v && *v ? atoi(v) : -1;
}

/* Rank 0: the report of this run, committed if --report was given;
 * result (the kernel's summary) is moved into it.  *out receives it when
 * not NULL (the caller then deletes it). */
static mb_err write_report(driver *d, double started, cJSON *result, const char *state,
                           cJSON **out)
{
    uint64_t done = mb_collector_done(d->col);
    mb_report_run run = {
        .job = &d->job, .nranks = d->size, .hosts = d->hosts,
        .tasks = done, .failed = mb_collector_failed(d->col),
        .wall_seconds = mb_clock_now() - started, .stats = mb_collector_stats(d->col),
        .retried = d->retried, .resumed = d->resumed + d->islands, .speculated = d->speculated,
        .state = state, .ending = *d->ending ? d->ending : NULL,
        .not_done = d->dispatched > (d->recorded > done ? d->recorded : done)
                    ? d->dispatched - (d->recorded > done ? d->recorded : done) : 0,
        .time_left = d->deadline <= 0 ? -1 : d->deadline > mb_clock_wall()
                     ? d->deadline - mb_clock_wall() : 0,
        .restart_count = restart_count(), .root_served_only = root_serves_only(d),
    };
    cJSON *report;
    mb_err rc = MB_OK;
    run.failures = mb_collector_failures(d->col, &run.nfailures);
    if (!(report = mb_report_build(&run, result)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory building the report");
    if (d->report) {
        rc = mb_report_commit(d->report, report);
        d->report = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&d->report_at, &d->url);
    }
    if (out && rc == MB_OK)
        *out = report;
    else
        cJSON_Delete(report);
    return rc;
}

/* Rank 0: results, output file, report, summary.  limit (--max-failures
 * stopped the job, NULL if not): the output holds the tasks done and says
 * why in its "ending" attribute, the report's state is "failed" and the
 * journal is kept. */
static mb_err finish(driver *d, double started, const char *limit)
{
    cJSON *result = cJSON_CreateObject(), *report = NULL;
    const mb_kernel *k = d->job.kernel;
    mb_err rc = MB_OK;
    char *text;
    if (!result)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    /* Every result is on disk in the journal before the output appears. */
    rc = mb_journal_close(d->journal);
    d->journal = NULL;
    if (rc != MB_OK || (k->summarize && (rc = k->summarize(d->kstate, result)) != MB_OK)) {
        cJSON_Delete(result);
        return rc;
    }
    text = cJSON_PrintUnformatted(result);
    if (d->out) {
        if (limit)
            rc = mb_output_set_ending(d->out, limit);
        if (rc == MB_OK)
            rc = mb_output_close(d->out, d->hosts, d->size, text ? text : "{}");
        else
            mb_output_discard(d->out);
        d->out = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&d->out_at, &d->url);
    }
    free(text);
    /* The output is complete: the default journal has served its purpose. */
    if (rc == MB_OK && !limit && d->job.journal_default && unlink(d->job.journal) != 0)
        fprintf(stderr, "mpibatch: warning: cannot remove journal '%s'\n", d->job.journal);
    if (limit)
        snprintf(d->ending, sizeof d->ending, "%s", limit);
    if (rc == MB_OK)
        rc = write_report(d, started, result, limit ? "failed" : "complete", &report);
    else
        cJSON_Delete(result);
    if (rc == MB_OK && !d->job.quiet)
        mb_report_print_summary(report, stdout);
    cJSON_Delete(report);
    if (rc == MB_OK && limit)
        return mb_error_set(MB_ERR_TASKS, "%s; %s%s%s%s%s", limit,
                            d->job.out ? "the output holds the tasks done" : "",
                            d->job.out && d->job.journal ? ", " : "",
                            d->job.journal ? "journal '" : "",
                            d->job.journal ? d->job.journal : "",
                            d->job.journal ? "' keeps them" : "");
    if (rc == MB_OK && mb_collector_failed(d->col) > 0)
        rc = mb_error_set(MB_ERR_TASKS, "%llu of %llu tasks failed",
                          (unsigned long long)mb_collector_failed(d->col),
                          (unsigned long long)mb_collector_done(d->col));
    return rc;
}

/* Rank 0: a job that stopped before its end keeps its journal and leaves
 * no output; the report, the status document and one line on stderr say
 * why and how to continue. */
static mb_err finish_stopped(driver *d, double started)
{
    cJSON *result = cJSON_CreateObject();
    const mb_kernel *k = d->job.kernel;
    char when[32] = "", total[32] = "an unknown number of";
    time_t now = time(NULL);
    struct tm tm;
    /* Finished tasks still waiting for an earlier one are in the journal
     * too, not in the collector's count. */
    d->recorded = d->journal ? mb_journal_recorded(d->journal) : mb_collector_done(d->col);
    mb_err rc = mb_journal_close(d->journal);
    d->journal = NULL;
    mb_output_discard(d->out);
    d->out = NULL;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, " at %Y-%m-%dT%H:%M:%SZ", &tm);
    size_t n = strlen(d->ending);
    snprintf(d->ending + n, sizeof d->ending - n, "%s", when);
    mb_progress_set_ending(d->progress, d->ending);
    if (result && k->summarize)
        k->summarize(d->kstate, result);
    mb_err st = write_report(d, started, result, "stopped", NULL);
    if (rc == MB_OK)
        rc = st;
    if (d->input_done || k->ntasks || d->source.total)
        snprintf(total, sizeof total, "%llu", (unsigned long long)(k->ntasks
                 ? k->ntasks(d->kstate) : d->input_done ? d->dispatched : d->source.total));
    if (rc != MB_OK)
        return rc;
    if (d->job.journal)
        return mb_error_set(MB_ERR_STOPPED, "%s with %llu of %s tasks done; journal '%s' keeps "
                            "them: run the same command again to continue", d->ending,
                            (unsigned long long)d->recorded, total, d->job.journal);
    return mb_error_set(MB_ERR_STOPPED, "%s with %llu of %s tasks done; no journal was kept "
                        "(no --out, or --no-journal): the same command starts over", d->ending,
                        (unsigned long long)mb_collector_done(d->col), total);
}

/* Rank 0: a job that failed with an error (bad input, I/O, usage; not
 * stopped, not --max-failures) removes the default journal it opened, so
 * the next job writing the same output is not refused for it; one named
 * with --journal is kept. */
static void drop_default_journal(driver *d, mb_err rc)
{
    if (d->rank != 0 || !d->journal_ours || rc == MB_OK || rc == MB_ERR_TASKS ||
        rc == MB_ERR_STOPPED)
        return;
    mb_journal_close(d->journal);
    d->journal = NULL;
    unlink(d->job.journal);
    d->journal_ours = 0;
}

static void cleanup(driver *d)
{
    mb_stop_uninstall();
    mb_source_close(&d->source);
    mb_output_discard(d->out);
    mb_stage_release(&d->out_at);
    mb_stage_release(&d->report_at);
    mb_report_discard(d->report);
    mb_journal_close(d->journal);
    mb_progress_close(d->progress, MB_PROGRESS_FAILED);
    mb_collector_free(d->col);
    if (d->kstate)
        d->job.kernel->teardown(d->kstate);
    mb_job_free(&d->job);
    free(d->hostbuf);
    free(d->hosts);
    MPI_Comm_free(&d->comm);
}

/* Rank 0: the last status document says how the job ended (failed tasks
 * alone do not make it "failed"). */
static mb_err close_progress(driver *d, mb_err rc)
{
    mb_progress_state state = rc == MB_OK || rc == MB_ERR_TASKS ? MB_PROGRESS_FINISHED
                              : rc == MB_ERR_STOPPED ? MB_PROGRESS_STOPPED : MB_PROGRESS_FAILED;
    mb_err st = mb_progress_close(d->progress, state);
    d->progress = NULL;
    return rc != MB_OK ? rc : st;
}

/* --deadline TEXT as Unix seconds: a duration from start ("90", "90s",
 * "30m", "2h", "1d") or a local time ("2026-12-06T18:00[:SS]", "18:00[:SS]",
 * the next such time). */
static mb_err parse_deadline(const char *text, double start, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    struct tm tm;
    const char *rest;
    time_t now = (time_t)start;
    if (end != text && v >= 0 && (!*end || !end[1])) {
        const char *units = "smhd";
        static const double scale[] = {1, 60, 3600, 86400};
        const char *u = *end ? strchr(units, *end) : units;
        if (u) {
            *out = start + v * scale[u - units];
            return MB_OK;
        }
    }
    localtime_r(&now, &tm);
    if ((rest = strptime(text, "%Y-%m-%dT%H:%M", &tm)) ||
        (rest = strptime(text, "%H:%M", &tm))) {
        if (*rest == ':' && !(rest = strptime(rest, ":%S", &tm)))
            rest = "x";
        if (!*rest) {
            tm.tm_isdst = -1;
            *out = (double)mktime(&tm);
            if (*out <= start && !strchr(text, 'T'))
                *out += 86400; /* a time of day already past: tomorrow's */
            return MB_OK;
        }
    }
    return mb_error_set(MB_ERR_USAGE, "'deadline' must be a time (2026-12-06T18:00, 18:00) or "
                        "a duration (90, 90s, 30m, 2h, 1d), not '%s'", text);
}

/* Rank 0: the job's end under Slurm, asked once: SLURM_JOB_END_TIME where
 * Slurm sets it, else squeue (Slurm 22.05 does not set it).  0 if none. */
static double slurm_end(void)
{
    const char *env = getenv("SLURM_JOB_END_TIME"), *id = getenv("SLURM_JOB_ID");
    char cmd[96], line[64] = "";
    struct tm tm;
    FILE *p;
    if (env && atof(env) > 0)
        return atof(env);
    if (!id || strspn(id, "0123456789_") != strlen(id) || strlen(id) > 40)
        return 0;
    snprintf(cmd, sizeof cmd, "squeue -h -j %s -o %%e 2>/dev/null", id);
    if (!(p = popen(cmd, "r")))
        return 0;
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    pclose(p);
    memset(&tm, 0, sizeof tm);
    tm.tm_isdst = -1;
    return strptime(line, "%Y-%m-%dT%H:%M:%S", &tm) ? (double)mktime(&tm) : 0;
}

/* Rank 0: the deadline (Unix seconds, 0: none) from --deadline or the
 * Slurm job's end, less 10 s to write the outputs before Slurm's SIGTERM. */
static mb_err find_deadline(driver *d, double start, double *deadline)
{
    const char *text = mb_job_str(&d->job, "deadline");
    double end;
    *deadline = 0;
    if (text)
        return parse_deadline(text, start, deadline);
    if ((end = slurm_end()) > 0)
        *deadline = end - 10;
    return MB_OK;
}

/* Every rank: the deadline on its own clock, and the status document. */
static mb_err share_deadline(driver *d, double start)
{
    double deadline = 0;
    mb_err rc = d->rank == 0 ? find_deadline(d, start, &deadline) : MB_OK;
    if ((rc = mb_comm_agree(d->comm, rc)) != MB_OK)
        return rc;
    if ((rc = mb_mpi_check(MPI_Bcast(&deadline, 1, MPI_DOUBLE, 0, d->comm), "MPI_Bcast")) != MB_OK)
        return rc;
    d->deadline = deadline;
    mb_progress_set_deadline(d->progress, deadline);
    if (deadline > 0)
        mb_stop_set_deadline(mb_clock_now() + (deadline - mb_clock_wall()),
                             mb_job_num(&d->job, "task-time"));
    return MB_OK;
}

/* A job's phases; returns the first error, already agreed by all ranks. */
static mb_err run_job(driver *d, double started)
{
    double t0 = mb_clock_wall();
    mb_url_opts_from_spec(d->job.spec, &d->url);
    /* From here a signal drains the job rather than killing it. */
    mb_stop_install(d->job.drain_grace);
    mb_err rc = setup(d);
    /* --dry-run: the kernel has said what it would run; nothing more. */
    if (rc != MB_OK || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d->job.spec, "dry-run")))
        return rc;
    rc = mb_comm_agree(d->comm, gather_hosts(d));
    if (rc == MB_OK)
        rc = open_outputs(d);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Bcast(&t0, 1, MPI_DOUBLE, 0, d->comm), "MPI_Bcast");
    if (rc == MB_OK)
        rc = share_deadline(d, t0);
    if (rc != MB_OK)
        return rc;
    rc = schedule(d, t0);
    if (rc == MB_ERR_STOPPED && d->rank == 0 && d->lost >= 0) {
        /* A rank stopped answering: it cannot take part in an ending, so
         * rank 0 records what finished, says so, and aborts the job. */
        rc = close_progress(d, finish_stopped(d, started));
        fprintf(stderr, "mpibatch: %s\n", mb_error_message());
        fflush(NULL);
        MPI_Abort(d->comm, MB_EXIT_STOPPED);
    }
    if (rc == MB_ERR_STOPPED) {
        /* Every rank knows: the schedule's end was agreed. */
        if (d->rank == 0) {
            const char *limit = mb_collector_limit(d->col);
            mb_progress_set_ending(d->progress, limit);
            rc = close_progress(d, limit ? finish(d, started, limit) : finish_stopped(d, started));
        }
        return mb_comm_agree(d->comm, rc);
    }
    if (rc != MB_OK) {
        /* Remove the partial output before the job is torn down. */
        mb_output_discard(d->out);
        d->out = NULL;
        mb_report_discard(d->report);
        d->report = NULL;
        /* The journal keeps what finished, for --resume. */
        mb_journal_close(d->journal);
        d->journal = NULL;
        drop_default_journal(d, rc);
        mb_progress_close(d->progress, MB_PROGRESS_FAILED);
        d->progress = NULL;
        mb_comm_abort(d->comm, rc);
    }
    if (d->rank == 0)
        rc = close_progress(d, finish(d, started, NULL));
    return mb_comm_agree(d->comm, rc);
}

int mb_main(int argc, char **argv, MPI_Comm world)
{
    driver d;
    int done = 0;
    double started = mb_clock_now();
    mb_err rc;
    memset(&d, 0, sizeof d);
    if (MPI_Comm_dup(world, &d.comm) != MPI_SUCCESS)
        return MB_EXIT_INTERNAL;
    /* Errors come back as codes and are reported with MPI's own text. */
    MPI_Comm_set_errhandler(d.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d.comm, &d.rank);
    MPI_Comm_size(d.comm, &d.size);
    /* Non-kernel commands (benchmarks, tools) parse and run on their own;
     * every rank sees the same argv, so all take the same branch. */
    const mb_command *cmd = argc > 1 ? mb_command_find(argv[1]) : NULL;
    if (cmd) {
        int status = cmd->main(argc - 1, argv + 1, d.comm);
        MPI_Comm_free(&d.comm);
        return status;
    }
    rc = parse(&d, argc, argv, &done);
    if (rc == MB_OK && !done)
        rc = run_job(&d, started);
    if (rc != MB_OK && d.rank == 0) {
        drop_default_journal(&d, rc);
        fprintf(stderr, "mpibatch: %s\n", mb_error_message());
        if (rc == MB_ERR_USAGE)
            fputs("Try 'mpibatch --help' for usage.\n", stderr);
    }
    cleanup(&d);
    return mb_error_exit_status(rc);
}
