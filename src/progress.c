/* progress.c - the progress line and the status document of a running job. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mpibatch/clock.h"
#include "output.h"
#include "stop.h"
#include "atomic.h"
#include "progress.h"
#include "io/url.h"

/* A terminal line redrawn more often than this only flickers. */
#define LIVE_EVERY 0.25

typedef enum line_mode { LINE_NONE, LINE_LIVE, LINE_PLAIN } line_mode;

struct mb_progress {
    const mb_collector *col;
    int nranks;
    const char *const *hosts;
    uint64_t ntasks;           /* 0: not known in advance */
    FILE *err;
    double t_start, wall_start;
    mb_progress_feed feed;     /* the schedule's latest counts */
    line_mode line;
    int final_line;            /* plain: print the last line even if none came before */
    double line_every, next_line;
    size_t drawn;              /* width of the live line now on the terminal */
    int lines;                 /* plain lines printed */
    int line_done;             /* the line has been finished */
    char *status;              /* --status path, or NULL */
    double status_every, next_status;
    int status_warned;
    char *kernel;
    cJSON *spec;               /* the job spec, secrets in URLs redacted */
    char *ending;              /* why the job is ending early, or NULL */
    int drain_told;            /* the status document said a drain began */
    double deadline;           /* Unix seconds, 0: none */
};

/* ---- formatting (pure) ------------------------------------------------- */

double mb_progress_eta(uint64_t done, uint64_t total, double rate)
{
    if (total == 0)
        return -1;
    if (done >= total)
        return 0;
    return rate > 0 ? (double)(total - done) / rate : -1;
}

void mb_progress_format_duration(double s, char *buf, size_t n)
{
    /* Rounded to whole seconds first, so 59.6 s reads "1m00s", not "60s". */
    double r = floor(s + 0.5);
    if (s < 0 || !isfinite(s))
        snprintf(buf, n, "?");
    else if (r < 60)
        snprintf(buf, n, "%.0fs", r);
    else if (r < 3600)
        snprintf(buf, n, "%.0fm%02.0fs", floor(r / 60), fmod(r, 60));
    else if (r < 86400)
        snprintf(buf, n, "%.0fh%02.0fm", floor(r / 3600), floor(fmod(r, 3600) / 60));
    else
        snprintf(buf, n, "%.0fd%02.0fh", floor(r / 86400), floor(fmod(r, 86400) / 3600));
}

void mb_progress_format_rate(double rate, char *buf, size_t n)
{
    snprintf(buf, n, rate < 10 ? "%.2f" : rate < 100 ? "%.1f" : "%.0f", rate);
}

void mb_progress_format_line(const mb_progress_snapshot *s, char *buf, size_t n)
{
    char rate[32], elapsed[32], eta[32];
    int len;
    mb_progress_format_rate(s->rate, rate, sizeof rate);
    mb_progress_format_duration(s->elapsed, elapsed, sizeof elapsed);
    mb_progress_format_duration(s->eta, eta, sizeof eta);
    if (s->total_known)
        len = snprintf(buf, n, "%llu/%llu tasks done (%.1f%%)", (unsigned long long)s->done,
                       (unsigned long long)s->total,
                       s->total ? 100.0 * (double)s->done / (double)s->total : 100.0);
    else
        len = snprintf(buf, n, "%llu tasks done", (unsigned long long)s->done);
    if (len < 0 || (size_t)len >= n)
        return;
    /* The ETA needs a total; streamed input shows done and the rate only. */
    snprintf(buf + len, n - (size_t)len, ", %llu failed, %llu running, %s tasks/s, elapsed %s%s%s",
             (unsigned long long)s->failed, (unsigned long long)s->running, rate, elapsed,
             s->total_known ? ", ETA " : "", s->total_known ? eta : "");
}

/* ---- counts ------------------------------------------------------------ */

void mb_progress_snapshot_now(const mb_progress *p, mb_progress_snapshot *s)
{
    const mb_rank_stats *st = mb_collector_stats(p->col);
    uint64_t ran = 0, dispatched = p->feed.dispatched;
    memset(s, 0, sizeof *s);
    s->elapsed = mb_clock_now() - p->t_start;
    s->done = mb_collector_done(p->col);
    s->failed = mb_collector_failed(p->col);
    s->retried = p->feed.retried;
    s->speculated = p->feed.speculated;
    s->total_known = p->ntasks > 0 || p->feed.input_done;
    /* A counted input that changed since its count: the end decides. */
    s->total = p->ntasks > 0 && !p->feed.input_done ? p->ntasks : dispatched;
    if (dispatched < s->done) /* tasks replayed from a journal were never handed out */
        dispatched = s->done;
    /* Handed out but queued behind a running task is pending, not running. */
    s->running = dispatched - s->done;
    if (p->feed.running_known && p->feed.running < s->running)
        s->running = p->feed.running;
    s->pending = s->total_known && s->total > s->done + s->running
                     ? s->total - s->done - s->running : 0;
    /* The rate counts tasks run by this job, not those replayed from a
     * journal (they are in `done` but in no rank's statistics). */
    for (int r = 0; r < p->nranks; r++)
        ran += st[r].tasks;
    s->rate = s->elapsed > 0 ? (double)ran / s->elapsed : 0;
    s->eta = s->total_known ? mb_progress_eta(s->done, s->total, s->rate) : -1;
}

