/* status.c - `mpibatch status FILE [--html OUT]`: read a job's status
 * document (written by --status, progress.c) and show it as text or HTML. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* timegm */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "comm.h"
#include "commands/commands.h"
#include "progress.h"
#include "commands/status.h"
#include "wire.h"
#include "optparse.h"

static const mb_option status_options[] = {
    {.name = "html", .type = MB_OPT_STR, .meta = "OUT",
     .help = "write a self-contained HTML page to OUT (- for standard output)"},
    {.name = "watch", .type = MB_OPT_BOOL, .defval = "false",
     .help = "redraw the text (or rewrite the page) every --interval until the job ends"},
    {.name = "interval", .type = MB_OPT_NUM, .defval = "2", .min = 0.1, .max = 3600, .meta = "S",
     .help = "seconds between redraws with --watch"},
    {0}
};

/* ---- reading and checking --------------------------------------------- */

typedef enum kind { K_STR, K_STR_NULL, K_NUM, K_NUM_NULL, K_ARR } kind;

typedef struct key_kind {
    const char *key;
    kind k;
} key_kind;

/* What the printers read: a file lacking any of these is refused whole. */
static const key_kind top_keys[] = {
    {"kernel", K_STR}, {"state", K_STR}, {"started", K_STR_NULL},
    {"elapsed_seconds", K_NUM}, {"total", K_NUM_NULL}, {"done", K_NUM}, {"failed", K_NUM},
    {"running", K_NUM}, {"pending", K_NUM_NULL}, {"retried", K_NUM}, {"speculated", K_NUM},
    {"tasks_per_second", K_NUM}, {"eta_seconds", K_NUM_NULL}, {"per_rank", K_ARR},
    {"slowest", K_ARR}, {NULL, K_NUM}
};
static const key_kind rank_keys[] = {
    {"rank", K_NUM}, {"host", K_STR}, {"tasks", K_NUM}, {"busy_seconds", K_NUM}, {NULL, K_NUM}
};
static const key_kind slow_keys[] = {
    {"task", K_NUM}, {"seconds", K_NUM}, {"rank", K_NUM}, {NULL, K_NUM}
};
static const key_kind fail_keys[] = {{"task", K_NUM}, {"reason", K_STR}, {NULL, K_NUM}};

static const char *const kind_words[] = {
    "a string", "a string or null", "a number", "a number or null", "a list"
};

static int has_kind(const cJSON *v, kind k)
{
    switch (k) {
    case K_STR: return cJSON_IsString(v);
    case K_STR_NULL: return cJSON_IsString(v) || cJSON_IsNull(v);
    case K_NUM: return cJSON_IsNumber(v);
    case K_NUM_NULL: return cJSON_IsNumber(v) || cJSON_IsNull(v);
    case K_ARR: return cJSON_IsArray(v);
    }
    return 0;
}

/* where: "" for the top level, else e.g. "per_rank[3]: ". */
static mb_err check_keys(const cJSON *o, const key_kind *keys, const char *path, const char *where)
{
    if (!cJSON_IsObject(o))
        return mb_error_set(MB_ERR_USAGE, "status file '%s': %sis not a JSON object", path, where);
    for (const key_kind *k = keys; k->key; k++)
        if (!has_kind(cJSON_GetObjectItemCaseSensitive(o, k->key), k->k))
            return mb_error_set(MB_ERR_USAGE, "status file '%s': %skey '%s' is missing or not %s",
                                path, where, k->key, kind_words[k->k]);
    return MB_OK;
}

static mb_err check_list(const cJSON *doc, const char *name, const key_kind *keys,
                         const char *path)
{
    const cJSON *item;
    int i = 0;
    mb_err rc = MB_OK;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, name)) {
        char where[64];
        snprintf(where, sizeof where, "%s[%d]: ", name, i++);
        if ((rc = check_keys(item, keys, path, where)) != MB_OK)
            break;
    }
    return rc;
}

