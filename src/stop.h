/* stop.h - ending a job before its end: signals, the drain and its grace.
 *
 * SIGTERM, SIGUSR1 and SIGINT do not end mpibatch: the first one starts a
 * drain.  No task is started after it; tasks already running may finish
 * for the drain's grace, then long-running kernels (exec) kill them and
 * report them as not done (MB_ERR_STOPPED, never a failure).  Ranks learn
 * of a drain from their own signal or from rank 0 (mb_stop_note), so a
 * signal that reaches one rank only still stops the whole job.
 *
 * A second signal ends the process at once, from the handler: it kills the
 * process groups of the commands still running (mb_stop_track_group),
 * removes the temporary files not yet renamed into place
 * (mb_stop_track_file), says so on standard error and exits with 75, so
 * nothing is left running and nothing half-written looks complete.
 *
 * Under Open MPI's mpirun, a SIGTERM or SIGINT to mpirun reaches the ranks
 * as SIGTERM one second later, followed by SIGKILL after another second
 * (odls_base_sigkill_timeout); SIGUSR1 is forwarded at once and nothing
 * follows it.  A rank launched by mpirun therefore caps the grace of a
 * SIGTERM or SIGINT at 0.3 s, and SIGUSR1 is the signal that drains with
 * the whole grace (docs/user-guide.md, "Stopping and resuming").
 */
#ifndef MPIBATCH_STOP_H
#define MPIBATCH_STOP_H

#include <sys/types.h>

/* Catch SIGTERM, SIGUSR1 and SIGINT on this rank; running tasks get grace
 * seconds after the first one.  Forgets an earlier drain. */
void mb_stop_install(double grace);

/* Restore the signal dispositions found by mb_stop_install(), unless the
 * job drains (then a later signal still ends it with 75). */
void mb_stop_uninstall(void);

/* The signal that started the drain (caught here or noted), 0 if none. */
int mb_stop_signal(void);

/* mb_stop_signal() of a drain the deadline started. */
#define MB_STOP_DEADLINE (-1)

/* The job's deadline on this rank's monotonic clock (<= 0: none) and the
 * user's estimate of a task's time (0: measured).  A task that would not
 * end before the deadline is not started (mb_stop_task_fits) and one still
 * running at the deadline is killed (mb_stop_kill_due). */
void mb_stop_set_deadline(double mono_deadline, double task_time);

/* Whether a task may start now: no drain, and, with a deadline, now plus
 * the task's expected time (the --task-time estimate, else the 90th
 * percentile of this rank's last 64 task times) is before it.  A task
 * that does not fit starts the drain (MB_STOP_DEADLINE). */
int mb_stop_task_fits(void);

/* A task took seconds (feeds the estimate; only with a deadline). */
void mb_stop_task_took(double seconds);

/* Start draining on behalf of signal sig caught by another rank (sig 0:
 * for another reason, such as the deadline); a drain already under way is
 * kept.  Not for signal handlers. */
void mb_stop_note(int sig);

/* Whether a drain is under way: start no task. */
int mb_stop_draining(void);

/* Whether the grace is over: kill the tasks still running.  Kernels that
 * wait for a task (exec) call it at least every 100 ms: it also runs the
 * poll function, which lets a worker hear of a drain from rank 0 while its
 * task runs. */
int mb_stop_kill_due(void);

/* While a task runs, mb_stop_kill_due() and mb_stop_poll() call fn(arg) at
 * most every MB_STOP_POLL_MS (NULL: none); the dynamic schedule's workers
 * look for rank 0's drain message and send their heartbeats, the static
 * schedule's (with --heartbeat) send their heartbeats. */
void mb_stop_set_poll(void (*fn)(void *), void *arg);
#define MB_STOP_POLL_MS 100

/* The poll function's turn if it is due: one clock read when it is not.
 * Kernels reach it through mb_kernel_idle(), also from inside a long
 * computation (euler's block sum), so a busy worker still sends its
 * heartbeats. */
void mb_stop_poll(void);

/* Whether a poll function is set (this rank is a dynamic worker, or a
 * watched static one). */
int mb_stop_polling(void);

/* Seconds until mb_stop_kill_due() has work (the grace's or the deadline's
 * end, or the poll function's next turn; 0 when due, a large number when
 * nothing is pending), for event loops' timeouts. */
double mb_stop_due_in(void);

/* "SIGTERM" for SIGTERM, and so on ("the deadline" for MB_STOP_DEADLINE,
 * "signal N" for others). */
const char *mb_stop_signal_name(int sig);

/* A second signal writes text to path (through a temporary file beside it
 * and a rename) before it ends the process: the status document then says
 * how the job ended.  The latest call wins; path must stay the same.  A
 * NULL text forgets it (the document's final version is written). */
void mb_stop_set_last_word(const char *path, const char *text);

/* Process group pgid runs a command: kill it if a second signal ends the
 * process.  At most 64 groups are tracked per process; untrack it once it
 * has been reaped. */
void mb_stop_track_group(pid_t pgid);
void mb_stop_untrack_group(pid_t pgid);

/* path is a temporary file to remove if a second signal ends the process
 * (a copy is kept; at most 8 paths, each shorter than 4096 bytes). */
void mb_stop_track_file(const char *path);
void mb_stop_untrack_file(const char *path);

#endif
