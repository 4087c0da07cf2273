/* exec_spawn.c - mpibatch-spawn, the helper that starts and reaps the exec
 * kernel's commands (the protocol is in exec_spawn.h).
 *
 * One helper per rank.  It waits in poll() on its socket to the rank and on
 * a signalfd for SIGCHLD: a request forks `/bin/sh -c COMMAND` in a process
 * group of its own, with stdin from /dev/null and the two pipes the rank
 * sent as stdout and stderr (pinned to the CPUs of MB_CPUS when the
 * request sets it); a child's exit is reaped at once, its group
 * (whatever it left running) is killed, and the status and resource use go
 * back to the rank.  The helper is kept small (no MPI, no sanitizer) because
 * a forked child's peak resident memory starts from the helper's.
 */
#define _GNU_SOURCE /* signalfd, wait4, MSG_CMSG_CLOEXEC, sched_setaffinity */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/exec_spawn.h"

extern char **environ;

enum { MAX_MSG = 1 << 20 };

typedef struct child {
    pid_t pid;
    uint64_t tag;
} child;

static child *kids;
static size_t nkids, capkids;

static void send_done(uint64_t tag, int err, int status, const struct rusage *ru)
{
    mb_spawn_done d;
    memset(&d, 0, sizeof d);
    d.type = MB_SPAWN_DONE;
    d.err = err;
    d.tag = tag;
    d.status = status;
    if (ru)
        d.ru = *ru;
    /* A rank that is gone shows as the end of the socket in the main loop. */
    (void)send(MB_SPAWN_FD, &d, sizeof d, MSG_NOSIGNAL);
}

/* The environment of one command: the request's variables, then ours
 * without the ones the request sets.  NULL when out of memory. */
static char **command_env(char *vars, size_t len)
{
    size_t n = 0, k = 0, own = 0;
    for (size_t i = 0; i < len; i++)
        n += vars[i] == '\0';
    while (environ[own])
        own++;
    char **envp = calloc(n + own + 1, sizeof *envp);
    if (!envp)
        return NULL;
    for (char *v = vars; v < vars + len; v += strlen(v) + 1)
        envp[k++] = v;
    for (size_t i = 0; i < own; i++) {
        size_t name = strcspn(environ[i], "=") + 1;
        int set = 0;
        for (size_t j = 0; j < n && !set; j++)
            set = strncmp(envp[j], environ[i], name) == 0;
        if (!set)
            envp[k++] = environ[i];
    }
    return envp;
}

/* In the child: pin it to the CPUs of MB_CPUS (a comma-separated list the
 * rank sets for --cores-per-task), if the request set it. */
static void pin(char **envp)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; envp[i]; i++) {
        if (strncmp(envp[i], "MB_CPUS=", 8) != 0)
            continue;
        for (char *p = envp[i] + 8; *p;) {
            char *end;
            long c = strtol(p, &end, 10);
            if (end == p || c < 0 || c >= CPU_SETSIZE)
                break;
            CPU_SET((int)c, &set);
            p = *end == ',' ? end + 1 : end;
        }
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            dprintf(2, "mpibatch-spawn: cannot pin the command to CPUs %s: %s\n", envp[i] + 8,
                    strerror(errno));
            _exit(127);
        }
        return;
    }
}

/* The signals that drain a job (src/stop.c).  The helper ignores them:
 * under srun, Slurm sends them to every process of the step, the helper
 * included, and the rank decides what a drain does to its commands. */
static const int drain_signals[] = {SIGTERM, SIGUSR1, SIGINT};
enum { NDRAIN = sizeof drain_signals / sizeof drain_signals[0] };

/* In the child: become the leader of a new group and run the command with
 * every signal unblocked and the drain signals back at their defaults
 * (SIGCHLD is blocked in the helper for its signalfd). */