static mb_err check_document(const cJSON *doc, const char *path)
{
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(doc, "program");
    mb_err rc;
    /* A report has "program" and "state" too, but also "wall_seconds". */
    if (!cJSON_IsObject(doc) || !cJSON_IsString(prog) || strcmp(prog->valuestring, "mpibatch") ||
        !cJSON_GetObjectItemCaseSensitive(doc, "state") ||
        cJSON_GetObjectItemCaseSensitive(doc, "wall_seconds"))
        return mb_error_set(MB_ERR_USAGE, "'%s' is not an mpibatch status document (it lacks "
                            "\"program\": \"mpibatch\" or \"state\", or is a report; a job "
                            "writes one with --status)", path);
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(doc, "failures");
    if ((rc = check_keys(doc, top_keys, path, "")) == MB_OK &&
        (rc = check_list(doc, "per_rank", rank_keys, path)) == MB_OK)
        rc = check_list(doc, "slowest", slow_keys, path);
    /* "failures" is optional: documents of older versions lack it. */
    if (rc == MB_OK && fails && !cJSON_IsArray(fails))
        rc = mb_error_set(MB_ERR_USAGE, "status file '%s': key 'failures' is not a list", path);
    if (rc == MB_OK)
        rc = check_list(doc, "failures", fail_keys, path);
    return rc;
}

static mb_err read_text(const char *path, mb_buf *b)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    mb_err rc = MB_OK;
    if (!fp)
        return mb_error_set(MB_ERR_USAGE, "cannot read status file '%s': %s", path,
                            strerror(errno));
    while (rc == MB_OK && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        rc = mb_buf_append(b, chunk, n);
    if (rc == MB_OK && ferror(fp))
        rc = mb_error_set(MB_ERR_USAGE, "cannot read status file '%s': %s", path,
                          strerror(errno));
    fclose(fp);
    return rc == MB_OK ? mb_buf_append(b, "", 1) : rc;
}

/* Line and column of a parse error, so a damaged file is easy to look at. */
static void position(const char *text, const char *at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; at && p < at; p++, ++*col)
        if (*p == '\n') {
            ++*line;
            *col = 0;
        }
}

mb_err mb_status_load(const char *path, cJSON **doc)
{
    mb_buf text = {0};
    const char *at = NULL;
    mb_err rc = read_text(path, &text);
    *doc = NULL;
    if (rc == MB_OK && memchr(text.data, '\0', text.len - 1))
        rc = mb_error_set(MB_ERR_USAGE, "status file '%s' holds a NUL byte: not JSON", path);
    if (rc == MB_OK && !(*doc = cJSON_ParseWithOpts(text.data, &at, 1))) {
        size_t line, col;
        position(text.data, at, &line, &col);
        rc = mb_error_set(MB_ERR_USAGE, "status file '%s':%zu:%zu: malformed JSON%s", path, line,
                          col, text.len == 1 ? " (the file is empty)" : "");
    }
    if (rc == MB_OK && (rc = check_document(*doc, path)) != MB_OK) {
        cJSON_Delete(*doc);
        *doc = NULL;
    }
    mb_buf_free(&text);
    return rc;
}

/* ---- reading values (checked by mb_status_load) ----------------------- */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

/* A count, or "?" for null (the total of input still being read). */
static const char *count(const cJSON *o, const char *key, char *buf, size_t n)
{
    double v = num(o, key);
    snprintf(buf, n, "%.0f", v);
    return v < 0 ? "?" : buf;
}

static double percent_done(const cJSON *doc)
{
    double total = num(doc, "total"), done = num(doc, "done");
    return total > 0 ? 100.0 * done / total : total == 0 ? 100.0 : -1;
}

/* The state as the page and text show it: a finished job with failures
 * is not shown like a clean one.  cls gets the CSS class. */
