/* exec.c - shell-command tasks: one line of a commands file per task.
 *
 * Each task runs `/bin/sh -c COMMAND` in a process group of its own, so
 * that a timeout, and the clean-up after the command ends, reach every
 * process it started.  The MPI process never forks: a small helper,
 * mpibatch-spawn (exec_spawn.h), started once per rank, forks the commands
 * and reports their ends, so a command's peak memory is its own.  The rank
 * supervises up to --slots commands (start/wait of kernel.h) in one poll()
 * on the helper's socket and the commands' pipes, the nearest timeout
 * being the poll's; the poll also wakes for the schedule's turns
 * (mb_kernel_idle), so rank 0 runs commands too.  With --cores-per-task
 * and --gpus-per-task each command gets cores and devices of its own and
 * waits, in file order, until they are free.  Standard output and error
 * come back through pipes:
 * the first bytes of the output are kept in the record, the last line of
 * the error output goes into a failed task's reason, and --logs writes
 * both in full: appended to one log per rank (exec_log.h), or with
 * --log-mode files one file each per task.
 */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ, strsignal, sched_getaffinity */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/transfer.h"
#include "io/url.h"
#include "kernels/exec_spawn.h"
#include "kernels/kernels.h"
#include "mpibatch/clock.h"
#include "kernels/exec_lines.h"
#include "kernels/exec_log.h"
#include "kernels/exec_rerun.h"
#include "mpibatch/job.h"
#include "mpibatch/source.h"
#include "source_lines.h"
#include "stop.h"

extern char **environ;

enum { OUT_WORDS = 32 };                     /* 255 bytes of standard output */
enum { CMD_WORDS = 32 };                     /* 255 bytes of the command */
/* Offsets in the record (layout() lists the fields in this order). */
enum { O_EXIT, O_SIGNAL, O_TIMED_OUT, O_WALL, O_RSS, O_LINE, O_STDOUT,
       O_COMMAND = O_STDOUT + OUT_WORDS, NFIELDS = 8 };
enum { TAIL = 256 };                         /* bytes of stderr kept for the reason */
enum { READ_AHEAD = 64 };                    /* lines the source reads at a time */
enum { PIPE_BYTES = 1 << 20 };               /* asked for the stdout pipe */

/* Variables by which Open MPI and PMIx tell a process that it is a rank of
 * this job: a command that is itself an MPI program (or mpirun) must start
 * its own job, not try to join ours. */
static const char *const job_private[] = {
    "PMIX_", "PMI_", "OMPI_COMM_WORLD_", "OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix",
    "OMPI_UNIVERSE_SIZE=", "OMPI_FIRST_RANKS=", "OMPI_APP_CTX_NUM_PROCS=", "OMPI_NUM_APP_CTX=",
    "OMPI_COMMAND=", "OMPI_ARGV=", "OMPI_FILE_LOCATION=", "OMPI_MCA_initial_wdir=",
    "MB_TASK_ID=", "MB_RANK=", "MB_NRANKS=", "MB_HOST=", NULL
};

typedef struct exec_state {
    const char *file;        /* --commands or --args (points into the spec) */
    mb_commands_template tmpl; /* --command (text NULL: none) and --colsep */
    const char *logs;        /* --logs, or NULL */
    const char *out;         /* --out, or NULL */
    int log_files;           /* --log-mode files: two files per task */
    mb_exec_log *log;        /* --log-mode stream: this rank's log */
    mb_exec_rerun rerun;     /* --rerun-failed (rank 0): the lines to run */
    double timeout, grace;
    mb_url_opts url;
    char **envp;             /* the helper's, which every command inherits */
    char env_rank[32], env_nranks[32], env_host[MPI_MAX_PROCESSOR_NAME + 8];
    mb_field fields[NFIELDS];
    pid_t helper;            /* this rank's mpibatch-spawn */
    int sock;                /* its socket, -1 when it is not running */
    uint64_t started;        /* commands started: the helper's tags */
    unsigned slots;          /* --slots: commands under supervision at once */
    long cores, gpus;        /* --cores-per-task, --gpus-per-task (0: none) */
    int ncpus, *cpus;        /* the CPUs this rank may use (its affinity) */
    int ndevs;               /* the devices of --gpus or CUDA_VISIBLE_DEVICES */
    char **devs, *devlist;
    unsigned char *cpu_used, *dev_used;
    struct running **live;   /* commands given by start(), oldest first */
    size_t nlive, caplive;
    struct pollfd *pfd;      /* supervise()'s, for the socket and 2 pipes per command */
    size_t cappfd;
    double idle_at;          /* of the next mb_kernel_idle() */
    /* rank 0, in task order */
    uint64_t tasks, failed, timed_out;
    double wall_total, wall_max, rss_max;
} exec_state;

/* The source: the lines source with blank and comment lines left out and
 * every task's line tagged with its line number.  A "#mpibatch cores=N
 * gpus=G" directive goes into the payload of the next task, before its
 * line and a '\n' (a task's line never begins with '#'). */
typedef struct commands_source {
    const char *file;        /* for messages */
    mb_source lines;
    mb_buf directive;        /* the directive for the next task, or empty */
    mb_batch raw;            /* lines read, raw[pos..count) not yet looked at */
    uint64_t pos, lineno;    /* lineno: lines consumed so far */
    int at_barrier;          /* the last read stopped at a barrier line */
    mb_buf tagged;
    const mb_commands_template *tmpl;
    const mb_exec_rerun *rerun;  /* --rerun-failed: only its lines, else NULL */
    size_t next;             /* rerun->lines[next]: the next line to run */
} commands_source;

/* What one run of a command came to. */
typedef struct outcome {
    int status;              /* from wait4 */
    struct rusage ru;
    int timed_out;
    int stopped;             /* killed when a drain's grace ended: not done */
    char head[8 * OUT_WORDS];  /* first bytes of stdout */
    size_t headlen;
    char tail[2 * TAIL];       /* last bytes of stderr */
    size_t taillen;
    int log_errno;           /* first error writing a log file, 0 if none */
    int spawn_errno;         /* why the command could not start, 0 if it did */
} outcome;

/* One command under supervision, or waiting for its cores and GPUs. */
typedef struct running {
    uint64_t task, lineno;
    double *rec;             /* its record, written when it ends */
    char *cmd;               /* the shell command */
    long cores, gpus;        /* what it asks for */
    int *mycpus, *mydevs;    /* indexes into the rank's CPUs and devices */
    int launched;            /* the helper was asked to start it */
    mb_err fail;             /* it could not start: its outcome, else MB_OK */
    char *why;               /* and the reason */
    uint64_t tag;
    int fds[2];              /* read ends of its stdout and stderr, -1 at their end */
    int logs[2];             /* --log-mode files: its files, or -1 */
    mb_exec_log *log;        /* --log-mode stream: the rank's log, or NULL */
    mb_exec_log_attempt attempt;  /* its place in that log */
    double start, end;       /* mb_clock_now() at the request and at the report of its end */
    double deadline, kill_at;  /* of SIGTERM (--timeout) and SIGKILL (--grace) */
    int done;                /* the helper reported its end */
    outcome o;
} running;

static mb_err helper_start(exec_state *s);
static mb_err dry_run(exec_state *s, MPI_Comm comm);

/* Room for one more live command; 0 when out of memory. */
static int grow_live(exec_state *s)
{
    size_t cap = s->caplive ? 2 * s->caplive : 8;
    struct running **p = realloc(s->live, cap * sizeof *p);
    if (!p)
        return 0;
    s->live = p;
    s->caplive = cap;
    return 1;
}

