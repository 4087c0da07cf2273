/* error.h - the one error-reporting path of mpibatch.
 *
 * Every fallible function returns an mb_err (0 = MB_OK).  The function that
 * detects a problem records a human message with mb_error_set(); callers
 * pass the code up unchanged, and only the driver decides to stop, prints
 * mb_error_message() and maps the code to an exit status.
 */
#ifndef MPIBATCH_ERROR_H
#define MPIBATCH_ERROR_H

typedef enum mb_err {
    MB_OK = 0,
    MB_ERR_USAGE,    /* bad flag, bad job-spec key or value: exit 2 */
    MB_ERR_INPUT,    /* unreadable or malformed input file: exit 3 */
    MB_ERR_IO,       /* cannot write output, disk full: exit 3 */
    MB_ERR_NOMEM,    /* allocation failed: exit 4 */
    MB_ERR_MPI,      /* an MPI call failed: exit 4 */
    MB_ERR_INTERNAL, /* a broken invariant: exit 4 */
    MB_ERR_TASKS,    /* the job ran but some tasks failed: exit 1 */
    MB_ERR_STOPPED   /* stopped before the end (signal, deadline, lost rank); the
                      * same command continues it: exit 75.  A task a kernel
                      * returns it for is not done, not failed. */
} mb_err;

/* Documented exit statuses (DESIGN.md, mpibatch(1)). */
enum {
    MB_EXIT_OK = 0,
    MB_EXIT_TASKS = 1,
    MB_EXIT_USAGE = 2,
    MB_EXIT_INPUT = 3,
    MB_EXIT_INTERNAL = 4,
    MB_EXIT_STOPPED = 75 /* EX_TEMPFAIL of sysexits.h: run the same command again */
};

/* Record the message for the error being returned; returns code so that
 * `return mb_error_set(MB_ERR_INPUT, "...")` reads naturally. */
mb_err mb_error_set(mb_err code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message of the last mb_error_set() (never NULL; "" if none). */
const char *mb_error_message(void);

/* Forget the last message (used before a fresh attempt). */
void mb_error_clear(void);

/* A static description of a code, e.g. "usage error". */
const char *mb_strerror(mb_err code);

/* The process exit status a code maps to. */
int mb_error_exit_status(mb_err code);

#endif