static const char *state_words(const cJSON *doc, char *buf, size_t n, const char **cls)
{
    const char *state = str(doc, "state");
    double failed = num(doc, "failed");
    *cls = !strcmp(state, "failed") || !strcmp(state, "gone") ? "failed" : !strcmp(state, "running") ? "running"
         : failed > 0 ? "finished-failures" : !strcmp(state, "finished") ? "finished" : "other";
    if (!strcmp(state, "finished") && failed > 0)
        snprintf(buf, n, "finished, %.0f failed", failed);
    else
        snprintf(buf, n, "%s", state);
    return buf;
}

static double max_rank_tasks(const cJSON *doc)
{
    const cJSON *r;
    double most = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "per_rank"))
        if (num(r, "tasks") > most)
            most = num(r, "tasks");
    return most;
}

/* ---- a writer that is gone ------------------------------------------- */

/* Seconds since the document's "updated" (UTC, ISO 8601), or -1. */
static double age(const cJSON *doc)
{
    struct tm tm = {0};
    if (sscanf(str(doc, "updated"), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return difftime(time(NULL), timegm(&tm));
}

static void replace(cJSON *doc, const char *key, cJSON *v)
{
    if (v && !cJSON_ReplaceItemInObjectCaseSensitive(doc, key, v) &&
        !cJSON_AddItemToObject(doc, key, v))
        cJSON_Delete(v);
}

/* Whether process pid has ended: no such process, or (Linux) a zombie that
 * its parent has not reaped yet. */
static int process_gone(pid_t pid)
{
    char path[64], buf[512];
    FILE *fp;
    size_t n;
    if (kill(pid, 0) != 0)
        return errno == ESRCH;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (!(fp = fopen(path, "r")))
        return 0;
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* "PID (COMM) S ...": the state follows the last ')'. */
    const char *close = strrchr(buf, ')');
    return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

/* Rank 0 may die without its last word (SIGKILL, Open MPI ending the job
 * for a lost host, a node's power cut): only its own host can look the
 * process up; elsewhere the age of the last update is shown, not judged. */
void mb_status_judge_writer(cJSON *doc)
{
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(doc, "host");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(doc, "pid");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "job"), "status-interval");
    char me[256], ending[512];
    double old = age(doc), interval = cJSON_IsNumber(every) ? every->valuedouble : 5;
    if (strcmp(str(doc, "state"), "running") != 0)
        return;
    if (cJSON_IsString(host) && cJSON_IsNumber(pid) && pid->valuedouble > 0 &&
        gethostname(me, sizeof me) == 0 && !strcmp(me, host->valuestring) &&
        process_gone((pid_t)pid->valuedouble)) {
        snprintf(ending, sizeof ending, "rank 0 (process %.0f on %s) is gone without saying how "
                 "the job ended (killed, or its host lost); last update %s", pid->valuedouble,
                 host->valuestring, str(doc, "updated"));
        replace(doc, "state", cJSON_CreateString("gone"));
        replace(doc, "ending", cJSON_CreateString(ending));
    } else if (old > 3 * interval + 60) {
        replace(doc, "stale_seconds", cJSON_CreateNumber(old));
    }
}

/* ---- text ------------------------------------------------------------- */

void mb_status_print(const cJSON *doc, const char *path, FILE *fp)
{
    char total[32], pending[32], rate[32], elapsed[32], eta[32], state[64];
    const cJSON *item, *fails = cJSON_GetObjectItemCaseSensitive(doc, "failures");
    const char *cls;
    double pct = percent_done(doc);
    mb_progress_format_rate(num(doc, "tasks_per_second"), rate, sizeof rate);
    mb_progress_format_duration(num(doc, "elapsed_seconds"), elapsed, sizeof elapsed);
    mb_progress_format_duration(num(doc, "eta_seconds"), eta, sizeof eta);
    fprintf(fp, "mpibatch status: %s\n", path);
    fprintf(fp, "  kernel %s, state %s, started %s, elapsed %s\n", str(doc, "kernel"),
            state_words(doc, state, sizeof state, &cls), str(doc, "started"), elapsed);
    fprintf(fp, "  %.0f done of %s", num(doc, "done"), count(doc, "total", total, sizeof total));
    if (pct >= 0)
        fprintf(fp, " (%.1f%%)", pct);
    fprintf(fp, ", %.0f running, %s pending, %.0f failed, %.0f retried, %.0f speculated\n",
            num(doc, "running"), count(doc, "pending", pending, sizeof pending),
            num(doc, "failed"), num(doc, "retried"), num(doc, "speculated"));
    fprintf(fp, "  rate %s tasks/s, ETA %s\n", rate, eta);
    item = cJSON_GetObjectItemCaseSensitive(doc, "ending");
    if (cJSON_IsString(item))
        fprintf(fp, "  ending: %s\n", item->valuestring);
    item = cJSON_GetObjectItemCaseSensitive(doc, "stale_seconds");
    if (cJSON_IsNumber(item)) {
        char quiet[32];
        mb_progress_format_duration(item->valuedouble, quiet, sizeof quiet);
        fprintf(fp, "  no update for %s (it is rewritten every few seconds): the job may have "
                "ended without a last word\n", quiet);
    }
    item = cJSON_GetObjectItemCaseSensitive(doc, "time_left_seconds");
    if (cJSON_IsNumber(item)) {
        char left[32];
        mb_progress_format_duration(item->valuedouble, left, sizeof left);
        fprintf(fp, "  time left before the deadline: %s\n", left);
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "slowest")) > 0)
        fprintf(fp, "\nslowest tasks:\n  %12s %10s %6s\n", "task", "seconds", "rank");
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "slowest"))
        fprintf(fp, "  %12.0f %10.3f %6.0f\n", num(item, "task"), num(item, "seconds"),
                num(item, "rank"));
    if (cJSON_GetArraySize(fails) > 0)
        fprintf(fp, "\nfailed tasks:\n  %12s  %s\n", "task", "reason");
    cJSON_ArrayForEach(item, fails)
        fprintf(fp, "  %12.0f  %s\n", num(item, "task"), str(item, "reason"));
    if (num(doc, "failed") > cJSON_GetArraySize(fails) && cJSON_GetArraySize(fails) > 0)
        fprintf(fp, "  ... and %.0f more (the output's /failures table lists all)\n",
                num(doc, "failed") - cJSON_GetArraySize(fails));
    fprintf(fp, "\nper rank:\n  %6s  %-24s %10s %10s\n", "rank", "host", "tasks", "busy s");
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "per_rank"))
        fprintf(fp, "  %6.0f  %-24s %10.0f %10.3f\n", num(item, "rank"), str(item, "host"),
                num(item, "tasks"), num(item, "busy_seconds"));
}

