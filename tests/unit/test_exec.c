/* test_exec.c - the exec kernel (src/kernels/exec.c) through the kernel
 * interface, at one rank (an MPI singleton): a job spec is validated into
 * a job, the kernel sets up, opens its commands source and runs every task
 * as the schedule would, then reduces and summarizes.  Asserted: the
 * recorded fields (exit status, signal, timed-out flag, the first 255
 * bytes of standard output) and failure reasons (FILE:LINE, the last line
 * of standard error), shell quoting and {} templates, the environment of
 * a task, a timeout ending the command's whole process group (SIGTERM,
 * then SIGKILL after the grace), processes left behind by a command that
 * exited, a command that does not exist failing only its own task, the
 * logs, and refused option combinations and files.  Fields are found by
 * name in the kernel's layout, not by position. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernels/exec_log.h"
#include "kernels/kernels.h"
#include "mpibatch/job.h"
#include "mpibatch/source.h"
#include "unit_dir.h"
#include "unit_mpi.h"

enum { MAX_TASKS = 16 };

/* What a job came to: per task its result, reason and record. */
typedef struct run {
    mb_err setup_rc;             /* set-up or opening the source; MB_OK if both worked */
    char setup_msg[512];
    size_t ntasks;
    mb_err rc[MAX_TASKS];
    char reason[MAX_TASKS][512];
    double *rec[MAX_TASKS];
    size_t reclen;
    struct { char name[32]; size_t off; mb_field_type type; } field[16];
    size_t nfields;
    cJSON *result;               /* the kernel's summary */
} run;

static char dir[256];

/* One scratch directory per run, made and removed by the runner (an
 * unchecked fixture), so that a failed test leaves nothing; emptied before
 * each test. */
static void make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_exec.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char logs[512];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    mb_test_dir_remove(logs);
    mb_test_dir_remove(dir);
}

static void empty_dir(void)
{
    remove_dir();
    ck_assert_int_eq(mkdir(dir, 0700), 0);
}

/* dir/name with text written to it; the path into out. */
static void write_file(const char *name, const char *text, char *out, size_t n)
{
    FILE *fp;
    snprintf(out, n, "%s/%s", dir, name);
    fp = fopen(out, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

static void keep_layout(run *r, const mb_field *f, size_t n)
{
    size_t off = 0;
    ck_assert_uint_le(n, sizeof r->field / sizeof r->field[0]);
    for (size_t i = 0; i < n; i++) {
        snprintf(r->field[i].name, sizeof r->field[i].name, "%s", f[i].name);
        r->field[i].off = off;
        r->field[i].type = f[i].type;
        off += f[i].count;
    }
    r->nfields = n;
    r->reclen = mb_kernel_record_len(f, n);
    ck_assert_uint_eq(r->reclen, off);
}

/* Run every task of the source, as the runner and collector do. */
static void run_tasks(const mb_kernel *k, void *state, mb_source *src, run *r)
{
    mb_batch b = {0};
    ck_assert_int_eq(src->read(src->state, MAX_TASKS + 1, &b), MB_OK);
    ck_assert_uint_le(b.count, MAX_TASKS);
    r->ntasks = b.count;
    for (uint64_t t = 0; t < b.count; t++) {
        mb_payload p = {b.bytes.data + b.offsets[t], b.offsets[t + 1] - b.offsets[t]};
        r->rec[t] = calloc(r->reclen, sizeof(double));
        ck_assert_ptr_nonnull(r->rec[t]);
        r->rc[t] = k->run(state, t, p, r->rec[t]);
        if (r->rc[t] != MB_OK)
            snprintf(r->reason[t], sizeof r->reason[t], "%s", mb_error_message());
        ck_assert_int_eq(k->reduce(state, t, r->rc[t] != MB_OK ? r->reason[t] : NULL, r->rec[t]),
                         MB_OK);
    }
    mb_batch_free(&b);
    r->result = cJSON_CreateObject();
    ck_assert_int_eq(k->summarize(state, r->result), MB_OK);
}

/* Validate spec (owned), set the kernel up and run all its tasks. */
static void run_job(cJSON *spec, run *r)
{
    mb_job job;
    mb_source src = {0};
    void *state = NULL;
    const mb_field *f;
    size_t n;
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(mb_job_from_spec(spec, "test", &job), MB_OK);
    ck_assert_ptr_eq(job.kernel, &mb_kernel_exec);
    r->setup_rc = job.kernel->setup(&job, MPI_COMM_WORLD, &state);
    if (r->setup_rc == MB_OK)
        r->setup_rc = job.kernel->open_source(state, &job, &src);
    if (r->setup_rc == MB_OK) {
        f = job.kernel->fields(state, &n);
        keep_layout(r, f, n);
        run_tasks(job.kernel, state, &src, r);
    } else
        snprintf(r->setup_msg, sizeof r->setup_msg, "%s", mb_error_message());
    mb_source_close(&src);
    job.kernel->teardown(state);
    mb_job_free(&job);
}

static void run_free(run *r)
{
    for (size_t t = 0; t < r->ntasks; t++)
        free(r->rec[t]);
    cJSON_Delete(r->result);
}

/* A spec for the exec kernel: pairs of key and value, values that parse
 * as numbers become numbers. */
static cJSON *spec_of(const char *key, ...)
{
    cJSON *spec = cJSON_CreateObject();
    va_list ap;
    cJSON_AddStringToObject(spec, "kernel", "exec");
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        char *end;
        double d = strtod(v, &end);
        if (*v && !*end)
            cJSON_AddNumberToObject(spec, k, d);
        else
            cJSON_AddStringToObject(spec, k, v);
    }
    va_end(ap);
    return spec;
}

static size_t slot(const run *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->field[i].name, name))
            return r->field[i].off;
    ck_abort_msg("no field %s", name);
    return 0;
}