static const mb_option exec_options[] = {
    {.name = "commands", .type = MB_OPT_STR, .meta = "FILE",
     .help = "shell commands, one per line, each a task ('#' comments and blank lines skipped)"},
    {.name = "command", .type = MB_OPT_STR, .meta = "TEMPLATE",
     .help = "shell command run once per line of --args: {} the line, {.} {/} {//} {/.} {#} {1}"},
    {.name = "args", .type = MB_OPT_STR, .meta = "FILE",
     .help = "arguments for --command, one per line, each a task"},
    {.name = "colsep", .type = MB_OPT_STR, .meta = "REGEX",
     .help = "split each line of --args into columns {1} {2} ... at REGEX (\\t: a tab)"},
    {.name = "timeout", .type = MB_OPT_NUM, .defval = "0", .min = 0, .max = 1e7, .meta = "S",
     .help = "kill a task's processes after S seconds and fail it (0: no limit)"},
    {.name = "grace", .type = MB_OPT_NUM, .defval = "5", .min = 0, .max = 3600, .meta = "S",
     .help = "seconds between SIGTERM and SIGKILL when a task times out"},
    {.name = "logs", .type = MB_OPT_STR, .meta = "DIR",
     .help = "keep every task's full stdout and stderr in DIR (see --log-mode; read with mpibatch logs)"},
    {.name = "rerun-failed", .type = MB_OPT_STR, .meta = "OLD.h5",
     .help = "run only the lines whose tasks failed (or timed out) in exec output OLD.h5"},
    {.name = "log-mode", .type = MB_OPT_ENUM, .defval = "stream", .choices = "stream|files",
     .meta = "MODE",
     .help = "stream: each rank appends to DIR/rank-NNNN.log (+ .idx); files: DIR/task-NNNNNN.out and .err"},
    {.name = "slots", .type = MB_OPT_STR, .defval = "1", .meta = "S",
     .help = "commands a rank runs at once; 'auto': its cores / --cores-per-task"},
    {.name = "cores-per-task", .type = MB_OPT_INT, .defval = "0", .min = 0, .max = 65536,
     .meta = "C", .help = "pin each command to C cores of its rank's (OMP_NUM_THREADS, MB_CPUS)"},
    {.name = "gpus-per-task", .type = MB_OPT_INT, .defval = "0", .min = 0, .max = 65536,
     .meta = "G", .help = "give each command G devices of its own (CUDA_VISIBLE_DEVICES)"},
    {.name = "gpus", .type = MB_OPT_STR, .meta = "LIST",
     .help = "the devices for --gpus-per-task (default: $CUDA_VISIBLE_DEVICES)"},
    {0}
};

/* mkdir -p: every rank creates the log directory, so EEXIST is normal. */
static mb_err make_dirs(const char *dir)
{
    char *path = strdup(dir);
    mb_err rc = MB_OK;
    if (!path)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (char *p = path + 1; rc == MB_OK; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            rc = mb_error_set(MB_ERR_IO, "cannot create log directory '%s': %s", path,
                              strerror(errno));
        *p = c;
        if (c == '\0')
            break;
    }
    free(path);
    return rc;
}

static int is_private(const char *var)
{
    for (size_t i = 0; job_private[i]; i++)
        if (strncmp(var, job_private[i], strlen(job_private[i])) == 0)
            return 1;
    return 0;
}

/* The tasks' environment: ours without the job's private variables, and
 * three MB_ variables in front (each command gets MB_TASK_ID and its
 * resources' variables from its request, command_env). */