/* ---- HTML ------------------------------------------------------------- */

void mb_status_escape_html(const char *text, FILE *fp)
{
    for (const char *p = text; *p; p++)
        switch (*p) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: fputc(*p, fp);
        }
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<style>\n"
    "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
    "table { border-collapse: collapse; margin-bottom: 1.5em; }\n"
    "th, td { padding: 0.2em 0.8em; text-align: right; border-bottom: 1px solid #ddd; }\n"
    "th { background: #f4f4f4; }\n"
    "td.host, th.host { text-align: left; }\n"
    ".bar { width: 20em; height: 0.9em; background: #e4e4e4; }\n"
    ".bar > div { height: 100%; background: #3a7bd5; }\n"
    ".big { width: 40em; height: 1.4em; }\n"
    ".unknown > div { width: 100%; background: repeating-linear-gradient(45deg, #3a7bd5 0 1em,"
    " #8fb3ea 1em 2em); }\n"
    ".state-failed { color: #b00; } .state-finished { color: #070; }\n"
    ".state-finished-failures { color: #c60; } .state-running { color: #3a7bd5; }\n"
    "td.reason { text-align: left; font-family: monospace; white-space: pre-wrap; }\n"
    ".failures { color: #b00; font-weight: bold; }\n"
    ".state-stopped { color: #a60; }\n"
    "</style>\n";

/* A bar filled to pct percent (clamped to 0..100). */
static void bar(FILE *fp, double pct, const char *cls)
{
    pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
    fprintf(fp, "<div class=\"bar%s\"><div style=\"width: %.1f%%\"></div></div>", cls, pct);
}