static double num(const run *r, size_t task, const char *name)
{
    ck_assert_uint_lt(task, r->ntasks);
    return r->rec[task][slot(r, name)];
}

static const char *text(const run *r, size_t task, const char *name)
{
    ck_assert_uint_lt(task, r->ntasks);
    return (const char *)(r->rec[task] + slot(r, name));
}

/* exit_status, signal, timed_out of a task as one string "E S T". */
static const char *status_of(const run *r, size_t task)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "%g %g %g", num(r, task, "exit_status"), num(r, task, "signal"),
             num(r, task, "timed_out"));
    return buf;
}

static double result(const run *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->result, key);
    ck_assert_msg(cJSON_IsNumber(v), "result has no %s", key);
    return v->valuedouble;
}

START_TEST(recorded_fields_and_reasons)
{
    char cmds[512], want[700];
    run r;
    write_file("cmds.txt",
               "# a comment, then a blank line\n"
               "\n"
               "printf hello\n"
               "exit 3\n"
               "   # indented comment\n"
               "printf out; echo first >&2; echo last-words >&2; exit 4\n"
               "kill -9 $$\n"
               "echo 'a b'\n",
               cmds, sizeof cmds);
    run_job(spec_of("commands", cmds, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_uint_eq(r.ntasks, 5); /* comments and blank lines are no tasks */
    ck_assert_int_eq(r.rc[0], MB_OK);
    ck_assert_str_eq(status_of(&r, 0), "0 0 0");
    ck_assert_str_eq(text(&r, 0, "stdout"), "hello");
    ck_assert(num(&r, 0, "wall_seconds") > 0);
    ck_assert(num(&r, 0, "peak_rss_kib") > 0);

    ck_assert_int_eq(r.rc[1], MB_ERR_TASKS);
    ck_assert_str_eq(status_of(&r, 1), "3 0 0");
    snprintf(want, sizeof want, "%s:4: exit status 3", cmds); /* the file's line, not the task */
    ck_assert_str_eq(r.reason[1], want);

    ck_assert_int_eq(r.rc[2], MB_ERR_TASKS);
    ck_assert_str_eq(status_of(&r, 2), "4 0 0");
    ck_assert_str_eq(text(&r, 2, "stdout"), "out"); /* kept for a failed task too */
    snprintf(want, sizeof want, "%s:6: exit status 4: last-words", cmds);
    ck_assert_str_eq(r.reason[2], want);

    ck_assert_int_eq(r.rc[3], MB_ERR_TASKS);
    ck_assert_str_eq(status_of(&r, 3), "-1 9 0");
    snprintf(want, sizeof want, "%s:7: killed by signal 9 (Killed)", cmds);
    ck_assert_str_eq(r.reason[3], want);

    ck_assert_int_eq(r.rc[4], MB_OK);
    ck_assert_str_eq(text(&r, 4, "stdout"), "a b\n"); /* with its newline */

    ck_assert(result(&r, "commands") == 5);
    ck_assert(result(&r, "succeeded") == 2);
    ck_assert(result(&r, "failed") == 3);
    ck_assert(result(&r, "timed_out") == 0);
    run_free(&r);
}
END_TEST

/* The record keeps the first 255 bytes of standard output; the reason the
 * last line of a long standard error. */
START_TEST(long_output_and_error)
{
    char cmds[512], want[700], x[256];
    run r;
    write_file("long.txt",
               "head -c 1000 /dev/zero | tr '\\0' x\n"
               "i=0; while [ $i -lt 3000 ]; do echo noise-line-$i; i=$((i+1)); done >&2; "
               "echo final words >&2; echo >&2; exit 2\n",
               cmds, sizeof cmds);
    run_job(spec_of("commands", cmds, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    memset(x, 'x', 255);
    x[255] = '\0';
    ck_assert_str_eq(text(&r, 0, "stdout"), x);
    snprintf(want, sizeof want, "%s:2: exit status 2: final words", cmds);
    ck_assert_str_eq(r.reason[1], want);
    run_free(&r);
}
END_TEST

START_TEST(shell_quoting)
{
    char cmds[512];
    run r;
    write_file("quote.txt",
               "printf '%s|' 'a b' \"c  d\" e\\ f \"$((6 * 7))\"\n"
               "printf '%s' \"$MB_TASK_ID/$MB_NRANKS/$MB_RANK\"\n"
               "printf '%s' \"${PMIX_RANK-none}:${OMPI_COMM_WORLD_RANK-none}:$MB_UNIT_KEPT\"\n"
               "printf 'crlf line'\r\n",
               cmds, sizeof cmds);
    /* The job's own MPI variables are not passed on; others are. */
    setenv("PMIX_RANK", "5", 1);
    setenv("OMPI_COMM_WORLD_RANK", "5", 1);
    setenv("MB_UNIT_KEPT", "kept", 1);
    run_job(spec_of("commands", cmds, NULL), &r);
    unsetenv("PMIX_RANK");
    unsetenv("OMPI_COMM_WORLD_RANK");
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_uint_eq(r.ntasks, 4);
    for (size_t t = 0; t < r.ntasks; t++)
        ck_assert_msg(r.rc[t] == MB_OK, "task %zu: %s", t, r.reason[t]);
    ck_assert_str_eq(text(&r, 0, "stdout"), "a b|c  d|e f|42|");
    ck_assert_str_eq(text(&r, 1, "stdout"), "1/1/0");
    ck_assert_str_eq(text(&r, 2, "stdout"), "none:none:kept");
    ck_assert_str_eq(text(&r, 3, "stdout"), "crlf line");
    run_free(&r);
}
END_TEST

START_TEST(templates)
{
    char args[512], want[700];
    run r;
    write_file("args.txt",
               "two  words\n"
               "# not an argument\n"
               "it's a;b $HOME\n"
               "\n"
               "crlf\r\n"
               "fail\n",
               args, sizeof args);
    /* Quoted in the template: the line is one word, spaces kept; {} is
     * replaced everywhere it appears, verbatim. */
    run_job(spec_of("command", "test \"{}\" != fail && printf '[%s]' \"{}\"", "args", args, NULL),
            &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_uint_eq(r.ntasks, 4);
    ck_assert_str_eq(text(&r, 0, "stdout"), "[two  words]");
    /* Verbatim: inside double quotes the shell still expands $HOME. */
    snprintf(want, sizeof want, "[it's a;b %s]", getenv("HOME") ? getenv("HOME") : "");
    ck_assert_str_eq(text(&r, 1, "stdout"), want);
    ck_assert_str_eq(text(&r, 2, "stdout"), "[crlf]");
    ck_assert_int_eq(r.rc[3], MB_ERR_TASKS);
    snprintf(want, sizeof want, "%s:6: exit status 1", args);
    ck_assert_str_eq(r.reason[3], want);
    run_free(&r);
    /* Unquoted, the line splits into words. */
    run_job(spec_of("command", "printf '<%s>' {}; printf '%s.' {}", "args", args, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_str_eq(text(&r, 0, "stdout"), "<two><words>two.words.");
    run_free(&r);
}
END_TEST

/* Whether process pid has ended (gone, or a zombie not yet reaped by
 * whoever inherited it), waiting up to 10 s. */
static int ended(pid_t pid)
{
    char path[64], stat[512];
    for (int i = 0; i < 1000; i++) {
        FILE *fp;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (!(fp = fopen(path, "r")))
            return 1;
        size_t n = fread(stat, 1, sizeof stat - 1, fp);
        fclose(fp);
        stat[n] = '\0';
        const char *paren = strrchr(stat, ')');
        if (paren && (paren[2] == 'Z' || paren[2] == 'X'))
            return 1;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static pid_t read_pid(const char *path)
{
    FILE *fp = fopen(path, "r");
    int pid = 0;
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fscanf(fp, "%d", &pid), 1);
    fclose(fp);
    ck_assert_int_gt(pid, 1);
    return (pid_t)pid;
}

/* Run a commands file with timeout 0.2 s (grace as given) until every
 * command got through its preparations before the timeout came (each
 * shows it by creating a file in ready[]); on a machine too loaded for
 * 0.2 s, again with 2 s and 20 s.  The files of ready[] and stale[] are
 * removed before each run.  Returns the timeout used. */
static const char *run_until_ready(const char *cmds, const char *grace, const char *const *ready,
                                   const char *const *stale, run *r)
{
    static const char *const timeouts[] = {"0.2", "2", "20"};
    for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++) {
        int all = 1;
        for (size_t k = 0; ready[k]; k++)
            unlink(ready[k]);
        for (size_t k = 0; stale[k]; k++)
            unlink(stale[k]);
        run_job(spec_of("commands", cmds, "timeout", timeouts[i], "grace", grace, NULL), r);
        ck_assert_int_eq(r->setup_rc, MB_OK);
        for (size_t k = 0; ready[k]; k++)
            all = all && access(ready[k], F_OK) == 0;
        if (all)
            return timeouts[i];
        run_free(r);
    }
    ck_abort_msg("the commands never got ready before their timeout");
    return NULL;
}

/* A timeout ends the whole group: the shell, its foreground sleep and the
 * sleep it put in the background; a command that ignores SIGTERM gets
 * SIGKILL after the grace. */
START_TEST(timeout_kills_the_process_group)
{
    char cmds[512], text_[4096], pidfile[512], ignoring[512], want[700];
    const char *ready[] = {pidfile, ignoring, NULL}, *none[] = {NULL}, *t;
    pid_t bg;
    run r;
    snprintf(pidfile, sizeof pidfile, "%s/bg.pid", dir);
    snprintf(ignoring, sizeof ignoring, "%s/ignoring", dir);
    snprintf(text_, sizeof text_,
             "sleep 100 & echo $! >'%s.tmp' && mv '%s.tmp' '%s'; sleep 100\n"
             "trap '' TERM; touch '%s'; sleep 100\n"
             "printf quick\n",
             pidfile, pidfile, pidfile, ignoring);
    write_file("slow.txt", text_, cmds, sizeof cmds);
    t = run_until_ready(cmds, "0.2", ready, none, &r);
    ck_assert_uint_eq(r.ntasks, 3);
    ck_assert_int_eq(r.rc[0], MB_ERR_TASKS);
    ck_assert_str_eq(status_of(&r, 0), "-1 15 1");
    snprintf(want, sizeof want, "%s:1: timed out after %s s", cmds, t);
    ck_assert_str_eq(r.reason[0], want);
    ck_assert_str_eq(status_of(&r, 1), "-1 9 1");
    snprintf(want, sizeof want, "%s:2: timed out after %s s", cmds, t);
    ck_assert_str_eq(r.reason[1], want);
    /* Ended at the timeout, far from the commands' 100 s. */
    ck_assert(num(&r, 0, "wall_seconds") < 90);
    ck_assert(num(&r, 1, "wall_seconds") < 90);
    ck_assert_int_eq(r.rc[2], MB_OK);
    ck_assert_str_eq(status_of(&r, 2), "0 0 0");
    ck_assert(result(&r, "timed_out") == 2);
    bg = read_pid(pidfile);
    if (!ended(bg)) {
        kill(bg, SIGKILL);
        ck_abort_msg("the background sleep %d outlived the timeout", (int)bg);
    }
    run_free(&r);
}
END_TEST

/* SIGTERM at the timeout goes to every process of the group, not only to
 * the shell: a background shell's trap records it.  The command's own
 * trap waits (at most 20 s) for that record before it exits, so the
 * clean-up SIGKILL after the shell ends cannot pre-empt the record. */
START_TEST(timeout_terminates_every_process)
{
    char cmds[512], line[4096], mark[512], inner[512], outer[512];
    const char *ready[] = {outer, NULL}, *stale[] = {mark, inner, NULL};
    run r;
    snprintf(mark, sizeof mark, "%s/term.mark", dir);
    snprintf(inner, sizeof inner, "%s/inner.ready", dir);
    snprintf(outer, sizeof outer, "%s/outer.ready", dir);
    snprintf(line, sizeof line,
             "sh -c 'trap \"echo term >%s; exit 0\" TERM; touch %s; sleep 100 & wait' & "
             "trap 'i=0; while [ ! -s %s ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; "
             "exit 1' TERM; while [ ! -e %s ]; do sleep 0.01; done; touch %s; sleep 100 & wait\n",
             mark, inner, mark, inner, outer);
    write_file("term.txt", line, cmds, sizeof cmds);
    run_until_ready(cmds, "60", ready, stale, &r);
    ck_assert_int_eq(r.rc[0], MB_ERR_TASKS);
    ck_assert_str_eq(status_of(&r, 0), "1 0 1"); /* its trap's exit, and timed out */
    ck_assert_msg(access(mark, F_OK) == 0, "the background shell got no SIGTERM");
    run_free(&r);
}
END_TEST

/* When a command exits, what it left running in its group is killed. */
START_TEST(leftovers_killed_after_exit)
{
    char cmds[512];
    pid_t bg;
    run r;
    write_file("bg.txt", "sleep 100 >/dev/null 2>&1 & printf %s $!\n", cmds, sizeof cmds);
    run_job(spec_of("commands", cmds, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_int_eq(r.rc[0], MB_OK);
    bg = (pid_t)atoi(text(&r, 0, "stdout"));
    ck_assert_int_gt(bg, 1);
    if (!ended(bg)) {
        kill(bg, SIGKILL);
        ck_abort_msg("the background sleep %d outlived its command", (int)bg);
    }
    run_free(&r);
}
END_TEST

START_TEST(missing_command_fails_only_its_task)
{
    char cmds[512], want[700];
    run r;
    write_file("missing.txt", "/nonexistent/mb-no-such-command --flag\nprintf after\n", cmds,
               sizeof cmds);
    run_job(spec_of("commands", cmds, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_uint_eq(r.ntasks, 2);
    ck_assert_int_eq(r.rc[0], MB_ERR_TASKS);
    ck_assert_str_eq(status_of(&r, 0), "127 0 0");
    snprintf(want, sizeof want, "%s:1: exit status 127: ", cmds);
    ck_assert_msg(strncmp(r.reason[0], want, strlen(want)) == 0, "reason: %s", r.reason[0]);
    ck_assert_msg(strstr(r.reason[0], "mb-no-such-command") && strstr(r.reason[0], "not found"),
                  "reason: %s", r.reason[0]);
    ck_assert_int_eq(r.rc[1], MB_OK);
    ck_assert_str_eq(text(&r, 1, "stdout"), "after");
    ck_assert(result(&r, "succeeded") == 1);
    run_free(&r);
}
END_TEST

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    buf[fread(buf, 1, sizeof buf - 1, fp)] = '\0';
    fclose(fp);
    return buf;
}

START_TEST(logs_per_task)
{
    char cmds[512], logs[512], path[700];
    run r;
    write_file("logged.txt", "echo out-0; echo err-0 >&2\n# skip\necho out-1\n", cmds,
               sizeof cmds);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    run_job(spec_of("commands", cmds, "logs", logs, "log-mode", "files", NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    snprintf(path, sizeof path, "%s/task-000000.out", logs);
    ck_assert_str_eq(slurp(path), "out-0\n");
    snprintf(path, sizeof path, "%s/task-000000.err", logs);
    ck_assert_str_eq(slurp(path), "err-0\n");
    snprintf(path, sizeof path, "%s/task-000001.out", logs); /* task ids, not lines */
    ck_assert_str_eq(slurp(path), "out-1\n");
    snprintf(path, sizeof path, "%s/task-000001.err", logs);
    ck_assert_str_eq(slurp(path), "");
    ck_assert_int_eq(mb_test_dir_entries(logs), 4);
    ck_assert_int_eq(mb_test_dir_remove(logs), 4);
    run_free(&r);
}
END_TEST

/* The default streamed logs: one log and index for the rank, read back
 * with the reader of `mpibatch logs`. */
START_TEST(logs_streamed)
{
    char cmds[512], logs[512];
    run r;
    mb_exec_log_reader lr;
    write_file("streamed.txt", "echo out-0; echo err-0 >&2\n# skip\necho out-1; exit 2\n", cmds,
               sizeof cmds);
    snprintf(logs, sizeof logs, "%s/logs", dir);
    run_job(spec_of("commands", cmds, "logs", logs, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_OK);
    ck_assert_int_eq(mb_exec_log_read(logs, &lr), MB_OK);
    ck_assert_uint_eq(lr.n, 2);
    ck_assert_uint_eq(lr.e[0].line, 1);
    ck_assert_uint_eq(lr.e[1].line, 3);
    ck_assert_int_eq(lr.e[0].failed, 0);
    ck_assert_int_eq(lr.e[1].failed, 1);
    ck_assert_int_eq(lr.e[1].exit_status, 2);
    char *out = NULL, *cmd, *why;
    size_t len;
    FILE *fp = open_memstream(&out, &len);
    ck_assert_int_eq(mb_exec_log_print(&lr, &lr.e[0], MB_EXEC_LOG_OUT | MB_EXEC_LOG_ERR, fp), MB_OK);
    fclose(fp);
    ck_assert_str_eq(out, "out-0\nerr-0\n");
    free(out);
    ck_assert_int_eq(mb_exec_log_describe(&lr, &lr.e[1], &cmd, &why), MB_OK);
    ck_assert_str_eq(cmd, "echo out-1; exit 2");
    ck_assert_ptr_nonnull(strstr(why, "streamed.txt:3: exit status 2"));
    free(cmd);
    free(why);
    mb_exec_log_reader_free(&lr);
    ck_assert_int_eq(mb_test_dir_remove(logs), 2); /* rank-0000.log and .idx */
    run_free(&r);
}
END_TEST

/* Refused in set-up or when the source opens: nothing runs. */
START_TEST(refused_options_and_files)
{
    char cmds[512], empty[512], none[512];
    run r;
    write_file("ok.txt", "true\n", cmds, sizeof cmds);
    write_file("empty.txt", "# only a comment\n\n   \n", empty, sizeof empty);
    snprintf(none, sizeof none, "%s/none.txt", dir);
    run_job(spec_of("commands", cmds, "command", "echo {}", "args", cmds, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "not both"));
    run_job(spec_of("command", "echo", "args", cmds, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "'command' has no {}"));
    run_job(spec_of("command", "echo {}", NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "'command' needs 'args'"));
    run_job(spec_of("timeout", "1", NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "'commands' (a file of commands) or 'command' "
                                              "with 'args' is required"));
    run_job(spec_of("commands", empty, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "holds no commands"));
    run_job(spec_of("command", "echo {}", "args", empty, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "holds no arguments"));
    run_job(spec_of("commands", none, NULL), &r);
    ck_assert_int_eq(r.setup_rc, MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(r.setup_msg, "cannot read '"));
    ck_assert_uint_eq(r.ntasks, 0);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("exec");
    tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
    tcase_add_checked_fixture(tc, empty_dir, NULL);
    tcase_add_test(tc, recorded_fields_and_reasons);
    tcase_add_test(tc, long_output_and_error);
    tcase_add_test(tc, shell_quoting);
    tcase_add_test(tc, templates);
    tcase_add_test(tc, timeout_kills_the_process_group);
    tcase_add_test(tc, timeout_terminates_every_process);
    tcase_add_test(tc, leftovers_killed_after_exit);
    tcase_add_test(tc, missing_command_fails_only_its_task);
    tcase_add_test(tc, logs_per_task);
    tcase_add_test(tc, logs_streamed);
    tcase_add_test(tc, refused_options_and_files);
    suite_add_tcase(s, tc);
    return mb_test_run_mpi(s, &argc, &argv);
}
