/* error.c - last-error message store and code tables. */
#include "mpibatch/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One message per process: mpibatch calls MPI and HDF5 from one thread. */
static char last_message[1024];

mb_err mb_error_set(mb_err code, const char *fmt, ...)
{
    /* Format aside first: callers may pass mb_error_message() itself to
     * wrap the last message with more context. */
    char text[sizeof last_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    memcpy(last_message, text, sizeof text);
    return code;
}

const char *mb_error_message(void)
{
    return last_message;
}

void mb_error_clear(void)
{
    last_message[0] = '\0';
}

const char *mb_strerror(mb_err code)
{
    switch (code) {
    case MB_OK: return "success";
    case MB_ERR_USAGE: return "usage error";
    case MB_ERR_INPUT: return "input error";
    case MB_ERR_IO: return "I/O error";
    case MB_ERR_NOMEM: return "out of memory";
    case MB_ERR_MPI: return "MPI error";
    case MB_ERR_INTERNAL: return "internal error";
    case MB_ERR_TASKS: return "some tasks failed";
    case MB_ERR_STOPPED: return "stopped before the end";
    }
    return "unknown error";
}

int mb_error_exit_status(mb_err code)
{
    switch (code) {
    case MB_OK: return MB_EXIT_OK;
    case MB_ERR_TASKS: return MB_EXIT_TASKS;
    case MB_ERR_STOPPED: return MB_EXIT_STOPPED;
    case MB_ERR_USAGE: return MB_EXIT_USAGE;
    case MB_ERR_INPUT:
    case MB_ERR_IO: return MB_EXIT_INPUT;
    case MB_ERR_NOMEM:
    case MB_ERR_MPI:
    case MB_ERR_INTERNAL: return MB_EXIT_INTERNAL;
    }
    return MB_EXIT_INTERNAL;
}
