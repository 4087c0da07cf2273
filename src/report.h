/* report.h - the JSON report (a stable interface) and the stdout summary.
 *
 * Keys (docs/report.md): program, version, kernel, schedule, chunk, ranks,
 * hosts, tasks, tasks_failed, tasks_retried, tasks_resumed,
 * speculative_runs, wall_seconds, tasks_per_second,
 * load_imbalance, per_rank [{rank, host, tasks, busy_seconds,
 * idle_seconds}], failures [{task, reason}] (the first 100), result (the
 * kernel's summary), job (the spec), output, state ("complete", "stopped"
 * or "failed"), ending (why it stopped, or null), tasks_not_done,
 * time_left_seconds (before the deadline, or null), slurm_restart_count.
 */
#ifndef MPIBATCH_REPORT_H
#define MPIBATCH_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "collector.h"
#include "mpibatch/error.h"
#include "mpibatch/job.h"

typedef struct mb_report_run {
    const mb_job *job;
    int nranks;
    const char *const *hosts;     /* one per rank */
    uint64_t tasks, failed;
    uint64_t retried;             /* re-runs of failed tasks started */
    uint64_t resumed;             /* tasks replayed from the journal */
    uint64_t speculated;          /* speculative chunk runs started */
    double wall_seconds;
    int root_served_only;         /* rank 0 ran no task by design: not in load_imbalance */
    const mb_rank_stats *stats;   /* one per rank */
    const mb_failure *failures;   /* the first failures, in task order */
    size_t nfailures;
    const char *state;            /* "complete", "stopped", "failed"; NULL: "complete" */
    const char *ending;           /* why it ended early, NULL if it did not */
    uint64_t not_done;            /* tasks known but not done (a stopped job) */
    double time_left;             /* seconds before the deadline; < 0: no deadline */
    int restart_count;            /* SLURM_RESTART_COUNT; < 0: not under Slurm requeue */
} mb_report_run;

/* Build the report; result (the kernel summary) is moved into it.  The
 * caller owns the returned object (cJSON_Delete). NULL when out of memory. */
cJSON *mb_report_build(const mb_report_run *run, cJSON *result);

typedef struct mb_report_file mb_report_file;

/* Create path's temporary file now, so a bad path fails before any work.
 * The caller owns *f until mb_report_commit() or mb_report_discard(). */
mb_err mb_report_open(mb_report_file **f, const char *path);

/* Write the report and rename it into place; frees f. */
mb_err mb_report_commit(mb_report_file *f, const cJSON *report);

/* Remove the temporary file and free f (NULL is fine). */
void mb_report_discard(mb_report_file *f);

/* A short human summary of a report. */
void mb_report_print_summary(const cJSON *report, FILE *fp);

#endif
