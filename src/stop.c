/* stop.c - signal handlers, the drain's clock, and the last-resort exit. */
#define _POSIX_C_SOURCE 200809L
#include "stop.h"

#include "mpibatch/error.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { NGROUPS = 64, NFILES = 8, PATHMAX = 4096 };

static const int caught[] = {SIGTERM, SIGUSR1, SIGINT};
#define NCAUGHT (sizeof caught / sizeof caught[0])

/* Written by the handler; the rest of the program only reads them. */
static volatile sig_atomic_t first_signal, signals_seen;
/* When the drain started (monotonic seconds), set with first_signal or by
 * mb_stop_note(); read only after draining is seen. */
static volatile double drain_start;
static volatile sig_atomic_t draining;
static double grace, term_grace;

/* What the handler cleans up after a second signal.  A slot is filled
 * before it is marked used, and unmarked before it is changed. */
static volatile pid_t groups[NGROUPS];
static char files[NFILES][PATHMAX];
static volatile sig_atomic_t file_used[NFILES];

/* The status document a second signal leaves (mb_stop_set_last_word):
 * two slots, so the handler never reads one being replaced. */
static char *last_text[2];
static char last_path[PATHMAX], last_tmp[PATHMAX];
static volatile sig_atomic_t last_slot = -1;

static void (*poll_fn)(void *);
static void *poll_arg;
static double poll_next;

static double deadline, task_time;
enum { NTIMES = 64 };
static double times[NTIMES], estimate;
static unsigned ntimes, since_estimate;

static struct sigaction saved[NCAUGHT];
static int installed;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe */
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void say(const char *s)
{
    ssize_t n = write(STDERR_FILENO, s, strlen(s));
    (void)n;
}

/* The second signal: only async-signal-safe calls from here on. */
static void end_now(int sig)
{
    for (int i = 0; i < NGROUPS; i++)
        if (groups[i] > 0)
            kill(-groups[i], SIGKILL);
    for (int i = 0; i < NFILES; i++)
        if (file_used[i])
            unlink(files[i]);
    if (last_slot >= 0) {
        const char *text = last_text[last_slot];
        int fd = open(last_tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        size_t off = 0, len = strlen(text);
        ssize_t n = 1;
        while (fd >= 0 && off < len && (n = write(fd, text + off, len - off)) > 0)
            off += (size_t)n;
        if (fd >= 0 && (close(fd) != 0 || off < len || rename(last_tmp, last_path) != 0))
            unlink(last_tmp);
    }
    say(sig == SIGINT ? "mpibatch: second SIGINT" : sig == SIGUSR1 ? "mpibatch: second SIGUSR1"
                                                                   : "mpibatch: second SIGTERM");
    say(": stopped at once; the journal keeps the finished tasks, run the same command again "
        "to continue\n");
    _exit(MB_EXIT_STOPPED);
}

static void on_signal(int sig)
{
    if (signals_seen++ > 0)
        end_now(sig);
    if (!draining) {
        drain_start = now();
        first_signal = sig;
        draining = 1;
    }
}

void mb_stop_install(double g)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NCAUGHT; i++)
        sigaddset(&sa.sa_mask, caught[i]);
    first_signal = signals_seen = draining = 0;
    deadline = 0;
    grace = term_grace = g;
    /* mpirun follows its SIGTERM to the ranks with SIGKILL a second later
     * (odls_base_sigkill_timeout, 1 s by default): leave time to clean up. */
    if (getenv("OMPI_MCA_orte_hnp_uri") && term_grace > 0.3)
        term_grace = 0.3;
    for (size_t i = 0; i < NCAUGHT; i++)
        sigaction(caught[i], &sa, installed ? NULL : &saved[i]);
    installed = 1;
}

void mb_stop_uninstall(void)
{
    /* A job that drains keeps its handler to the end: a second signal
     * while it finishes (MPI_Finalize, clean-up) still ends it at once
     * with 75, never by the signal's default action. */
    if (draining)
        return;
    for (size_t i = 0; installed && i < NCAUGHT; i++)
        sigaction(caught[i], &saved[i], NULL);
    installed = 0;
}

int mb_stop_signal(void)
{
    return draining ? first_signal : 0;
}