/* A table row "<tr><th>name</th><td>value</td></tr>" with value escaped. */
static void field(FILE *fp, const char *name, const char *value)
{
    fprintf(fp, "<tr><th class=\"host\">%s</th><td class=\"host\">", name);
    mb_status_escape_html(value, fp);
    fputs("</td></tr>\n", fp);
}

static void html_summary(const cJSON *doc, const char *path, FILE *fp)
{
    char buf[128], total[32], pending[32], rate[32], dur[32], state[64];
    const char *cls;
    double pct = percent_done(doc);
    fputs("<h1>mpibatch status: ", fp);
    mb_status_escape_html(str(doc, "kernel"), fp);
    state_words(doc, state, sizeof state, &cls);
    fprintf(fp, " <span id=\"state\" class=\"state-%s\">", cls);
    mb_status_escape_html(state, fp);
    fputs("</span></h1>\n", fp);
    /* Streamed input: no total yet, so a striped bar instead of a gauge. */
    if (pct < 0)
        fprintf(fp, "<div class=\"bar big unknown\"><div></div></div>\n<p>%.0f done; the total "
                "is not known until the input has been read</p>", num(doc, "done"));
    else
        bar(fp, pct, " big");
    if (num(doc, "failed") > 0)
        fprintf(fp, "\n<p id=\"failures\" class=\"failures\">%.0f failed</p>",
                num(doc, "failed"));
    fputs("\n<table>\n", fp);
    field(fp, "file", path);
    field(fp, "started", str(doc, "started"));
    mb_progress_format_duration(num(doc, "elapsed_seconds"), dur, sizeof dur);
    field(fp, "elapsed", dur);
    snprintf(buf, sizeof buf, "%.0f of %s", num(doc, "done"),
             count(doc, "total", total, sizeof total));
    field(fp, "done", buf);
    snprintf(buf, sizeof buf, "%.0f", num(doc, "running"));
    field(fp, "running", buf);
    field(fp, "pending", count(doc, "pending", pending, sizeof pending));
    snprintf(buf, sizeof buf, "%.0f (%.0f retried, %.0f speculated)", num(doc, "failed"),
             num(doc, "retried"), num(doc, "speculated"));
    field(fp, "failed", buf);
    mb_progress_format_rate(num(doc, "tasks_per_second"), rate, sizeof rate);
    snprintf(buf, sizeof buf, "%s tasks/s", rate);
    field(fp, "rate", buf);
    mb_progress_format_duration(num(doc, "eta_seconds"), dur, sizeof dur);
    field(fp, "ETA", dur);
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "ending")))
        field(fp, "ending", str(doc, "ending"));
    if (num(doc, "stale_seconds") >= 0) {
        mb_progress_format_duration(num(doc, "stale_seconds"), dur, sizeof dur);
        snprintf(buf, sizeof buf, "none for %s: the job may have ended without a last word", dur);
        field(fp, "updates", buf);
    }
    fputs("</table>\n", fp);
}

