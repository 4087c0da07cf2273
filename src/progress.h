/* progress.h - rank 0's view of a running job: the progress line on
 * standard error and the status document (--status FILE).
 *
 * The schedule reports what only it knows (tasks handed out, whether the
 * input has ended, re-runs) through mb_progress_update(); everything else
 * (tasks done and failed, per-rank statistics, the slowest tasks) is read
 * from the collector.  Updates are cheap when nothing is due: one clock
 * read.  Output is rate-limited: the live line is redrawn at most 4 times a
 * second, plain lines and the status document at their intervals.
 */
#ifndef MPIBATCH_PROGRESS_H
#define MPIBATCH_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collector.h"
#include "mpibatch/error.h"
#include "mpibatch/job.h"

typedef struct mb_progress mb_progress;

typedef enum mb_progress_state {
    MB_PROGRESS_RUNNING,
    MB_PROGRESS_FINISHED, /* every task ran (some may have failed: see "failed") */
    MB_PROGRESS_FAILED,   /* the job stopped on an error */
    MB_PROGRESS_STOPPED   /* stopped before the end (signal, deadline, lost rank); the
                           * same command continues it */
} mb_progress_state;

/* What the schedule knows and the collector does not. */
typedef struct mb_progress_feed {
    uint64_t dispatched;  /* distinct tasks handed out so far */
    int input_done;       /* no task follows: the total is `dispatched` */
    uint64_t retried, speculated;
    int running_known;    /* the schedule knows how many tasks run now: */
    uint64_t running;     /* (else: every task handed out and not done runs) */
} mb_progress_feed;

/* The counts of one moment, from which the line and the document are made. */
typedef struct mb_progress_snapshot {
    double elapsed;       /* seconds since mb_progress_open() */
    int total_known;      /* 0: streamed input whose end is not reached yet */
    uint64_t total, done, failed, running, pending, retried, speculated;
    double rate;          /* tasks done per second since the start */
    double eta;           /* seconds until done at that rate; < 0 unknown */
} mb_progress_snapshot;

/* Where the job's progress goes, from the options of job ("progress",
 * "progress-interval", "status", "status-interval", "quiet"); rank 0 only.
 * col, hosts (nranks entries) and err must outlive the object; ntasks 0
 * means the task count is not known in advance.  With --status the first
 * document is written at once, so a bad path fails before any work.  *p is
 * NULL when there is nothing to show; the caller owns it otherwise and ends
 * it with mb_progress_close(). */
mb_err mb_progress_open(mb_progress **p, const mb_job *job, const mb_collector *col,
                        int nranks, const char *const *hosts, uint64_t ntasks, FILE *err);

/* Record the schedule's counts and draw or write whatever is due.  When
 * every task has been collected the progress line is finished here, before
 * the driver prints its summary.  A failed status write warns once on err
 * and the job goes on.  p may be NULL. */
void mb_progress_update(mb_progress *p, const mb_progress_feed *feed);

/* Finish the line if it is not yet, write the final status document with
 * state (FINISHED becomes FAILED unless every task was collected), and
 * free p (NULL is fine).  Returns an error only if that last
 * document could not be written (MB_ERR_IO). */
mb_err mb_progress_close(mb_progress *p, mb_progress_state state);

/* Say in the status document why the job is ending ("ending": e.g.
 * "stopped by SIGTERM at 2026-12-06T15:20:11Z"); text is copied.  p may
 * be NULL. */
void mb_progress_set_ending(mb_progress *p, const char *text);
/* The job's deadline (Unix seconds; <= 0: none), shown as "deadline" and
 * "time_left_seconds".  p may be NULL. */
void mb_progress_set_deadline(mb_progress *p, double unix_seconds);
/* The counts now (p not NULL). */
void mb_progress_snapshot_now(const mb_progress *p, mb_progress_snapshot *s);

/* Seconds until total tasks are done at rate tasks per second: 0 once
 * done reaches total, -1 when unknown (total 0: not known; rate 0). */
double mb_progress_eta(uint64_t done, uint64_t total, double rate);

/* A duration for people: "7s", "4m05s", "2h03m", "3d04h"; "?" if < 0. */
void mb_progress_format_duration(double seconds, char *buf, size_t n);

/* A rate with sensible digits: "0.25", "35.2", "1250". */
void mb_progress_format_rate(double rate, char *buf, size_t n);

/* The one-line summary of s, without a newline:
 * "120/400 tasks done (30.0%), 2 failed, 35.2 tasks/s, elapsed 12s, ETA 8s". */
void mb_progress_format_line(const mb_progress_snapshot *s, char *buf, size_t n);

/* The status document of p now (keys: docs/user-guide.md, "Status
 * document").  The caller owns it (cJSON_Delete); NULL when out of memory. */
cJSON *mb_progress_document(const mb_progress *p, mb_progress_state state);

/* Failures listed in the status document ("failures"): the first ones. */
#define MB_PROGRESS_FAILURES 20

/* Replace path's content with text atomically: a temporary file in the
 * same directory, written, fsync'ed and renamed over path, so a reader sees
 * the old or the new content, never a part.  what names the file in
 * messages ("status file").  Errors are MB_ERR_IO. */
mb_err mb_progress_write_file(const char *path, const char *text, const char *what);

#endif