void mb_stop_note(int sig)
{
    sigset_t set, old;
    sigemptyset(&set);
    for (size_t i = 0; i < NCAUGHT; i++)
        sigaddset(&set, caught[i]);
    /* The handler must not start a drain between the test and the sets. */
    sigprocmask(SIG_BLOCK, &set, &old);
    if (!draining) {
        drain_start = now();
        first_signal = sig;
        draining = 1;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int mb_stop_draining(void)
{
    return draining != 0;
}

/* Seconds until the grace (or the deadline) ends, 0 once over. */
static double kill_in(void)
{
    double t = now(), left = deadline > 0 ? deadline - t : 1e9;
    if (draining) {
        double g = first_signal == SIGTERM || first_signal == SIGINT ? term_grace : grace;
        if (drain_start + g - t < left)
            left = drain_start + g - t;
    }
    return left > 0 ? left : 0;
}

double mb_stop_due_in(void)
{
    double left = kill_in();
    /* The poll function's next turn: a worker busy in a long task still
     * sends its heartbeats and hears of a drain. */
    if (poll_fn && poll_next - now() < left)
        left = poll_next > now() ? poll_next - now() : 0;
    return left;
}

void mb_stop_set_deadline(double mono_deadline, double estimate_seconds)
{
    deadline = mono_deadline;
    task_time = estimate_seconds;
    ntimes = since_estimate = 0;
    estimate = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void mb_stop_task_took(double seconds)
{
    if (deadline <= 0 || task_time > 0)
        return;
    times[ntimes++ % NTIMES] = seconds;
    /* The percentile is refreshed every 16 tasks: a sort of 64 numbers. */
    if (++since_estimate >= 16 || ntimes <= 16) {
        double sorted[NTIMES];
        unsigned n = ntimes < NTIMES ? ntimes : NTIMES;
        memcpy(sorted, times, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_double);
        estimate = sorted[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1];
        since_estimate = 0;
    }
}

int mb_stop_task_fits(void)
{
    if (draining)
        return 0;
    if (deadline <= 0 || now() + (task_time > 0 ? task_time : estimate) <= deadline)
        return 1;
    mb_stop_note(MB_STOP_DEADLINE);
    return 0;
}

void mb_stop_set_poll(void (*fn)(void *), void *arg)
{
    poll_fn = fn;
    poll_arg = arg;
    poll_next = 0;
}

void mb_stop_poll(void)
{
    if (poll_fn && now() >= poll_next) {
        poll_next = now() + MB_STOP_POLL_MS / 1000.0;
        poll_fn(poll_arg);
    }
}

int mb_stop_polling(void)
{
    return poll_fn != NULL;
}

int mb_stop_kill_due(void)
{
    mb_stop_poll();
    if (deadline > 0 && now() >= deadline)
        mb_stop_note(MB_STOP_DEADLINE);
    return draining && kill_in() <= 0;
}

const char *mb_stop_signal_name(int sig)
{
    static char other[32];
    switch (sig) {
    case MB_STOP_DEADLINE: return "the deadline";
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    }
    snprintf(other, sizeof other, "signal %d", sig);
    return other;
}

void mb_stop_track_group(pid_t pgid)
{
    for (int i = 0; i < NGROUPS; i++)
        if (groups[i] == 0) {
            groups[i] = pgid;
            return;
        }
}

void mb_stop_untrack_group(pid_t pgid)
{
    for (int i = 0; i < NGROUPS; i++)
        if (groups[i] == pgid)
            groups[i] = 0;
}

void mb_stop_track_file(const char *path)
{
    if (strlen(path) >= PATHMAX)
        return;
    for (int i = 0; i < NFILES; i++)
        if (!file_used[i]) {
            memcpy(files[i], path, strlen(path) + 1);
            file_used[i] = 1;
            return;
        }
}

void mb_stop_untrack_file(const char *path)
{
    for (int i = 0; i < NFILES; i++)
        if (file_used[i] && strcmp(files[i], path) == 0)
            file_used[i] = 0;
}

void mb_stop_set_last_word(const char *path, const char *text)
{
    int slot = last_slot == 0 ? 1 : 0;
    char *copy;
    if (!text) {
        last_slot = -1; /* the handler reads no slot from here on */
        free(last_text[0]);
        free(last_text[1]);
        last_text[0] = last_text[1] = NULL;
        return;
    }
    if (strlen(path) + 32 >= PATHMAX || !(copy = strdup(text)))
        return;
    if (last_slot < 0) {
        snprintf(last_path, sizeof last_path, "%s", path);
        snprintf(last_tmp, sizeof last_tmp, "%s.%ld.last", path, (long)getpid());
    }
    free(last_text[slot]);
    last_text[slot] = copy;
    last_slot = slot;
}
