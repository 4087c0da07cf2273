/* exec_rerun.h - the failed tasks of an earlier exec output, to run again.
 *
 * `exec --rerun-failed OLD.h5 --commands FILE` runs only the lines of FILE
 * whose tasks failed (or timed out) in OLD.h5: this reads their line
 * numbers (/results/line) and the commands recorded for them
 * (/results/command, the first 255 bytes), so that the source can pick
 * those lines and check that FILE still holds the same commands.
 */
#ifndef MPIBATCH_EXEC_RERUN_H
#define MPIBATCH_EXEC_RERUN_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

typedef struct mb_exec_rerun {
    const char *path;
    uint64_t *lines;      /* line numbers of the failed tasks, ascending */
    uint64_t *tasks;      /* their task ids in path */
    char **commands;      /* the command recorded for each */
    size_t n;
} mb_exec_rerun;

/* Read the failed tasks of exec output `path` into r (the caller frees it
 * with mb_exec_rerun_free).  An output without failures, or one not
 * written by exec with line numbers, is MB_ERR_INPUT. */
mb_err mb_exec_rerun_load(const char *path, mb_exec_rerun *r);

void mb_exec_rerun_free(mb_exec_rerun *r);

/* Whether cmd is the command recorded for lines[i]: the record keeps
 * the first 255 bytes, so those must agree. */
int mb_exec_rerun_same(const mb_exec_rerun *r, size_t i, const char *cmd);

#endif
