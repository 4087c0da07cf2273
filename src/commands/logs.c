/* logs.c - `mpibatch logs DIR [TASK...]`: read exec's streamed logs.
 *
 * Prints a task's output (stdout, then stderr) from the per-rank logs that
 * `exec --logs DIR` writes (kernels/exec_log.h), the output of the failed
 * tasks, or their commands as a commands file to run again.  Without a
 * task or --failed it lists the tasks of the run.  Under mpirun only
 * rank 0 reads.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "comm.h"
#include "commands/commands.h"
#include "kernels/exec_log.h"
#include "optparse.h"

static const mb_option logs_options[] = {
    {.name = "failed", .type = MB_OPT_BOOL, .defval = "false",
     .help = "the tasks that failed (in the run's final attempts), instead of named ones"},
    {.name = "commands", .type = MB_OPT_BOOL, .defval = "false",
     .help = "print the tasks' commands, one per line (a commands file), not their output"},
    {.name = "stream", .type = MB_OPT_ENUM, .defval = "both", .choices = "both|out|err",
     .meta = "S", .help = "which output to print: both (stdout, then stderr), out or err"},
    {.name = "attempts", .type = MB_OPT_BOOL, .defval = "false",
     .help = "every attempt of a task, superseded ones (retries, speculative copies) too"},
    {.name = "run", .type = MB_OPT_INT, .defval = "0", .min = 0, .max = MB_OPT_INT_MAX,
     .meta = "N", .help = "the N-th run written into DIR (1 = the first; 0 = the last)"},
    {0}
};

static void logs_help(FILE *fp)
{
    fputs("Usage: mpibatch logs [OPTIONS] DIR [TASK...]\n\n"
          "Reads the logs that `mpibatch exec --logs DIR` writes (--log-mode stream):\n"
          "prints each TASK's output, stdout then stderr, or with --failed that of\n"
          "every task whose last attempt failed.  With --commands it prints the\n"
          "tasks' commands instead, one per line: `mpibatch logs DIR --failed\n"
          "--commands > again.txt` makes a commands file that reruns exactly the\n"
          "failed tasks.  Without TASK or --failed it lists the run's tasks: task,\n"
          "line, rank, attempts, outcome, command.  A rerun into the same DIR adds a\n"
          "run; the last one is read unless --run says otherwise (a TASK it lacks is\n"
          "taken from the latest earlier run that has it).  When more than one\n"
          "attempt is printed, each starts with a line '==> task T ... <=='.\n\nOptions:\n",
          fp);
    mb_options_print_help(logs_options, fp);
    fputs("\nExit status: 0 printed, 2 usage error, 3 unreadable logs or unknown task.\n", fp);
}

typedef struct logs_args {
    const char **list;    /* the operands (owned): DIR, then the tasks */
    const char *dir;
    const char **tasks;
    int ntasks;
    int failed, commands, attempts, streams;
    long long run;
} logs_args;

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static mb_err parse(int argc, char **argv, logs_args *a)
{
    const mb_option *const tables[] = {logs_options, NULL};
    cJSON *spec = NULL;
    int n = 0;
    const char **list = calloc((size_t)argc + 1, sizeof *list);
    mb_err rc = list ? mb_cli_command_spec(argc, argv, tables, &spec, list, argc, &n)
                     : mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (rc == MB_OK && n == 0)
        rc = mb_error_set(MB_ERR_USAGE, "logs needs DIR: mpibatch logs [OPTIONS] DIR [TASK...]");
    if (rc == MB_OK) {
        a->list = list;
        const char *stream = cJSON_GetObjectItemCaseSensitive(spec, "stream")->valuestring;
        a->dir = list[0];
        a->tasks = list + 1;
        a->ntasks = n - 1;
        a->failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "failed"));
        a->commands = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "commands"));
        a->attempts = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "attempts"));
        a->run = (long long)cJSON_GetObjectItemCaseSensitive(spec, "run")->valuedouble;
        a->streams = !strcmp(stream, "out")   ? MB_EXEC_LOG_OUT
                     : !strcmp(stream, "err") ? MB_EXEC_LOG_ERR
                                              : MB_EXEC_LOG_OUT | MB_EXEC_LOG_ERR;
    }
    if (rc == MB_OK && a->failed && a->ntasks > 0)
        rc = mb_error_set(MB_ERR_USAGE, "give either TASK ids or --failed, not both");
    if (rc == MB_OK && a->commands && !a->failed && a->ntasks == 0)
        rc = mb_error_set(MB_ERR_USAGE, "--commands needs TASK ids or --failed");
    cJSON_Delete(spec);
    if (rc != MB_OK) {
        free(list);
        a->list = NULL;
    }
    return rc;
}

/* One line saying how attempt e ended. */
static void outcome(const mb_exec_log_entry *e, const char *reason, char *buf, size_t size)
{
    if (!e->finished)
        snprintf(buf, size, "did not end (the job ended while it ran)");
    else if (e->failed)
        snprintf(buf, size, "failed: %s", reason ? reason : "?");
    else
        snprintf(buf, size, "ok");
}

static mb_err header(const mb_exec_log_reader *r, const mb_exec_log_entry *e)
{
    char *cmd, *why, what[512];
    mb_err rc = mb_exec_log_describe(r, e, &cmd, &why);
    if (rc != MB_OK)
        return rc;
    outcome(e, why, what, sizeof what);
    printf("==> task %llu (line %llu, rank %d, attempt %d of %d%s): %s <==\n",
           (unsigned long long)e->task, (unsigned long long)e->line, e->rank, e->attempt,
           e->attempts, e->superseded ? ", superseded" : "", what);
    free(cmd);
    free(why);
    return MB_OK;
}