static mb_err make_env(exec_state *s, MPI_Comm comm)
{
    int rank, size, len;
    char host[MPI_MAX_PROCESSOR_NAME] = "";
    size_t n = 0, k = 3;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Get_processor_name(host, &len);
    snprintf(s->env_rank, sizeof s->env_rank, "MB_RANK=%d", rank);
    snprintf(s->env_nranks, sizeof s->env_nranks, "MB_NRANKS=%d", size);
    snprintf(s->env_host, sizeof s->env_host, "MB_HOST=%s", host);
    while (environ[n])
        n++;
    if (!(s->envp = calloc(n + 4, sizeof *s->envp)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory for the tasks' environment");
    s->envp[0] = s->env_rank;
    s->envp[1] = s->env_nranks;
    s->envp[2] = s->env_host;
    for (size_t i = 0; i < n; i++)
        if (!is_private(environ[i]))
            s->envp[k++] = environ[i];
    return MB_OK;
}

/* The record's fields, in the order of the O_ offsets. */
static void layout(exec_state *s)
{
    size_t k = 0;
    s->fields[k++] = (mb_field){"exit_status", MB_FIELD_I64, 1,
                                "the command's exit status; -1 if a signal ended it or it never ran"};
    s->fields[k++] = (mb_field){"signal", MB_FIELD_I64, 1,
                                "the signal that ended the command, 0 if none"};
    s->fields[k++] = (mb_field){"timed_out", MB_FIELD_I64, 1,
                                "1 if the command was killed at --timeout"};
    s->fields[k++] = (mb_field){"wall_seconds", MB_FIELD_F64, 1,
                                "seconds from start to the command's exit"};
    s->fields[k++] = (mb_field){"peak_rss_kib", MB_FIELD_I64, 1,
                                "peak resident memory of the command's largest process, KiB"};
    s->fields[k++] = (mb_field){"line", MB_FIELD_I64, 1,
                                "the task's line number in the commands (or args) file"};
    s->fields[k++] = (mb_field){"stdout", MB_FIELD_STR, OUT_WORDS,
                                "the first 255 bytes of the command's standard output"};
    s->fields[k++] = (mb_field){"command", MB_FIELD_STR, CMD_WORDS,
                                "the first 255 bytes of the command run"};
}

/* The options must name exactly one way to get commands. */
static mb_err check_options(exec_state *s, const mb_job *job)
{
    const char *commands = mb_job_str(job, "commands"), *args = mb_job_str(job, "args");
    const char *tmpl = mb_job_str(job, "command"), *colsep = mb_job_str(job, "colsep");
    if (commands && tmpl)
        return mb_error_set(MB_ERR_USAGE, "give either 'commands' or 'command' with 'args', not both");
    if (tmpl && !args)
        return mb_error_set(MB_ERR_USAGE, "'command' needs 'args' (the file of arguments for {})");
    if (args && !tmpl)
        return mb_error_set(MB_ERR_USAGE, "'args' needs 'command' (a template holding {})");
    if (!commands && !tmpl)
        return mb_error_set(MB_ERR_USAGE,
                            "'commands' (a file of commands) or 'command' with 'args' is required");
    if (colsep && !tmpl)
        return mb_error_set(MB_ERR_USAGE, "'colsep' needs 'command' with 'args'");
    if (tmpl && !mb_commands_template_has_holes(tmpl))
        return mb_error_set(MB_ERR_USAGE, "'command' has no {} (or {.} {/} {//} {/.} {#} {1} ...) "
                            "for the lines of '%s'", args);
    s->file = commands ? commands : args;
    return mb_commands_template_init(&s->tmpl, tmpl, colsep);
}

/* The CPUs of this rank's affinity, and the device list. */
static mb_err find_resources(exec_state *s, const char *gpus)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return mb_error_set(MB_ERR_IO, "cannot read this rank's CPU affinity: %s", strerror(errno));
    if (!(s->cpus = malloc((size_t)CPU_COUNT(&set) * sizeof *s->cpus)) ||
        !(s->cpu_used = calloc((size_t)CPU_COUNT(&set), 1)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            s->cpus[s->ncpus++] = c;
    if (!gpus)
        gpus = getenv("CUDA_VISIBLE_DEVICES");
    if (!gpus || !*gpus)
        return MB_OK;
    size_t n = 1;
    for (const char *p = gpus; *p; p++)
        n += *p == ',';
    if (!(s->devlist = strdup(gpus)) || !(s->devs = calloc(n, sizeof *s->devs)) ||
        !(s->dev_used = calloc(n, 1)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (char *save = NULL, *t = strtok_r(s->devlist, ",", &save); t; t = strtok_r(NULL, ",", &save))
        s->devs[s->ndevs++] = t;
    return MB_OK;
}

/* --slots, --cores-per-task and --gpus-per-task against this rank's
 * CPUs and devices. */
static mb_err check_resources(exec_state *s, const mb_job *job)
{
    const char *slots = mb_job_str(job, "slots");
    char *end;
    mb_err rc = find_resources(s, mb_job_str(job, "gpus"));
    if (rc != MB_OK)
        return rc;
    s->cores = (long)mb_job_int(job, "cores-per-task");
    s->gpus = (long)mb_job_int(job, "gpus-per-task");
    if (s->cores > s->ncpus)
        return mb_error_set(MB_ERR_USAGE, "'cores-per-task' %ld is more than the %d cores this "
                            "rank may use", s->cores, s->ncpus);
    if (s->gpus > s->ndevs)
        return mb_error_set(MB_ERR_USAGE, "'gpus-per-task' %ld is more than the %d devices of %s",
                            s->gpus, s->ndevs, mb_job_str(job, "gpus") ? "'gpus'"
                                                                      : "CUDA_VISIBLE_DEVICES");
    if (strcmp(slots, "auto") == 0) {
        s->slots = (unsigned)(s->ncpus / (s->cores > 0 ? s->cores : 1));
        return MB_OK;
    }
    errno = 0;
    long v = strtol(slots, &end, 10);
    if (errno || end == slots || *end || v < 1 || v > 100000)
        return mb_error_set(MB_ERR_USAGE, "'slots' must be 'auto' or a whole number from 1 to "
                            "100000, not '%s'", slots);
    s->slots = (unsigned)v;
    return MB_OK;
}

/* The log directory, and in stream mode this rank's log under the run id
 * of rank 0's clock (the same on every rank: collective). */
static mb_err open_logs(exec_state *s, const mb_job *job, MPI_Comm comm)
{
    uint64_t run = (uint64_t)(mb_clock_wall() * 1e6);
    int rank;
    mb_err rc = make_dirs(s->logs);
    s->log_files = strcmp(mb_job_str(job, "log-mode"), "files") == 0;
    if (s->log_files)
        return rc;
    MPI_Comm_rank(comm, &rank);
    MPI_Bcast(&run, 1, MPI_UINT64_T, 0, comm);
    return rc == MB_OK ? mb_exec_log_open(s->logs, rank, run, &s->log) : rc;
}

/* --rerun-failed: rank 0, which reads the commands, loads the lines to
 * run (after set-up's collective calls: an error here is rank 0's). */
static mb_err load_rerun(exec_state *s, const mb_job *job, MPI_Comm comm)
{
    const char *old = mb_job_str(job, "rerun-failed");
    int rank;
    MPI_Comm_rank(comm, &rank);
    return old && rank == 0 ? mb_exec_rerun_load(old, &s->rerun) : MB_OK;
}

static mb_err exec_setup(const mb_job *job, MPI_Comm comm, void **state)
{
    exec_state *s = calloc(1, sizeof *s);
    mb_err rc;
    if (!(*state = s))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    s->sock = -1;
    if ((rc = check_options(s, job)) != MB_OK)
        return rc;
    s->logs = mb_job_str(job, "logs");
    s->out = job->out;
    s->timeout = mb_job_num(job, "timeout");
    s->grace = mb_job_num(job, "grace");
    if ((rc = check_resources(s, job)) != MB_OK)
        return rc;
    mb_url_opts_from_spec(job->spec, &s->url);
    layout(s);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->spec, "dry-run")))
        return (rc = load_rerun(s, job, comm)) != MB_OK ? rc : dry_run(s, comm);
    if (s->logs && (rc = open_logs(s, job, comm)) != MB_OK)
        return rc;
    if ((rc = make_env(s, comm)) != MB_OK || (rc = load_rerun(s, job, comm)) != MB_OK)
        return rc;
    return helper_start(s);
}

static const mb_field *exec_fields(void *state, size_t *n)
{
    *n = NFIELDS;
    return ((exec_state *)state)->fields;
}

/* With --rerun-failed, whether task line [line, len), the next line of the
 * file, is one to run again: it must then be the command that failed
 * there (expanded with that task's {#}). */
static mb_err rerun_pick(commands_source *c, const char *line, size_t len, int *pick)
{
    const mb_exec_rerun *r = c->rerun;
    uint64_t lineno = c->lineno + 1;
    char *cmd;
    *pick = c->next < r->n && r->lines[c->next] == lineno;
    if (!*pick)
        return MB_OK;
    mb_err rc = mb_commands_expand(c->tmpl, r->tasks[c->next] + 1, line, len, &cmd);
    if (rc != MB_OK)
        return mb_error_set(rc, "%s:%llu: %s", c->file, (unsigned long long)lineno,
                            mb_error_message());
    if (!mb_exec_rerun_same(r, c->next, cmd))
        rc = mb_error_set(MB_ERR_INPUT, "%s:%llu: not the command '%s' that failed there in '%s' "
                          "(give the commands file of that run)", c->file,
                          (unsigned long long)lineno, r->commands[c->next], r->path);
    free(cmd);
    return rc;
}

/* The end of the file: with --rerun-failed, every line to run must have
 * been there. */
static mb_err at_end(const commands_source *c)
{
    const mb_exec_rerun *r = c->rerun;
    if (!r || c->next == r->n)
        return MB_OK;
    return mb_error_set(MB_ERR_INPUT, "'%s' ends at line %llu, before line %llu where a task "
                        "failed in '%s' (give the commands file of that run)", c->file,
                        (unsigned long long)c->lineno, (unsigned long long)r->lines[c->next],
                        r->path);
}

/* Move past blank and comment lines (and with --rerun-failed the lines
 * not to run again) to the next task line (*kind MB_LINE_TASK) or barrier
 * (MB_LINE_BARRIER, not consumed), reading more as needed; *kind is
 * MB_LINE_SKIP at the end of input.  A bad directive is an error naming
 * its line. */
static mb_err skip_to_task(commands_source *c, mb_commands_kind *kind)
{
    *kind = MB_LINE_SKIP;
    while (!c->rerun || c->next < c->rerun->n) {
        if (c->pos == c->raw.count) {
            mb_batch_clear(&c->raw);
            c->pos = 0;
            mb_err rc = c->lines.read(c->lines.state, READ_AHEAD, &c->raw);
            if (rc != MB_OK || c->raw.count == 0)
                return rc != MB_OK ? rc : at_end(c);
        }
        const uint64_t *off = c->raw.offsets;
        const char *line = c->raw.bytes.data + off[c->pos];
        size_t len = off[c->pos + 1] - off[c->pos];
        mb_directive d;
        if (mb_commands_parse(line, len, kind, &d) != MB_OK)
            return mb_error_set(MB_ERR_INPUT, "%s:%llu: %s", c->file,
                                (unsigned long long)c->lineno + 1, mb_error_message());
        int pick = 1;
        if (*kind == MB_LINE_TASK && c->rerun) {
            mb_err rc = rerun_pick(c, line, len, &pick);
            if (rc != MB_OK)
                return rc;
            if (!pick) /* its directive goes with it */
                c->directive.len = 0;
        }
        if ((*kind == MB_LINE_TASK && pick) || *kind == MB_LINE_BARRIER)
            return MB_OK;
        if (*kind == MB_LINE_RESOURCES) { /* for the next task line */
            c->directive.len = 0;
            mb_err rc = mb_buf_append(&c->directive, line, len);
            if (rc == MB_OK)
                rc = mb_buf_append(&c->directive, "\n", 1);
            if (rc != MB_OK)
                return rc;
        }
        c->pos++;
        c->lineno++;
    }
    *kind = MB_LINE_SKIP;
    return MB_OK;
}

/* Up to max tasks; a barrier line ends the read early (commands_barrier). */
static mb_err commands_read(void *state, uint64_t max, mb_batch *out)
{
    commands_source *c = state;
    c->at_barrier = 0;
    for (uint64_t i = 0; i < max; i++) {
        mb_commands_kind kind;
        mb_err rc = skip_to_task(c, &kind);
        if (rc != MB_OK || kind == MB_LINE_SKIP)
            return rc;
        if (kind == MB_LINE_BARRIER) {
            c->pos++;
            c->lineno++;
            c->at_barrier = 1;
            return MB_OK;
        }
        const uint64_t *off = c->raw.offsets;
        char tag[MB_COMMANDS_TAG];
        mb_commands_tag(++c->lineno, tag);
        c->tagged.len = 0;
        if ((rc = mb_buf_append(&c->tagged, tag, sizeof tag)) != MB_OK ||
            (rc = mb_buf_append(&c->tagged, c->directive.data, c->directive.len)) != MB_OK ||
            (rc = mb_buf_append(&c->tagged, c->raw.bytes.data + off[c->pos],
                                off[c->pos + 1] - off[c->pos])) != MB_OK ||
            (rc = mb_batch_add(out, c->tagged.data, c->tagged.len)) != MB_OK)
            return rc;
        c->directive.len = 0;
        c->pos++;
        c->next += c->rerun != NULL;
    }
    return MB_OK;
}

static int commands_barrier(void *state)
{
    return ((commands_source *)state)->at_barrier;
}

static void commands_close(void *state)
{
    commands_source *c = state;
    if (!c)
        return;
    mb_source_close(&c->lines);
    mb_batch_free(&c->raw);
    mb_buf_free(&c->tagged);
    mb_buf_free(&c->directive);
    free(c);
}

static mb_err commands_open(const exec_state *s, mb_source *src)
{
    commands_source *c = calloc(1, sizeof *c);
    mb_err rc = c ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (rc == MB_OK) {
        c->file = s->file;
        c->tmpl = &s->tmpl;
        c->rerun = s->rerun.path ? &s->rerun : NULL;
        rc = mb_source_open_lines(&c->lines, s->file, MB_COMMANDS_MAX, &s->url);
    }
    if (rc != MB_OK) {
        commands_close(c);
        return rc;
    }
    *src = (mb_source){.name = "commands", .read = commands_read, .close = commands_close,
                       .state = c, .at_barrier = commands_barrier};
    return MB_OK;
}

/* The tasks of a local file, counted in a quick pass that also checks
 * every directive; *total is 0 for a remote object (not read twice). */
static mb_err count_tasks(const exec_state *s, uint64_t *total)
{
    mb_source src;
    mb_batch b = {0};
    mb_err rc = MB_OK;
    *total = 0;
    if (mb_url_is_remote(s->file) || (rc = commands_open(s, &src)) != MB_OK)
        return rc;
    do {
        mb_batch_clear(&b);
        rc = mb_source_read_through(&src, 4096, &b);
        *total += b.count;
    } while (rc == MB_OK && b.count == 4096);
    mb_batch_free(&b);
    mb_source_close(&src);
    return rc;
}

/* Count the tasks of a local file at once (the progress line's total),
 * which also fails an empty file, or a bad directive, before any output
 * is created; a remote object is looked at up to its first task. */
static mb_err exec_open_source(void *state, const mb_job *job, mb_source *src)
{
    exec_state *s = state;
    mb_commands_kind kind = MB_LINE_TASK;
    uint64_t total = 0;
    mb_err rc = count_tasks(s, &total);
    if (rc == MB_OK)
        rc = commands_open(s, src);
    if (rc == MB_OK && total == 0) {
        commands_source *c = src->state;
        while ((rc = skip_to_task(c, &kind)) == MB_OK && kind == MB_LINE_BARRIER) {
            c->pos++;
            c->lineno++;
        }
    }
    if (rc == MB_OK && kind == MB_LINE_SKIP)
        rc = mb_error_set(MB_ERR_INPUT, "'%s' holds no %s (only blank lines and comments)",
                          s->file, s->tmpl.text ? "arguments" : "commands");
    if (rc != MB_OK) {
        mb_source_close(src);
        return rc;
    }
    src->total = total;
    return MB_OK;
}

/* A payload's line may begin with the resources directive that applies
 * to it and a '\n' (a task's line never begins with '#'): parse it into
 * *d (else -1s) and leave *line, *len at the task's line; 0 if it is bad. */
static int split_directive(const char **line, size_t *len, mb_directive *d)
{
    mb_commands_kind kind;
    d->cores = d->gpus = -1;
    if (*len == 0 || (*line)[0] != '#')
        return 1;
    const char *nl = memchr(*line, '\n', *len);
    if (!nl || mb_commands_parse(*line, (size_t)(nl - *line), &kind, d) != MB_OK ||
        kind != MB_LINE_RESOURCES)
        return 0;
    *len -= (size_t)(nl + 1 - *line);
    *line = nl + 1;
    return 1;
}

/* --dry-run: rank 0 prints the command of every task, in task order, as
 * a run would build it, and nothing runs.  A line whose command cannot be
 * built is reported on stderr (FILE:LINE) and makes it MB_ERR_TASKS. */
static mb_err dry_run(exec_state *s, MPI_Comm comm)
{
    enum { BLOCK = 4096 };
    mb_source src;
    mb_batch b = {0};
    uint64_t task = 0, bad = 0;
    int rank;
    MPI_Comm_rank(comm, &rank);
    mb_err rc = rank == 0 ? commands_open(s, &src) : MB_OK;
    if (rank != 0 || rc != MB_OK)
        return rc;
    do {
        mb_batch_clear(&b);
        rc = mb_source_read_through(&src, BLOCK, &b);
        for (uint64_t i = 0; rc == MB_OK && i < b.count; i++, task++) {
            uint64_t lineno = 0;
            const char *line = "";
            size_t len = 0;
            char *cmd;
            mb_directive d;
            mb_commands_untag(b.bytes.data + b.offsets[i], b.offsets[i + 1] - b.offsets[i],
                              &lineno, &line, &len);
            split_directive(&line, &len, &d); /* read here: well-formed */
            mb_err st = mb_commands_expand(&s->tmpl, task + 1, line, len, &cmd);
            if (st == MB_OK) {
                printf("%s\n", cmd);
            } else if (st == MB_ERR_INPUT) {
                bad++;
                fprintf(stderr, "mpibatch: %s:%llu: %s\n", s->file, (unsigned long long)lineno,
                        mb_error_message());
            } else {
                rc = st;
            }
            free(cmd);
        }
    } while (rc == MB_OK && b.count == BLOCK);
    fflush(stdout);
    mb_batch_free(&b);
    mb_source_close(&src);
    if (rc == MB_OK && task == 0)
        rc = mb_error_set(MB_ERR_INPUT, "'%s' holds no %s (only blank lines and comments)",
                          s->file, s->tmpl.text ? "arguments" : "commands");
    if (rc == MB_OK && bad)
        rc = mb_error_set(MB_ERR_TASKS, "%llu of %llu commands could not be built",
                          (unsigned long long)bad, (unsigned long long)task);
    return rc;
}

/* A log file of task `task`, or -1 with errno set. */
static int open_log(const exec_state *s, uint64_t task, const char *ext)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/task-%06llu.%s", s->logs, (unsigned long long)task, ext) >=
        (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Where mpibatch-spawn is: beside this program (the build tree, or an
 * install that keeps them together), else where `make install` puts it. */
static mb_err helper_path(char *path, size_t size)
{
    /* MPIBATCH_SPAWN names it outright: for programs that link the library
     * from elsewhere (the unit suites) and unusual installs. */
    const char *given = getenv("MPIBATCH_SPAWN");
    if (given && *given) {
        snprintf(path, size, "%s", given);
        if (access(path, X_OK) == 0)
            return MB_OK;
        return mb_error_set(MB_ERR_IO, "MPIBATCH_SPAWN='%s' is not an executable program: %s",
                            given, strerror(errno));
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash = NULL;
    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
    }
    if (slash) {
        *slash = '\0';
        snprintf(path, size, "%s/%s", self, MB_SPAWN_PROGRAM);
        if (access(path, X_OK) == 0)
            return MB_OK;
    }
    snprintf(path, size, "%s/%s", MB_PKGLIBEXECDIR, MB_SPAWN_PROGRAM);
    if (access(path, X_OK) == 0)
        return MB_OK;
    return mb_error_set(MB_ERR_IO, "cannot find the helper program %s (looked beside %s and in %s)",
                        MB_SPAWN_PROGRAM, slash ? self : "mpibatch", MB_PKGLIBEXECDIR);
}

/* Start this rank's mpibatch-spawn, its socket on its descriptor 3, in
 * the tasks' environment (without MB_TASK_ID, which each command gets). */
static mb_err helper_start(exec_state *s)
{
    char path[4200];
    int sv[2], err;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    char *argv[] = {MB_SPAWN_PROGRAM, NULL};
    mb_err rc = helper_path(path, sizeof path);
    if (rc != MB_OK)
        return rc;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return mb_error_set(MB_ERR_IO, "cannot make a socket for %s: %s", path, strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], MB_SPAWN_FD);
    posix_spawnattr_init(&attr);
    /* No signal blocked or ignored as MPI's runtime may have: the
     * commands inherit the helper's. */
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    /* A group of its own: the SIGTERM, SIGUSR1 or SIGINT that mpirun sends
     * to the rank's group drains the job (stop.h) and must not kill the
     * helper and its commands outright. */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    err = posix_spawn(&s->helper, path, &fa, &attr, argv, s->envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (err) {
        close(sv[0]);
        return mb_error_set(MB_ERR_IO, "cannot start %s: %s", path, strerror(err));
    }
    s->sock = sv[0];
    return MB_OK;
}

/* Close the socket (the helper then kills what still runs and exits) and
 * reap the helper. */
static void helper_stop(exec_state *s)
{
    if (s->sock < 0)
        return;
    close(s->sock);
    s->sock = -1;
    while (waitpid(s->helper, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Ask the helper to start r's command with the variables env[0..env_len)
 * (NUL-terminated each), its output into two new pipes. */
static mb_err command_start(exec_state *s, running *r, char *env, size_t env_len)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    char ctl[CMSG_SPACE(2 * sizeof(int))];
    size_t cmd_len = strlen(r->cmd);
    mb_spawn_req req = {.type = MB_SPAWN_START, .tag = r->tag, .env_len = (uint32_t)env_len,
                        .cmd_len = (uint32_t)cmd_len};
    struct iovec iov[3] = {{&req, sizeof req}, {env, env_len}, {r->cmd, cmd_len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3, .msg_control = ctl,
                         .msg_controllen = sizeof ctl};
    mb_err rc = MB_OK;
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        rc = mb_error_set(MB_ERR_IO, "cannot make pipes for the command: %s", strerror(errno));
        goto out;
    }
    /* A larger pipe for the output means fewer wake-ups for a command that
     * writes much (the default is 64 KiB; past the system's limit it
     * stays). */
    fcntl(outp[0], F_SETPIPE_SZ, PIPE_BYTES);
    memset(ctl, 0, sizeof ctl);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    memcpy(CMSG_DATA(c), (int[2]){outp[1], errp[1]}, 2 * sizeof(int));
    r->start = mb_clock_now();
    while (sendmsg(s->sock, &msg, MSG_NOSIGNAL) < 0)
        if (errno != EINTR) {
            rc = mb_error_set(MB_ERR_INTERNAL, "cannot reach %s: %s", MB_SPAWN_PROGRAM,
                              strerror(errno));
            goto out;
        }
    r->fds[0] = outp[0];
    r->fds[1] = errp[0];
    outp[0] = errp[0] = -1;
out:
    for (int i = 0; i < 2; i++) {
        close_fd(outp[i]);
        close_fd(errp[i]);
    }
    return rc;
}

/* Append "NAME=" and the n indexes of idx into names (ints or strings),
 * comma-separated, and the NUL. */
static mb_err env_list(mb_buf *env, const char *name, const int *idx, long n, const int *nums,
                       char *const *names)
{
    char item[32];
    mb_err rc = mb_buf_append(env, name, strlen(name));
    for (long i = 0; rc == MB_OK && i < n; i++) {
        if (nums)
            snprintf(item, sizeof item, "%s%d", i ? "," : "", nums[idx[i]]);
        else
            snprintf(item, sizeof item, "%s%.30s", i ? "," : "", names[idx[i]]);
        rc = mb_buf_append(env, item, strlen(item));
    }
    return rc == MB_OK ? mb_buf_append(env, "", 1) : rc;
}

/* The variables of r's command: MB_TASK_ID, and for its cores MB_CPUS
 * (which mpibatch-spawn pins it to) and OMP_NUM_THREADS, for its devices
 * CUDA_VISIBLE_DEVICES. */
static mb_err command_env(const exec_state *s, const running *r, mb_buf *env)
{
    char var[64];
    mb_err rc;
    snprintf(var, sizeof var, "MB_TASK_ID=%llu", (unsigned long long)r->task);
    rc = mb_buf_append(env, var, strlen(var) + 1);
    if (rc == MB_OK && r->cores > 0) {
        snprintf(var, sizeof var, "OMP_NUM_THREADS=%ld", r->cores);
        if ((rc = mb_buf_append(env, var, strlen(var) + 1)) == MB_OK)
            rc = env_list(env, "MB_CPUS=", r->mycpus, r->cores, s->cpus, NULL);
    }
    if (rc == MB_OK && r->gpus > 0)
        rc = env_list(env, "CUDA_VISIBLE_DEVICES=", r->mydevs, r->gpus, NULL, s->devs);
    return rc;
}

/* Take r's cores and devices if enough are free now; 0 if not. */
static int claim(exec_state *s, running *r)
{
    long freec = 0, freed = 0, k = 0;
    for (int i = 0; i < s->ncpus; i++)
        freec += !s->cpu_used[i];
    for (int i = 0; i < s->ndevs; i++)
        freed += !s->dev_used[i];
    if (freec < r->cores || freed < r->gpus)
        return 0;
    for (int i = 0; k < r->cores; i++)
        if (!s->cpu_used[i]) {
            s->cpu_used[i] = 1;
            r->mycpus[k++] = i;
        }
    k = 0;
    for (int i = 0; k < r->gpus; i++)
        if (!s->dev_used[i]) {
            s->dev_used[i] = 1;
            r->mydevs[k++] = i;
        }
    r->launched = 1;
    return 1;
}

/* Open r's log files (--log-mode files) or begin its attempt in the
 * rank's log (stream), and have the helper start its command. */
static mb_err launch(exec_state *s, running *r)
{
    mb_buf env = {0};
    mb_err rc = MB_OK;
    int err;
    r->tag = s->started++;
    for (int i = 0; rc == MB_OK && s->log_files && i < 2; i++)
        if ((r->logs[i] = open_log(s, r->task, i == 0 ? "out" : "err")) < 0)
            rc = mb_error_set(MB_ERR_IO, "%s:%llu: cannot create its log in '%s': %s", s->file,
                              (unsigned long long)r->lineno, s->logs, strerror(errno));
    if (rc == MB_OK && s->sock < 0)
        rc = helper_start(s);
    if (rc == MB_OK)
        rc = command_env(s, r, &env);
    if (rc == MB_OK && s->log &&
        (err = mb_exec_log_begin(s->log, &r->attempt, r->task, r->lineno, r->cmd)) != 0)
        rc = mb_error_set(MB_ERR_IO, "%s:%llu: cannot write its log in '%s': %s", s->file,
                          (unsigned long long)r->lineno, s->logs, strerror(err));
    else if (rc == MB_OK && s->log)
        r->log = s->log;
    if (rc == MB_OK)
        rc = command_start(s, r, env.data, env.len);
    mb_buf_free(&env);
    r->deadline = s->timeout > 0 ? r->start + s->timeout : INFINITY;
    r->kill_at = INFINITY;
    return rc;
}

/* r ends without running: its outcome is the error just set. */
static void fail_now(running *r, mb_err rc)
{
    r->fail = rc;
    r->done = 1;
    free(r->why);
    r->why = strdup(mb_error_message());
}

/* Start the commands waiting for cores or devices, oldest first, while
 * theirs are free. */
static void start_waiting(exec_state *s)
{
    for (size_t k = 0; k < s->nlive; k++) {
        running *r = s->live[k];
        mb_err rc;
        if (r->launched)
            continue;
        if (!claim(s, r))
            return;
        if ((rc = launch(s, r)) != MB_OK)
            fail_now(r, rc);
    }
}

/* Forget live[k]: its cores and devices are free again. */
static void running_drop(exec_state *s, size_t k)
{
    running *r = s->live[k];
    for (long i = 0; r->launched && i < r->cores; i++)
        s->cpu_used[r->mycpus[i]] = 0;
    for (long i = 0; r->launched && i < r->gpus; i++)
        s->dev_used[r->mydevs[i]] = 0;
    for (int i = 0; i < 2; i++) {
        close_fd(r->logs[i]);
        close_fd(r->fds[i]);
    }
    free(r->cmd);
    free(r->mycpus);
    free(r->mydevs);
    free(r->why);
    free(r);
    memmove(s->live + k, s->live + k + 1, (s->nlive - k - 1) * sizeof *s->live);
    s->nlive--;
}

/* Ask the helper to signal r's process group. */
static mb_err command_signal(exec_state *s, const running *r, int sig)
{
    mb_spawn_req req = {.type = MB_SPAWN_KILL, .sig = sig, .tag = r->tag};
    while (send(s->sock, &req, sizeof req, MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return mb_error_set(MB_ERR_INTERNAL, "cannot reach %s: %s", MB_SPAWN_PROGRAM,
                                strerror(errno));
    return MB_OK;
}

static void write_log(int fd, const char *buf, size_t n, outcome *o)
{
    while (fd >= 0 && n > 0 && !o->log_errno) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno != EINTR)
            o->log_errno = errno;
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
        }
    }
}

/* Keep what the record and the reason need from n bytes of stream i. */
static void keep(outcome *o, int i, const char *buf, size_t n)
{
    if (i == 0) {
        size_t room = sizeof o->head - 1 - o->headlen;
        memcpy(o->head + o->headlen, buf, n < room ? n : room);
        o->headlen += n < room ? n : room;
        return;
    }
    if (n >= TAIL) {
        memcpy(o->tail, buf + n - TAIL, TAIL);
        o->taillen = TAIL;
        return;
    }
    if (o->taillen + n > sizeof o->tail) { /* n < TAIL: the newest bytes fit after this */
        size_t drop = o->taillen + n - sizeof o->tail;
        memmove(o->tail, o->tail + drop, o->taillen - drop);
        o->taillen -= drop;
    }
    memcpy(o->tail + o->taillen, buf, n);
    o->taillen += n;
}

/* Read what stream i of r has; at its end, close it. */
static void read_stream(running *r, int i)
{
    static char buf[PIPE_BYTES];
    ssize_t n = read(r->fds[i], buf, sizeof buf);
    if (n > 0) {
        write_log(r->logs[i], buf, (size_t)n, &r->o);
        if (r->log && !r->o.log_errno)
            r->o.log_errno = mb_exec_log_write(r->log, &r->attempt,
                                               i == 0 ? MB_EXEC_LOG_OUT : MB_EXEC_LOG_ERR, buf,
                                               (size_t)n);
        keep(&r->o, i, buf, (size_t)n);
    } else if (n == 0 || errno != EINTR) {
        close(r->fds[i]);
        r->fds[i] = -1;
    }
}

/* Whether a command ended by a signal that drains the job, and the job
 * drains: under srun, Slurm sends the signal to every process of the step,
 * the commands included, so such a command was stopped, not failed; it is
 * not done and runs again when the job continues.  Slurm signals the
 * processes one by one, so the command's end may come before this rank's
 * own signal: wait for it up to a second (only for such a command). */
static int ended_by_drain(const outcome *o)
{
    if (!WIFSIGNALED(o->status))
        return 0;
    int sig = WTERMSIG(o->status);
    if (sig != SIGTERM && sig != SIGUSR1 && sig != SIGINT)
        return 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 100 && !mb_stop_signal(); i++)
        nanosleep(&tick, NULL);
    return mb_stop_signal() != 0;
}

/* Read what the pipes hold now, without waiting; returns whether there
 * was anything (data or an end). */
static int drain_ready(running *r)
{
    struct pollfd p[2] = {{.fd = r->fds[0], .events = POLLIN}, {.fd = r->fds[1], .events = POLLIN}};
    int any = 0;
    if (poll(p, 2, 0) <= 0)
        return 0;
    for (int i = 0; i < 2; i++)
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
            read_stream(r, i);
            any = 1;
        }
    return any;
}

/* The helper died: every command it ran fails. */
static void helper_lost(exec_state *s)
{
    helper_stop(s);
    mb_error_set(MB_ERR_INTERNAL, "%s ended unexpectedly", MB_SPAWN_PROGRAM);
    for (size_t k = 0; k < s->nlive; k++)
        if (s->live[k]->launched && !s->live[k]->done)
            fail_now(s->live[k], MB_ERR_INTERNAL);
}

/* One message from the helper: the end of a command.  An end of the
 * socket means the helper died; the next command starts a new one. */
static mb_err helper_message(exec_state *s)
{
    mb_spawn_done d;
    ssize_t n = recv(s->sock, &d, sizeof d, 0);
    if (n < 0 && errno == EINTR)
        return MB_OK;
    if (n != (ssize_t)sizeof d || d.type != MB_SPAWN_DONE) {
        helper_lost(s);
        return MB_OK;
    }
    for (size_t k = 0; k < s->nlive; k++) {
        running *r = s->live[k];
        if (!r->launched || r->done || r->tag != d.tag)
            continue;
        r->end = mb_clock_now();
        r->done = 1;
        r->o.spawn_errno = d.err;
        r->o.status = d.status;
        r->o.ru = d.ru;
        return MB_OK;
    }
    return mb_error_set(MB_ERR_INTERNAL, "%s reported command %llu, which is not running",
                        MB_SPAWN_PROGRAM, (unsigned long long)d.tag);
}

/* Milliseconds until the next deadline of a running command (its
 * timeout, the end of its grace), the schedule's next turn or the stop
 * poll's, -1 for none. */
static int wait_ms(const exec_state *s, double now)
{
    double next = fmin(s->idle_at, now + mb_stop_due_in());
    for (size_t k = 0; k < s->nlive; k++)
        if (s->live[k]->launched && !s->live[k]->done)
            next = fmin(next, fmin(s->live[k]->deadline, s->live[k]->kill_at));
    if (isinf(next))
        return -1;
    return next <= now ? 0 : (int)fmin(ceil((next - now) * 1000), 1e9);
}

/* The schedule's turn (rank 0 answers the other ranks, progress is drawn)
 * when it is due; nonzero when the schedule wants wait() to return. */
static int idle_turn(exec_state *s, double now)
{
    int ms = mb_kernel_idle_ms(), more;
    if (ms < 0) {
        s->idle_at = INFINITY;
        return 0;
    }
    if (now < s->idle_at)
        return 0;
    more = mb_kernel_idle();
    s->idle_at = mb_clock_now() + ms / 1000.0;
    return more;
}

/* At the timeout, SIGTERM to the command's group; after the grace, SIGKILL. */
static mb_err enforce_timeout(exec_state *s, running *r, double now)
{
    if (now >= r->deadline) {
        r->o.timed_out = 1;
        r->deadline = INFINITY;
        r->kill_at = now + s->grace;
        return command_signal(s, r, SIGTERM);
    }
    if (now >= r->kill_at) {
        r->kill_at = INFINITY;
        return command_signal(s, r, SIGKILL);
    }
    return MB_OK;
}

/* One wait in poll() on the helper's socket and the running commands'
 * pipes, until output, an end or a deadline; then the timeouts and a
 * drain's kills. */
static mb_err supervise(exec_state *s)
{
    size_t n = 1, want = 1 + 2 * s->nlive;
    mb_err rc = MB_OK;
    if (want > s->cappfd) {
        struct pollfd *p = realloc(s->pfd, want * sizeof *p);
        if (!p)
            return mb_error_set(MB_ERR_NOMEM, "out of memory supervising commands");
        s->pfd = p;
        s->cappfd = want;
    }
    s->pfd[0] = (struct pollfd){.fd = s->sock, .events = POLLIN};
    for (size_t k = 0; k < s->nlive; k++)
        for (int i = 0; i < 2; i++)
            s->pfd[n++] = (struct pollfd){.fd = s->live[k]->launched ? s->live[k]->fds[i] : -1,
                                          .events = POLLIN};
    if (poll(s->pfd, n, wait_ms(s, mb_clock_now())) < 0 && errno != EINTR)
        return mb_error_set(MB_ERR_INTERNAL, "poll: %s", strerror(errno));
    for (size_t k = 0; k < s->nlive; k++)
        for (int i = 0; i < 2; i++)
            if (s->pfd[1 + 2 * k + (size_t)i].revents & (POLLIN | POLLHUP | POLLERR))
                read_stream(s->live[k], i);
    if (s->pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
        rc = helper_message(s);
    int kill_due = mb_stop_kill_due();
    for (size_t k = 0; rc == MB_OK && k < s->nlive; k++) {
        running *r = s->live[k];
        if (!r->launched || r->done)
            continue;
        rc = enforce_timeout(s, r, mb_clock_now());
        if (rc == MB_OK && !r->o.stopped && kill_due) {
            /* The job is stopping and this command's grace is over. */
            r->o.stopped = 1;
            rc = command_signal(s, r, SIGKILL);
        }
    }
    return rc;
}

/* The last non-empty line of the error output, made printable, or "". */
static void last_line(const outcome *o, char *line, size_t size)
{
    size_t end = o->taillen, start;
    while (end > 0 && (o->tail[end - 1] == '\n' || o->tail[end - 1] == '\r' ||
                       o->tail[end - 1] == ' '))
        end--;
    for (start = end; start > 0 && o->tail[start - 1] != '\n'; start--)
        ;
    if (end - start >= size)
        start = end - (size - 1);
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)o->tail[i];
        line[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    line[n] = '\0';
}

/* Fill the record from the outcome; a failure gets its reason. */
static mb_err judge(const exec_state *s, uint64_t lineno, const outcome *o, double wall,
                    double *rec)
{
    char why[64], err[160];
    int st = o->status;
    if (o->spawn_errno)
        return mb_error_set(MB_ERR_IO, "%s:%llu: cannot start /bin/sh: %s", s->file,
                            (unsigned long long)lineno, strerror(o->spawn_errno));
    rec[O_EXIT] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    rec[O_SIGNAL] = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    rec[O_TIMED_OUT] = o->timed_out;
    rec[O_WALL] = wall;
    rec[O_RSS] = (double)o->ru.ru_maxrss;
    mb_record_set_str(rec + O_STDOUT, OUT_WORDS, o->head, strnlen(o->head, o->headlen));
    if (o->timed_out)
        snprintf(why, sizeof why, "timed out after %g s", s->timeout);
    else if (WIFSIGNALED(st))
        snprintf(why, sizeof why, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (WEXITSTATUS(st) != 0)
        snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(st));
    else if (o->log_errno)
        return mb_error_set(MB_ERR_IO, "%s:%llu: cannot write its log in '%s': %s", s->file,
                            (unsigned long long)lineno, s->logs, strerror(o->log_errno));
    else
        return MB_OK;
    last_line(o, err, sizeof err);
    return mb_error_set(MB_ERR_TASKS, "%s:%llu: %s%s%s", s->file, (unsigned long long)lineno, why,
                        *err ? ": " : "", err);
}

/* The end of r's attempt in the log: how it ended and, when it failed,
 * why (the message of rc).  Returns rc, or the log's write error. */
static mb_err end_attempt(exec_state *s, running *r, mb_err rc)
{
    mb_exec_log_end e = {.exit_status = (int64_t)r->rec[O_EXIT],
                         .signal = (int64_t)r->rec[O_SIGNAL], .timed_out = r->o.timed_out,
                         .failed = rc != MB_OK, .seconds = r->end - r->start,
                         .reason = rc != MB_OK ? mb_error_message() : NULL};
    int err = mb_exec_log_end_attempt(r->log, &r->attempt, &e);
    if (err && rc == MB_OK)
        return mb_error_set(MB_ERR_IO, "%s:%llu: cannot write its log in '%s': %s", s->file,
                            (unsigned long long)r->lineno, s->logs, strerror(err));
    return rc;
}

/* Queue the command of task `task` (line lineno, which asked for d) and
 * start it now if nothing waits before it and its cores and devices are
 * free. */
static mb_err command_add(exec_state *s, uint64_t task, uint64_t lineno, const mb_directive *d,
                          char *cmd, double *rec)
{
    running *r = calloc(1, sizeof *r);
    int waiting = 0;
    mb_err rc = MB_OK;
    if (!r || (s->nlive == s->caplive && !grow_live(s))) {
        free(r);
        free(cmd);
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a command");
    }
    *r = (running){.task = task, .lineno = lineno, .rec = rec, .cmd = cmd,
                   .cores = d->cores >= 0 ? d->cores : s->cores,
                   .gpus = d->gpus >= 0 ? d->gpus : s->gpus,
                   .fds = {-1, -1}, .logs = {-1, -1}};
    r->mycpus = calloc((size_t)r->cores + 1, sizeof *r->mycpus);
    r->mydevs = calloc((size_t)r->gpus + 1, sizeof *r->mydevs);
    for (size_t k = 0; k < s->nlive; k++)
        waiting |= !s->live[k]->launched;
    s->live[s->nlive++] = r;
    if (!r->mycpus || !r->mydevs)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for a command");
    else if (r->cores > s->ncpus)
        rc = mb_error_set(MB_ERR_USAGE, "%s:%llu: asks for %ld cores; this rank may use %d",
                          s->file, (unsigned long long)lineno, r->cores, s->ncpus);
    else if (r->gpus > s->ndevs)
        rc = mb_error_set(MB_ERR_USAGE, "%s:%llu: asks for %ld devices; this rank has %d",
                          s->file, (unsigned long long)lineno, r->gpus, s->ndevs);
    else if (!waiting && claim(s, r))
        rc = launch(s, r);
    if (rc != MB_OK && r->log) /* its attempt began in the log */
        rc = end_attempt(s, r, rc);
    if (rc != MB_OK)
        running_drop(s, s->nlive - 1);
    return rc;
}

static mb_err exec_start(void *state, uint64_t task, mb_payload p, double *rec)
{
    exec_state *s = state;
    uint64_t lineno;
    const char *line;
    size_t len;
    char *cmd;
    mb_directive d = {-1, -1};
    rec[O_EXIT] = -1; /* until the command has run */
    rec[O_SIGNAL] = 0;
    if (!mb_commands_untag(p.data, p.len, &lineno, &line, &len))
        return mb_error_set(MB_ERR_INTERNAL, "task %llu: payload without its line number",
                            (unsigned long long)task);
    if (!split_directive(&line, &len, &d))
        return mb_error_set(MB_ERR_INTERNAL, "task %llu: a bad directive in its payload",
                            (unsigned long long)task);
    rec[O_LINE] = (double)lineno;
    mb_err rc = mb_commands_expand(&s->tmpl, task + 1, line, len, &cmd);
    if (rc != MB_OK)
        return mb_error_set(rc, "%s:%llu: %s", s->file, (unsigned long long)lineno,
                            mb_error_message());
    size_t cmdlen = strlen(cmd), room = CMD_WORDS * sizeof *rec - 1;
    mb_record_set_str(rec + O_COMMAND, CMD_WORDS, cmd, cmdlen < room ? cmdlen : room);
    return command_add(s, task, lineno, &d, cmd, rec);
}

/* The outcome of r, which ended; with --log-mode stream the end of its
 * attempt goes into the log. */
static mb_err outcome_of(exec_state *s, running *r)
{
    mb_err rc;
    if (r->fail) {
        rc = mb_error_set(r->fail, "%s", r->why ? r->why : mb_strerror(r->fail));
    } else {
        /* A process that left the command's group could hold its pipes
         * open and write forever: read what they hold now, a bounded
         * number of times. */
        for (int i = 0; i < 1024 && drain_ready(r); i++)
            ;
        if (!r->o.stopped && ended_by_drain(&r->o))
            r->o.stopped = 1;
        rc = r->o.stopped ? mb_error_set(MB_ERR_STOPPED, "%s:%llu: killed when the job stopped",
                                         s->file, (unsigned long long)r->lineno)
                          : judge(s, r->lineno, &r->o, r->end - r->start, r->rec);
    }
    return r->log ? end_attempt(s, r, rc) : rc;
}

static mb_err exec_wait(void *state, double **rec)
{
    exec_state *s = state;
    *rec = NULL;
    for (;;) {
        start_waiting(s);
        for (size_t k = 0; k < s->nlive; k++)
            if (s->live[k]->done) {
                mb_err rc = outcome_of(s, s->live[k]);
                *rec = s->live[k]->rec;
                running_drop(s, k);
                return rc;
            }
        if (s->nlive == 0)
            return mb_error_set(MB_ERR_INTERNAL, "exec: waiting with no command started");
        mb_err rc = supervise(s);
        if (rc != MB_OK)
            return rc;
        if (idle_turn(s, mb_clock_now()))
            return MB_OK;
    }
}

static unsigned exec_slots(void *state)
{
    return ((exec_state *)state)->slots;
}

/* One task from start to end (the schedule uses start and wait). */
static mb_err exec_run(void *state, uint64_t task, mb_payload p, double *rec)
{
    double *done = NULL;
    mb_err rc = exec_start(state, task, p, rec);
    while (rc == MB_OK && done != rec) {
        rc = exec_wait(state, &done);
        if (rc != MB_OK && done != rec && done)
            rc = MB_OK; /* another task's failure (none runs beside this one) */
    }
    return rc;
}

static mb_err exec_reduce(void *state, uint64_t task, const char *failure, const double *rec)
{
    exec_state *s = state;
    s->tasks++;
    s->failed += failure != NULL;
    s->timed_out += rec[O_TIMED_OUT] != 0;
    s->wall_total += rec[O_WALL];
    s->wall_max = fmax(s->wall_max, rec[O_WALL]);
    s->rss_max = fmax(s->rss_max, rec[O_RSS]);
    return MB_OK;
}

static mb_err exec_summarize(void *state, cJSON *result)
{
    exec_state *s = state;
    cJSON_AddNumberToObject(result, "commands", (double)s->tasks);
    cJSON_AddNumberToObject(result, "succeeded", (double)(s->tasks - s->failed));
    cJSON_AddNumberToObject(result, "failed", (double)s->failed);
    cJSON_AddNumberToObject(result, "timed_out", (double)s->timed_out);
    cJSON_AddNumberToObject(result, "command_seconds_total", s->wall_total);
    cJSON_AddNumberToObject(result, "command_seconds_max", s->wall_max);
    cJSON_AddNumberToObject(result, "peak_rss_kib_max", s->rss_max);
    if (s->failed > 0 && (s->out || s->log)) {
        /* How to run exactly the failed tasks again (docs/user-guide.md). */
        char how[8400];
        if (s->out)
            snprintf(how, sizeof how, "mpibatch exec --rerun-failed %s --%s %s ...", s->out,
                     s->tmpl.text ? "args" : "commands", s->file);
        else
            snprintf(how, sizeof how, "mpibatch logs %s --failed --commands > failed.txt; "
                     "mpibatch exec --commands failed.txt ...", s->logs);
        cJSON_AddStringToObject(result, "rerun_failed", how);
        fprintf(stderr, "mpibatch: to run the failed tasks again: %s\n", how);
    }
    return MB_OK;
}

static void exec_teardown(void *state)
{
    exec_state *s = state;
    if (!s)
        return;
    helper_stop(s);
    mb_commands_template_free(&s->tmpl);
    while (s->nlive > 0)
        running_drop(s, s->nlive - 1);
    free(s->live);
    free(s->pfd);
    free(s->cpus);
    free(s->cpu_used);
    free(s->devs);
    free(s->dev_used);
    free(s->devlist);
    mb_exec_log_close(s->log);
    mb_exec_rerun_free(&s->rerun);
    free(s->envp);
    free(s);
}

const mb_kernel mb_kernel_exec = {
    .name = "exec",
    .summary = "run shell commands, one line of a file per task (timeouts, logs)",
    .options = exec_options,
    .setup = exec_setup,
    .fields = exec_fields,
    .open_source = exec_open_source,
    .run = exec_run,
    .slots = exec_slots,
    .start = exec_start,
    .wait = exec_wait,
    .reduce = exec_reduce,
    .summarize = exec_summarize,
    .teardown = exec_teardown,
    .flags = MB_KERNEL_LONG_TASKS | MB_KERNEL_WAITS_IDLE,
};