/* ---- the status document ----------------------------------------------- */

static const char *state_name(mb_progress_state state)
{
    switch (state) {
    case MB_PROGRESS_FINISHED: return "finished";
    case MB_PROGRESS_FAILED: return "failed";
    case MB_PROGRESS_STOPPED: return "stopped";
    case MB_PROGRESS_RUNNING: break;
    }
    return "running";
}

/* UTC in ISO 8601, e.g. "2026-11-02T14:03:59Z". */
static cJSON *iso_time(double unix_seconds)
{
    char buf[32];
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return cJSON_CreateNull();
    return cJSON_CreateString(buf);
}

static cJSON *count_or_null(int known, uint64_t v)
{
    return known ? cJSON_CreateNumber((double)v) : cJSON_CreateNull();
}

static cJSON *per_rank(const mb_progress *p)
{
    const mb_rank_stats *st = mb_collector_stats(p->col);
    cJSON *list = cJSON_CreateArray();
    for (int r = 0; list && r < p->nranks; r++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", r);
        cJSON_AddStringToObject(o, "host", p->hosts[r]);
        cJSON_AddNumberToObject(o, "tasks", (double)st[r].tasks);
        cJSON_AddNumberToObject(o, "busy_seconds", st[r].busy_seconds);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

static cJSON *slowest(const mb_progress *p)
{
    size_t n;
    const mb_slow_task *slow = mb_collector_slowest(p->col, &n);
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "task", (double)slow[i].task);
        cJSON_AddNumberToObject(o, "seconds", slow[i].seconds);
        cJSON_AddNumberToObject(o, "rank", slow[i].rank);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

/* The first failures (MB_PROGRESS_FAILURES at most), in task order. */
static cJSON *failures(const mb_progress *p)
{
    size_t n;
    const mb_failure *f = mb_collector_failures(p->col, &n);
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < n && i < MB_PROGRESS_FAILURES; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "task", (double)f[i].task);
        cJSON_AddStringToObject(o, "reason", f[i].reason);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

cJSON *mb_progress_document(const mb_progress *p, mb_progress_state state)
{
    mb_progress_snapshot s;
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    mb_progress_snapshot_now(p, &s);
    cJSON_AddStringToObject(d, "program", "mpibatch");
    cJSON_AddStringToObject(d, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(d, "kernel", p->kernel);
    cJSON_AddStringToObject(d, "state", state_name(state));
    cJSON_AddItemToObject(d, "started", iso_time(p->wall_start));
    cJSON_AddItemToObject(d, "updated", iso_time(mb_clock_wall()));
    cJSON_AddNumberToObject(d, "elapsed_seconds", s.elapsed);
    cJSON_AddItemToObject(d, "total", count_or_null(s.total_known, s.total));
    cJSON_AddNumberToObject(d, "done", (double)s.done);
    cJSON_AddNumberToObject(d, "failed", (double)s.failed);
    cJSON_AddNumberToObject(d, "running", (double)s.running);
    cJSON_AddItemToObject(d, "pending", count_or_null(s.total_known, s.pending));
    cJSON_AddNumberToObject(d, "retried", (double)s.retried);
    cJSON_AddNumberToObject(d, "speculated", (double)s.speculated);
    cJSON_AddNumberToObject(d, "tasks_per_second", s.rate);
    cJSON_AddItemToObject(d, "eta_seconds",
                          s.eta >= 0 ? cJSON_CreateNumber(s.eta) : cJSON_CreateNull());
    cJSON_AddItemToObject(d, "ending", p->ending ? cJSON_CreateString(p->ending)
                                                 : cJSON_CreateNull());
    cJSON_AddItemToObject(d, "deadline", p->deadline > 0 ? iso_time(p->deadline)
                                                         : cJSON_CreateNull());
    cJSON_AddItemToObject(d, "time_left_seconds", p->deadline > 0
                          ? cJSON_CreateNumber(fmax(0, p->deadline - mb_clock_wall()))
                          : cJSON_CreateNull());
    /* Who writes it: `mpibatch status` on this host tells a job whose
     * rank 0 was killed (no last word) from one still running. */
    cJSON_AddStringToObject(d, "host", p->hosts[0]);
    cJSON_AddNumberToObject(d, "pid", (double)getpid());
    cJSON_AddNumberToObject(d, "ranks", p->nranks);
    cJSON_AddItemToObject(d, "per_rank", per_rank(p));
    cJSON_AddItemToObject(d, "slowest", slowest(p));
    cJSON_AddItemToObject(d, "failures", failures(p));
    cJSON_AddItemToObject(d, "job", cJSON_Duplicate(p->spec, 1));
    return d;
}

mb_err mb_progress_write_file(const char *path, const char *text, const char *what)
{
    mb_atomic a;
    FILE *fp = NULL;
    mb_err rc = mb_atomic_begin(&a, path);
    if (rc != MB_OK)
        return rc;
    if ((rc = mb_atomic_fopen(&a, what, &fp)) == MB_OK && fputs(text, fp) == EOF)
        rc = mb_error_set(MB_ERR_IO, "cannot write %s '%s': %s", what, path, strerror(errno));
    return mb_atomic_finish(&a, rc, fp, 1, what);
}

static mb_err write_status(const mb_progress *p, mb_progress_state state);

/* While a drain runs, the document a second signal leaves (stop.c writes
 * it from its handler): the counts of now, the job stopped at once. */
static void set_last_word(const mb_progress *p)
{
    char ending[320];
    cJSON *doc = mb_progress_document(p, MB_PROGRESS_STOPPED);
    char *text = NULL;
    snprintf(ending, sizeof ending, "stopped at once by a second signal while %s",
             p->ending ? p->ending : "draining");
    if (doc && cJSON_ReplaceItemInObjectCaseSensitive(doc, "ending", cJSON_CreateString(ending)))
        text = cJSON_Print(doc);
    if (text)
        mb_stop_set_last_word(p->status, text);
    free(text);
    cJSON_Delete(doc);
}

static mb_err write_status(const mb_progress *p, mb_progress_state state)
{
    if (state == MB_PROGRESS_RUNNING && p->drain_told)
        set_last_word(p);
    cJSON *doc = mb_progress_document(p, state);
    char *text = doc ? cJSON_Print(doc) : NULL;
    size_t len = text ? strlen(text) : 0;
    mb_err rc;
    cJSON_Delete(doc);
    if (!text)
        return mb_error_set(MB_ERR_NOMEM, "out of memory building the status document");
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return mb_error_set(MB_ERR_NOMEM, "out of memory building the status document");
    }
    memcpy(line + len, "\n", 2);
    rc = mb_progress_write_file(p->status, line, "status file");
    free(line);
    return rc;
}

/* ---- the line ---------------------------------------------------------- */

static void draw(mb_progress *p, int last)
{
    mb_progress_snapshot s;
    char text[256];
    mb_progress_snapshot_now(p, &s);
    mb_progress_format_line(&s, text, sizeof text);
    if (p->line == LINE_LIVE) {
        size_t len = strlen(text);
        /* Spaces wipe what a longer previous line left on the terminal. */
        fprintf(p->err, "\rmpibatch: %s%*s%s", text,
                p->drawn > len ? (int)(p->drawn - len) : 0, "", last ? "\n" : "");
        p->drawn = len;
    } else {
        fprintf(p->err, "mpibatch: %s\n", text);
        p->lines++;
    }
    fflush(p->err);
}

/* The last line: live, the line completed; plain, only when lines came
 * before (a job shorter than the interval prints none) or were asked for. */
static void finish_line(mb_progress *p)
{
    if (p->line_done)
        return;
    p->line_done = 1;
    if (p->line == LINE_LIVE || (p->line == LINE_PLAIN && (p->lines > 0 || p->final_line)))
        draw(p, 1);
}

static int all_collected(const mb_progress *p)
{
    return p->feed.input_done && mb_collector_done(p->col) >= p->feed.dispatched;
}

void mb_progress_update(mb_progress *p, const mb_progress_feed *feed)
{
    double now;
    if (!p)
        return;
    p->feed = *feed;
    if (all_collected(p)) {
        finish_line(p);
        return;
    }
    now = mb_clock_now();
    if (p->line != LINE_NONE && !p->line_done && now >= p->next_line) {
        draw(p, 0);
        p->next_line = now + p->line_every;
    }
    /* The moment a drain begins the document says so: a rank 0 that is
     * killed soon after (Open MPI ending the job for a lost host sends
     * SIGTERM, then SIGKILL a second later) still leaves word. */
    if (p->status && !p->drain_told && !p->ending && mb_stop_draining()) {
        char text[128];
        time_t t = time(NULL);
        struct tm tm;
        p->drain_told = 1;
        snprintf(text, sizeof text, "draining (%s)", mb_stop_signal_name(mb_stop_signal()));
        if (gmtime_r(&t, &tm))
            strftime(text + strlen(text), sizeof text - strlen(text), " since %Y-%m-%dT%H:%M:%SZ",
                     &tm);
        mb_progress_set_ending(p, text);
        p->next_status = now;
    }
    if (p->status && now >= p->next_status) {
        if (write_status(p, MB_PROGRESS_RUNNING) != MB_OK && !p->status_warned) {
            /* The results matter more than the view of them: warn once. */
            p->status_warned = 1;
            fprintf(p->err, "%smpibatch: warning: %s; the job goes on\n",
                    p->drawn ? "\n" : "", mb_error_message());
            p->drawn = 0;
        }
        p->next_status = now + p->status_every;
    }
}

void mb_progress_set_ending(mb_progress *p, const char *text)
{
    if (!p)
        return;
    free(p->ending);
    p->ending = text ? strdup(text) : NULL;
}

void mb_progress_set_deadline(mb_progress *p, double unix_seconds)
{
    if (p)
        p->deadline = unix_seconds;
}

static void progress_free(mb_progress *p)
{
    free(p->ending);
    cJSON_Delete(p->spec);
    free(p->status);
    free(p->kernel);
    free(p);
}

mb_err mb_progress_close(mb_progress *p, mb_progress_state state)
{
    mb_err rc = MB_OK;
    if (!p)
        return MB_OK;
    finish_line(p);
    /* A job stopped early (--max-failures) has not finished its tasks. */
    if (state == MB_PROGRESS_FINISHED && !all_collected(p))
        state = MB_PROGRESS_FAILED;
    /* A drain that still let every task finish is no ending. */
    if (state == MB_PROGRESS_FINISHED && p->drain_told)
        mb_progress_set_ending(p, NULL);
    /* The final version below: a later signal leaves it as it is. */
    if (p->drain_told)
        mb_stop_set_last_word(p->status, NULL);
    if (p->status)
        rc = write_status(p, state);
    progress_free(p);
    return rc;
}

/* ---- set-up ------------------------------------------------------------ */

/* auto: live only when standard error is a terminal.  Standard output is
 * no hint: Open MPI's mpirun gives every rank a pseudo-terminal for it even
 * when its own output goes to a file, and a pipe for standard error even at
 * a terminal, so under mpirun `--progress live` must be asked for. */
static line_mode pick_line(const mb_job *job, FILE *err, int *final_line)
{
    const char *mode = mb_job_str(job, "progress");
    *final_line = 0;
    if (job->quiet || !mode || !strcmp(mode, "never"))
        return LINE_NONE;
    if (!strcmp(mode, "live"))
        return LINE_LIVE;
    if (!strcmp(mode, "plain")) {
        *final_line = 1;
        return LINE_PLAIN;
    }
    return isatty(fileno(err)) ? LINE_LIVE : LINE_PLAIN;
}

static mb_err set_status(mb_progress *p, const mb_job *job)
{
    const char *path = mb_job_str(job, "status");
    if (!path)
        return MB_OK;
    if (mb_url_is_remote(path)) {
        char shown[512];
        mb_url_redact(path, shown, sizeof shown);
        return mb_error_set(MB_ERR_USAGE, "'status' must be a local file, not a URL (%s): it is "
                            "rewritten every few seconds", shown);
    }
    if (!(p->status = strdup(path)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    p->status_every = mb_job_num(job, "status-interval");
    return MB_OK;
}

mb_err mb_progress_open(mb_progress **pp, const mb_job *job, const mb_collector *col,
                        int nranks, const char *const *hosts, uint64_t ntasks, FILE *err)
{
    mb_progress *p = calloc(1, sizeof *p);
    mb_err rc;
    *pp = NULL;
    if (!p)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    p->col = col;
    p->nranks = nranks;
    p->hosts = hosts;
    p->ntasks = ntasks;
    p->err = err;
    p->t_start = mb_clock_now();
    p->wall_start = mb_clock_wall();
    p->line = pick_line(job, err, &p->final_line);
    p->line_every = p->line == LINE_LIVE ? LIVE_EVERY : mb_job_num(job, "progress-interval");
    /* The first live line at once; the first plain line after an interval. */
    p->next_line = p->line == LINE_LIVE ? p->t_start : p->t_start + p->line_every;
    p->spec = cJSON_Duplicate(job->spec, 1);
    p->kernel = strdup(job->kernel->name);
    if (!p->spec || !p->kernel)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    else if ((rc = mb_url_redact_json(p->spec)) == MB_OK)
        rc = set_status(p, job);
    /* The first document now, so a bad path fails before any work. */
    if (rc == MB_OK && p->status) {
        rc = write_status(p, MB_PROGRESS_RUNNING);
        p->next_status = p->t_start + p->status_every;
    }
    if (rc != MB_OK || (p->line == LINE_NONE && !p->status)) {
        progress_free(p); /* failed, or nothing to show: no object */
        return rc;
    }
    *pp = p;
    return MB_OK;
}