/* Print task's attempts: the one that counts, or all with --attempts. */
static mb_err show(const mb_exec_log_reader *r, const logs_args *a, size_t first, size_t n,
                   int headers)
{
    mb_err rc = MB_OK;
    for (size_t i = first; rc == MB_OK && i < first + n; i++) {
        const mb_exec_log_entry *e = &r->e[i];
        if (e->superseded && !a->attempts)
            continue;
        if (a->commands) {
            char *cmd, *why;
            if ((rc = mb_exec_log_describe(r, e, &cmd, &why)) == MB_OK)
                printf("%s\n", cmd);
            free(cmd);
            free(why);
            continue;
        }
        if (headers && (rc = header(r, e)) != MB_OK)
            break;
        rc = mb_exec_log_print(r, e, a->streams, stdout);
    }
    return rc;
}

/* The list: one line per task (its attempt that counts). */
static mb_err list(const mb_exec_log_reader *r, uint64_t run)
{
    mb_err rc = MB_OK;
    printf("task\tline\trank\tattempts\toutcome\tcommand\n");
    for (size_t i = 0; rc == MB_OK && i < r->n; i++) {
        const mb_exec_log_entry *e = &r->e[i];
        char *cmd, *why, what[512];
        if (e->run != run || e->superseded)
            continue;
        if ((rc = mb_exec_log_describe(r, e, &cmd, &why)) != MB_OK)
            break;
        outcome(e, why, what, sizeof what);
        printf("%llu\t%llu\t%d\t%d\t%s\t%s\n", (unsigned long long)e->task,
               (unsigned long long)e->line, e->rank, e->attempts, what, cmd);
        free(cmd);
        free(why);
    }
    return rc;
}

static mb_err parse_task(const char *s, uint64_t *task)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return mb_error_set(MB_ERR_USAGE, "'%s' is not a task id (a number from 0)", s);
    *task = v;
    return MB_OK;
}

static mb_err logs_run(const logs_args *a)
{
    mb_exec_log_reader r;
    mb_err rc = mb_exec_log_read(a->dir, &r);
    if (rc != MB_OK)
        return rc;
    if (r.nruns == 0 || (size_t)a->run > r.nruns) {
        rc = mb_error_set(MB_ERR_INPUT, "'%s' holds %zu run%s, not run %lld", a->dir, r.nruns,
                          r.nruns == 1 ? "" : "s", a->run);
        goto out;
    }
    uint64_t run = r.runs[a->run ? a->run - 1 : (long long)r.nruns - 1];
    int headers = a->attempts || a->failed || a->ntasks > 1;
    if (a->failed) {
        for (size_t i = 0, n; rc == MB_OK && i < r.n; i += n ? n : 1) {
            size_t first;
            n = mb_exec_log_find(&r, r.e[i].run, r.e[i].task, &first);
            int failed = 0;
            for (size_t k = first; k < first + n; k++)
                failed |= !r.e[k].superseded && r.e[k].finished && r.e[k].failed;
            if (r.e[i].run == run && failed)
                rc = show(&r, a, first, n, headers);
        }
    } else if (a->ntasks == 0) {
        rc = list(&r, run);
    }
    for (int t = 0; rc == MB_OK && t < a->ntasks; t++) {
        uint64_t task = 0;
        size_t first, n;
        if ((rc = parse_task(a->tasks[t], &task)) != MB_OK)
            break;
        n = mb_exec_log_find(&r, run, task, &first);
        /* Not in the last run (a resumed run repeats only unfinished
         * tasks): the latest earlier run that has it. */
        for (size_t k = r.nruns - 1; n == 0 && a->run == 0 && k-- > 0;)
            n = mb_exec_log_find(&r, r.runs[k], task, &first);
        if (n == 0)
            rc = mb_error_set(MB_ERR_INPUT, "'%s' has no log of task %llu", a->dir,
                              (unsigned long long)task);
        else
            rc = show(&r, a, first, n, headers);
    }
out:
    if (fflush(stdout) != 0 && rc == MB_OK)
        rc = mb_error_set(MB_ERR_IO, "cannot write the output: %s", strerror(errno));
    mb_exec_log_reader_free(&r);
    return rc;
}

static int logs_main(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    logs_args a = {0};
    mb_err rc = MB_OK;
    MPI_Comm_rank(comm, &rank);
    for (int i = 1; i < argc; i++)
        if (is_help(argv[i])) {
            if (rank == 0)
                logs_help(stdout);
            return MB_EXIT_OK;
        }
    if (rank == 0 && (rc = parse(argc, argv, &a)) == MB_OK)
        rc = logs_run(&a);
    free(a.list);
    rc = mb_comm_agree(comm, rc);
    if (rc != MB_OK && rank == 0)
        fprintf(stderr, "mpibatch: %s\n%s", mb_error_message(),
                rc == MB_ERR_USAGE ? "Try 'mpibatch help logs' for usage.\n" : "");
    return mb_error_exit_status(rc);
}

const mb_command mb_command_logs = {
    .name = "logs",
    .summary = "DIR [TASK...]: print exec tasks' output from --logs DIR; --failed, --commands",
    .main = logs_main,
    .help = logs_help,
};
