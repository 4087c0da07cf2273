/* row.h - one task's row as it travels from a rank to the output.
 *
 * A row is the kernel's record (reclen doubles) followed by MB_ROW_EXTRA
 * bookkeeping values.  The rows of a chunk travel inside a result message
 * (wire.h); the collector, output and journal read them in this layout.
 */
#ifndef MPIBATCH_ROW_H
#define MPIBATCH_ROW_H

#include <stddef.h>

enum {
    MB_ROW_RANK = 0,    /* rank that ran the task */
    MB_ROW_START,       /* start, seconds since the job's start */
    MB_ROW_SECONDS,     /* run time of the task */
    MB_ROW_STATUS,      /* 0 ok, else the mb_err of the failure */
    MB_ROW_EXTRA
};

/* Doubles per row for a kernel record of reclen doubles. */
static inline size_t mb_row_len(size_t reclen)
{
    return reclen + MB_ROW_EXTRA;
}

#endif