static void html_ranks(const cJSON *doc, FILE *fp)
{
    const cJSON *r;
    double most = max_rank_tasks(doc);
    fputs("<h2>Per rank</h2>\n<table>\n<tr><th>rank</th><th class=\"host\">host</th>"
          "<th>tasks</th><th>busy s</th><th class=\"host\">tasks, against the busiest rank"
          "</th></tr>\n", fp);
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "per_rank")) {
        fprintf(fp, "<tr><td>%.0f</td><td class=\"host\">", num(r, "rank"));
        mb_status_escape_html(str(r, "host"), fp);
        fprintf(fp, "</td><td>%.0f</td><td>%.3f</td><td class=\"host\">", num(r, "tasks"),
                num(r, "busy_seconds"));
        bar(fp, most > 0 ? 100.0 * num(r, "tasks") / most : 0, "");
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

static void html_slowest(const cJSON *doc, FILE *fp)
{
    const cJSON *t, *list = cJSON_GetObjectItemCaseSensitive(doc, "slowest");
    if (cJSON_GetArraySize(list) == 0)
        return;
    fputs("<h2>Slowest tasks</h2>\n<table>\n<tr><th>task</th><th>seconds</th><th>rank</th>"
          "</tr>\n", fp);
    cJSON_ArrayForEach(t, list)
        fprintf(fp, "<tr><td>%.0f</td><td>%.3f</td><td>%.0f</td></tr>\n", num(t, "task"),
                num(t, "seconds"), num(t, "rank"));
    fputs("</table>\n", fp);
}

/* The failed tasks the document lists, with their reasons. */
static void html_failures(const cJSON *doc, FILE *fp)
{
    const cJSON *t, *list = cJSON_GetObjectItemCaseSensitive(doc, "failures");
    int listed = cJSON_GetArraySize(list);
    if (listed == 0)
        return;
    fprintf(fp, "<h2>Failed tasks</h2>\n<table id=\"failed-tasks\">\n<tr><th>task</th>"
            "<th class=\"host\">reason</th></tr>\n");
    cJSON_ArrayForEach(t, list) {
        fprintf(fp, "<tr><td>%.0f</td><td class=\"reason\">", num(t, "task"));
        mb_status_escape_html(str(t, "reason"), fp);
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
    if (num(doc, "failed") > listed)
        fprintf(fp, "<p>The first %d of %.0f failures; the output's /failures table lists every "
                "one (<code>mpibatch export</code> shows them with their tasks).</p>\n", listed,
                num(doc, "failed"));
}

/* While the job runs, the page reloads itself as often as the job
 * rewrites its document (--status-interval, 1 s at least). */
static void html_refresh(const cJSON *doc, FILE *fp)
{
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(doc, "job");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(job, "status-interval");
    double s = cJSON_IsNumber(every) ? every->valuedouble : 5;
    if (strcmp(str(doc, "state"), "running") != 0)
        return;
    fprintf(fp, "<meta http-equiv=\"refresh\" content=\"%.0f\">\n", s < 1 ? 1 : ceil(s));
}

void mb_status_html(const cJSON *doc, const char *path, FILE *fp)
{
    fputs(html_head, fp);
    html_refresh(doc, fp);
    fputs("<title>mpibatch status: ", fp);
    mb_status_escape_html(str(doc, "kernel"), fp);
    fputs(" ", fp);
    mb_status_escape_html(str(doc, "state"), fp);
    fputs("</title>\n</head>\n<body>\n", fp);
    html_summary(doc, path, fp);
    html_failures(doc, fp);
    html_ranks(doc, fp);
    html_slowest(doc, fp);
    fputs("</body>\n</html>\n", fp);
}

/* ---- the command ------------------------------------------------------ */

static void status_help(FILE *fp)
{
    fputs("Usage: mpibatch status [OPTIONS] FILE\n\n"
          "Shows the status document FILE that a job writes with --status FILE: tasks\n"
          "done, running, failed and pending, the rate and ETA, the slowest tasks and\n"
          "the tasks of each rank, the failed tasks with their reasons.  With --watch it\n"
          "shows it again every --interval seconds until the job has ended (with --html\n"
          "it rewrites the page, which reloads itself while the job runs).  A job whose\n"
          "rank 0 was killed before its last word shows as \"gone\" on rank 0's host,\n"
          "and with \"no update for ...\" elsewhere.  Runs on one process; needs no\n"
          "mpirun.\n\n"
          "Options:\n", fp);
    mb_options_print_help(status_options, fp);
    fputs("\nExit status: 0 shown, 2 usage error or a missing or invalid FILE,\n"
          "3 the HTML page could not be written.\n", fp);
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

/* The page into a memory buffer first, then to OUT atomically. */
static mb_err write_html(const cJSON *doc, const char *path, const char *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem;
    mb_err rc;
    if (!strcmp(out, "-")) {
        mb_status_html(doc, path, stdout);
        return fflush(stdout) == 0 && !ferror(stdout) ? MB_OK
            : mb_error_set(MB_ERR_IO, "cannot write the HTML page to standard output: %s",
                           strerror(errno));
    }
    if (!(mem = open_memstream(&text, &len)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the HTML page");
    mb_status_html(doc, path, mem);
    rc = fclose(mem) == 0 && text ? mb_progress_write_file(out, text, "HTML page")
                                   : mb_error_set(MB_ERR_NOMEM, "out of memory for the HTML page");
    free(text);
    return rc;
}

/* Show FILE once: as text on standard output (redrawn in place on a
 * terminal when watching), or as the page OUT.  *ended: the job is over. */
static mb_err show(const char *file, const char *html, int watch, int *ended)
{
    cJSON *doc = NULL;
    mb_err rc = mb_status_load(file, &doc);
    if (rc != MB_OK)
        return rc;
    mb_status_judge_writer(doc);
    *ended = strcmp(str(doc, "state"), "running") != 0;
    if (html) {
        rc = write_html(doc, file, html);
    } else {
        if (watch)
            fputs(isatty(STDOUT_FILENO) ? "\033[H\033[2J" : "\n", stdout);
        mb_status_print(doc, file, stdout);
        fflush(stdout);
    }
    cJSON_Delete(doc);
    return rc;
}

/* --watch: again every interval until the document says the job ended.
 * A timer, not file-change events: the status file may be on a network
 * file system that sends none. */
static mb_err watch(const char *file, const char *html, double interval)
{
    int ended = 0;
    mb_err rc = show(file, html, 1, &ended);
    while (rc == MB_OK && !ended) {
        struct timespec ts = {(time_t)interval, (long)((interval - floor(interval)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        rc = show(file, html, 1, &ended);
    }
    return rc;
}

/* *usage: the error is about the command line (worth a hint), not FILE. */
static mb_err status_run(int argc, char **argv, int *usage)
{
    const mb_option *const tables[] = {status_options, NULL};
    const char *file[1], *html_out;
    int n = 0, ended;
    cJSON *spec = NULL;
    mb_err rc = mb_cli_command_spec(argc, argv, tables, &spec, file, 1, &n);
    if (rc == MB_ERR_USAGE && !strncmp(mb_error_message(), "unexpected argument", 19))
        rc = mb_error_set(MB_ERR_USAGE, "status takes one FILE: mpibatch status [OPTIONS] FILE");
    if (rc == MB_OK && n != 1)
        rc = mb_error_set(MB_ERR_USAGE, "status needs the FILE a job writes with --status: "
                          "mpibatch status [OPTIONS] FILE");
    *usage = rc != MB_OK;
    if (rc == MB_OK) {
        const cJSON *html = cJSON_GetObjectItemCaseSensitive(spec, "html");
        html_out = cJSON_IsString(html) ? html->valuestring : NULL;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "watch")))
            rc = watch(file[0], html_out,
                       cJSON_GetObjectItemCaseSensitive(spec, "interval")->valuedouble);
        else
            rc = show(file[0], html_out, 0, &ended);
    }
    cJSON_Delete(spec);
    return rc;
}

/* Under mpirun only rank 0 reads and prints; the others learn the outcome. */
static int status_main(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0, usage = 0;
    mb_err rc = MB_OK;
    MPI_Comm_rank(comm, &rank);
    if (wants_help(argc, argv)) {
        if (rank == 0)
            status_help(stdout);
        return MB_EXIT_OK;
    }
    if (rank == 0)
        rc = status_run(argc, argv, &usage);
    rc = mb_comm_agree(comm, rc);
    if (rc != MB_OK && rank == 0) {
        fprintf(stderr, "mpibatch: %s\n", mb_error_message());
        if (usage)
            fputs("Try 'mpibatch help status' for usage.\n", stderr);
    }
    return mb_error_exit_status(rc);
}

const mb_command mb_command_status = {
    .name = "status",
    .summary = "FILE: show a job's --status document as text or an HTML page",
    .main = status_main,
    .help = status_help,
};