static void run_child(char *cmd, char **envp, const int fds[2])
{
    sigset_t none;
    char *argv[] = {"sh", "-c", cmd, NULL};
    int in = open("/dev/null", O_RDONLY);
    setpgid(0, 0);
    for (int i = 0; i < NDRAIN; i++)
        signal(drain_signals[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (in < 0 || dup2(in, 0) < 0 || dup2(fds[0], 1) < 0 || dup2(fds[1], 2) < 0)
        _exit(127);
    pin(envp);
    execve("/bin/sh", argv, envp);
    dprintf(2, "mpibatch-spawn: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(127);
}

static void start(const mb_spawn_req *req, char *body, const int fds[2])
{
    char *env = body, *cmd = body + req->env_len;
    char **envp = NULL;
    int err = 0;
    pid_t pid = -1;
    cmd[req->cmd_len] = '\0';
    if (nkids == capkids) {
        size_t cap = capkids ? 2 * capkids : 16;
        child *k = realloc(kids, cap * sizeof *k);
        if (k) {
            kids = k;
            capkids = cap;
        }
    }
    if (nkids == capkids || !(envp = command_env(env, req->env_len)))
        err = ENOMEM;
    else if ((pid = fork()) < 0)
        err = errno;
    else if (pid == 0)
        run_child(cmd, envp, fds);
    free(envp);
    if (err) {
        send_done(req->tag, err, 0, NULL);
        return;
    }
    /* Also here, so that a kill of the group cannot come before the
     * child's own setpgid (EACCES: the child has run exec already). */
    setpgid(pid, pid);
    kids[nkids++] = (child){pid, req->tag};
}

static void signal_tag(uint64_t tag, int sig)
{
    for (size_t i = 0; i < nkids; i++)
        if (kids[i].tag == tag)
            kill(-kids[i].pid, sig);
}

/* One request; returns 0 at the end of the socket. */
static int handle_request(char *buf)
{
    char ctl[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = {buf, MAX_MSG};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                         .msg_controllen = sizeof ctl};
    int fds[2] = {-1, -1};
    ssize_t n = recvmsg(MB_SPAWN_FD, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
            memcpy(fds, CMSG_DATA(c), sizeof fds);
    mb_spawn_req req = {0};
    if ((size_t)n >= sizeof req)
        memcpy(&req, buf, sizeof req);
    if (req.type == MB_SPAWN_KILL)
        signal_tag(req.tag, req.sig);
    else if (req.type == MB_SPAWN_START && fds[0] >= 0 && fds[1] >= 0 &&
             (size_t)n == sizeof req + req.env_len + req.cmd_len &&
             (req.env_len == 0 || buf[sizeof req + req.env_len - 1] == '\0'))
        start(&req, buf + sizeof req, fds);
    else if (req.type == MB_SPAWN_START)
        send_done(req.tag, EPROTO, 0, NULL);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return 1;
}

/* Reap every child that has exited: kill what it left in its group while
 * the exited leader (a zombie until wait4) still holds the group's id. */
static void reap(void)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            return;
        int status = 0;
        struct rusage ru;
        kill(-si.si_pid, SIGKILL);
        if (wait4(si.si_pid, &status, 0, &ru) < 0)
            return;
        for (size_t i = 0; i < nkids; i++)
            if (kids[i].pid == si.si_pid) {
                send_done(kids[i].tag, 0, status, &ru);
                kids[i] = kids[--nkids];
                break;
            }
    }
}

int main(void)
{
    sigset_t chld;
    struct signalfd_siginfo ssi;
    char *buf = malloc(MAX_MSG + 1);
    for (int i = 0; i < NDRAIN; i++)
        signal(drain_signals[i], SIG_IGN);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (!buf || sfd < 0 || fcntl(MB_SPAWN_FD, F_SETFD, FD_CLOEXEC) != 0) {
        fprintf(stderr, "mpibatch-spawn: cannot start: %s (run by mpibatch only)\n",
                strerror(errno));
        return 1;
    }
    for (int open = 1; open;) {
        struct pollfd p[2] = {{.fd = MB_SPAWN_FD, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN) {
            while (read(sfd, &ssi, sizeof ssi) > 0)
                ;
            reap();
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
            open = handle_request(buf);
    }
    /* The rank is gone or done: nothing it started outlives it. */
    for (size_t i = 0; i < nkids; i++)
        kill(-kids[i].pid, SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    free(buf);
    free(kids);
    return 0;
}
