/* job.h - a validated job: the kernel, its spec and the common settings.
 *
 * The canonical spec is a JSON object holding every option of the common
 * table and the kernel's table, defaults filled in.  It is what rank 0
 * broadcasts, what the output stores, and what kernels read their
 * parameters from.
 */
#ifndef MPIBATCH_JOB_H
#define MPIBATCH_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"
#include "mpibatch/kernel.h"
#include "mpibatch/options.h"

typedef enum mb_schedule { MB_SCHEDULE_STATIC, MB_SCHEDULE_DYNAMIC } mb_schedule;

typedef struct mb_job {
    const mb_kernel *kernel;
    cJSON *spec;          /* canonical spec, owned by the job */
    mb_schedule schedule;
    uint64_t chunk;       /* tasks per chunk; 0 until mb_job_set_chunk() */
    const char *out;      /* HDF5 output path or NULL (points into spec) */
    const char *report;   /* report JSON path or NULL (points into spec) */
    bool quiet;           /* no human summary on stdout */
    unsigned retries;     /* re-runs of a failed task */
    uint64_t max_fail_count;   /* stop when more tasks failed; UINT64_MAX: no limit */
    double max_fail_percent;   /* stop above this % of tasks done; < 0: no limit */
    const char *journal;  /* journal path or NULL (into spec, or journal_buf) */
    double journal_interval;   /* seconds between journal syncs */
    bool resume;          /* replay the journal and skip its tasks */
    double speculate_after;    /* multiple of the median chunk time; 0: off */
    char *journal_buf;    /* the default journal's path (owned), or NULL */
    bool journal_default; /* journal is the default one beside the output: removed
                           * once the output is complete */
    double drain_grace;   /* seconds running tasks may finish after a signal */
} mb_job;

/* The options every kernel accepts (schedule, chunk, out, report, quiet,
 * and the failure, journal, stopping and speculation settings). */
extern const mb_option mb_job_options[];

/* Build a job from a spec object holding "kernel" and option keys; takes
 * ownership of spec whatever the outcome.  where names the origin for
 * messages. */
mb_err mb_job_from_spec(cJSON *spec, const char *where, mb_job *job);

/* Parse JSON text (a job file's content or the broadcast spec) into a job. */
mb_err mb_job_from_text(const char *text, const char *where, mb_job *job);

/* Fix the chunk size once the task and rank counts are known (ntasks 0:
 * tasks come from input and are not counted in advance): the
 * user's --chunk, or the documented default for the schedule.  The spec's
 * "chunk" key is updated to the value used. */
void mb_job_set_chunk(mb_job *job, uint64_t ntasks, int nranks);

/* Typed reads of validated options (the option must exist in the tables). */
int64_t mb_job_int(const mb_job *job, const char *name);
double mb_job_num(const mb_job *job, const char *name);
const char *mb_job_str(const mb_job *job, const char *name); /* NULL if unset */

/* The canonical spec as compact JSON; caller frees with free(). */
char *mb_job_to_text(const mb_job *job);

void mb_job_free(mb_job *job);

#endif
