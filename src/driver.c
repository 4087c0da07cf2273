/* driver.c - one job from argv to output: parse, set up, schedule, write.
 *
 * Phases are separated by mb_comm_agree(), so an error found on any rank
 * (bad spec, unwritable output) makes every rank leave with the same exit
 * status and rank 0 print one message.  Inside the schedule ranks cannot
 * meet in a collective, so a failure there aborts the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    uint64_t resumed;         /* rank 0: tasks replayed from the journal */
    uint64_t retried, speculated; /* rank 0: from the schedule */
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

static mb_err replay_one(void *arg, const mb_result *r)
{
    return mb_collector_replay(arg, r);
}

/* Rank 0, resuming: a source skips the payloads of the replayed tasks. */
static mb_err skip_payloads(driver *d, uint64_t n)
{
    mb_batch b = {0};
    mb_err rc = MB_OK;
    for (uint64_t left = n; rc == MB_OK && left > 0;) {
        uint64_t want = left < 4096 ? left : 4096;
        mb_batch_clear(&b);
        if ((rc = d->source.read(d->source.state, want, &b)) == MB_OK && b.count < want)
            rc = mb_error_set(MB_ERR_USAGE, "the input has %llu tasks but journal '%s' records "
                              "%llu: the input changed since the journal was written",
                              (unsigned long long)(n - left + b.count), d->job.journal,
                              (unsigned long long)n);
        left -= b.count;
    }
    mb_batch_free(&b);
    return rc;
}

/* Rank 0: the failure limit, then the journal; resuming replays what it
 * recorded through the collector (output rows, reduction) and skips it. */
static mb_err open_journal(driver *d)
{
    const mb_kernel *k = d->job.kernel;
    mb_collector_set_limit(d->col, d->job.max_fail_count, d->job.max_fail_percent);
    if (!d->job.journal)
        return MB_OK;
    uint64_t hash = mb_journal_spec_hash(d->job.spec, k->name, k->options);
    mb_err rc = mb_journal_open(&d->journal, d->job.journal, hash,
                                mb_row_len(mb_kernel_record_len(d->fields, d->nfields)),
                                d->job.resume, d->job.journal_interval, replay_one, d->col,
                                &d->resumed);
    if (rc == MB_OK && d->resumed > 0 && d->source.read)
        rc = skip_payloads(d, d->resumed);
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
                                  d->job.kernel->ntasks ? d->job.kernel->ntasks(d->kstate) : 0,
                                  stderr);
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
        .chunk = d->job.chunk, .t0 = t0, .col = d->col,
        .first = d->resumed, .retries = d->job.retries,
        .speculate_after = d->job.speculate_after, .progress = d->progress,
        .root_serves_only = root_serves_only(d),
    };
    mb_err rc = d->job.schedule == MB_SCHEDULE_STATIC ? mb_schedule_static(&run)
                                                      : mb_schedule_dynamic(&run);
    d->retried = run.retried;
    d->speculated = run.speculated;
    return rc;
}

/* Rank 0: results, output file, report, summary. */
static mb_err finish(driver *d, double started)
{
    cJSON *result = cJSON_CreateObject(), *report;
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
        rc = mb_output_close(d->out, d->hosts, d->size, text ? text : "{}");
        d->out = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&d->out_at, &d->url);
    }
    free(text);
    mb_report_run run = {
        .job = &d->job, .nranks = d->size, .hosts = d->hosts,
        .tasks = mb_collector_done(d->col), .failed = mb_collector_failed(d->col),
        .wall_seconds = mb_clock_now() - started, .stats = mb_collector_stats(d->col),
        .retried = d->retried, .resumed = d->resumed, .speculated = d->speculated,
        .root_served_only = root_serves_only(d),
    };
    run.failures = mb_collector_failures(d->col, &run.nfailures);
    if (!(report = mb_report_build(&run, result)) && rc == MB_OK)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory building the report");
    if (rc == MB_OK && d->report) {
        rc = mb_report_commit(d->report, report);
        d->report = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&d->report_at, &d->url);
    }
    if (rc == MB_OK && !d->job.quiet)
        mb_report_print_summary(report, stdout);
    if (rc == MB_OK && run.failed > 0)
        rc = mb_error_set(MB_ERR_TASKS, "%llu of %llu tasks failed",
                          (unsigned long long)run.failed, (unsigned long long)run.tasks);
    cJSON_Delete(report);
    return rc;
}

static void cleanup(driver *d)
{
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
                                                                 : MB_PROGRESS_FAILED;
    mb_err st = mb_progress_close(d->progress, state);
    d->progress = NULL;
    return rc != MB_OK ? rc : st;
}

/* A job's phases; returns the first error, already agreed by all ranks. */
static mb_err run_job(driver *d, double started)
{
    double t0 = mb_clock_wall();
    mb_url_opts_from_spec(d->job.spec, &d->url);
    mb_err rc = setup(d);
    if (rc == MB_OK)
        rc = mb_comm_agree(d->comm, gather_hosts(d));
    if (rc == MB_OK)
        rc = open_outputs(d);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Bcast(&t0, 1, MPI_DOUBLE, 0, d->comm), "MPI_Bcast");
    if (rc != MB_OK)
        return rc;
    if ((rc = schedule(d, t0)) != MB_OK) {
        /* Remove the partial output before the job is torn down. */
        mb_output_discard(d->out);
        d->out = NULL;
        mb_report_discard(d->report);
        d->report = NULL;
        /* The journal keeps what finished, for --resume. */
        mb_journal_close(d->journal);
        d->journal = NULL;
        mb_progress_close(d->progress, MB_PROGRESS_FAILED);
        d->progress = NULL;
        mb_comm_abort(d->comm, rc);
    }
    if (d->rank == 0)
        rc = close_progress(d, finish(d, started));
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
        fprintf(stderr, "mpibatch: %s\n", mb_error_message());
        if (rc == MB_ERR_USAGE)
            fputs("Try 'mpibatch --help' for usage.\n", stderr);
    }
    cleanup(&d);
    return mb_error_exit_status(rc);
}
