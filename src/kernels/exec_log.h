/* exec_log.h - exec's streamed logs: one append-only file per rank.
 *
 * With --logs DIR (the default --log-mode stream) each rank appends its
 * commands' output to DIR/rank-NNNN.log and notes where each attempt
 * begins and ends in DIR/rank-NNNN.idx.  Every record of the log is
 * tagged with the run, the task and its stream, holds a CRC, and points
 * back to the previous record of the same attempt, so a reader finds a
 * task's output from the index without scanning the logs.  A job killed
 * mid-write leaves at most a torn last record, which the reader detects
 * by its CRC and ignores.  A later run into the same DIR appends under a
 * new run id, so earlier runs stay readable.  The byte layout is in
 * docs/user-guide.md (Logs); integers are little-endian.
 */
#ifndef MPIBATCH_EXEC_LOG_H
#define MPIBATCH_EXEC_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mpibatch/error.h"

/* Streams of a command, as the masks of mb_exec_log_print. */
enum { MB_EXEC_LOG_OUT = 1, MB_EXEC_LOG_ERR = 2 };

/* How an attempt ended. */
typedef struct mb_exec_log_end {
    int64_t exit_status;  /* -1 when a signal ended it */
    int64_t signal;       /* 0 if none */
    int timed_out;
    int failed;           /* the task failed (its reason below) */
    double seconds;       /* from start to exit */
    const char *reason;   /* failure reason, or NULL */
} mb_exec_log_end;

/* ---- writer (one per rank) ---- */

typedef struct mb_exec_log mb_exec_log;

/* One attempt being written: begin fills it, write and end use it. */
typedef struct mb_exec_log_attempt {
    uint64_t task;
    uint64_t begin;       /* offset of its begin record */
    uint64_t last;        /* offset + 1 of the attempt's last record */
} mb_exec_log_attempt;

/* Open (creating, else appending to) DIR/rank-NNNN.log and .idx for run
 * `run` (the same on every rank of a job).  The caller frees *log with
 * mb_exec_log_close. */
mb_err mb_exec_log_open(const char *dir, int rank, uint64_t run, mb_exec_log **log);

void mb_exec_log_close(mb_exec_log *log);

/* The start of an attempt of task `task` (source line `line`, command
 * `cmd`).  These return 0 or the errno of a failed write. */
int mb_exec_log_begin(mb_exec_log *log, mb_exec_log_attempt *a, uint64_t task, uint64_t line,
                      const char *cmd);

/* n bytes of stream MB_EXEC_LOG_OUT or MB_EXEC_LOG_ERR. */
int mb_exec_log_write(mb_exec_log *log, mb_exec_log_attempt *a, int stream, const void *buf,
                      size_t n);

int mb_exec_log_end_attempt(mb_exec_log *log, mb_exec_log_attempt *a, const mb_exec_log_end *e);

/* ---- reader ---- */

/* One attempt of a task as the index and the log tell it. */
typedef struct mb_exec_log_entry {
    uint64_t run, task, line;
    int rank;
    int file;             /* which log of the reader */
    uint64_t begin_off;   /* of its begin record */
    uint64_t end_off;     /* of its end record; UINT64_MAX when it never ended */
    double start, end;    /* wall clock (seconds since the epoch) */
    int finished, failed, timed_out;
    int64_t exit_status, signal;
    int attempt, attempts;  /* 1-based number among its task's attempts in its run, count */
    int superseded;       /* another attempt's result is the task's */
} mb_exec_log_entry;

typedef struct mb_exec_log_reader {
    char *dir;
    int nfiles;
    char **logs;          /* paths of the rank logs */
    mb_exec_log_entry *e; /* sorted by run, task, start */
    size_t n;
    uint64_t *runs;       /* distinct run ids, oldest first */
    size_t nruns;
} mb_exec_log_reader;

/* Read every index in dir.  A torn or corrupt last index entry is
 * ignored; one in the middle is an error naming the file and offset.
 * The caller frees r with mb_exec_log_reader_free. */
mb_err mb_exec_log_read(const char *dir, mb_exec_log_reader *r);

void mb_exec_log_reader_free(mb_exec_log_reader *r);

/* The entries of task `task` in run `run`: *first is the index of the
 * first in r->e, the count is returned (0: none). */
size_t mb_exec_log_find(const mb_exec_log_reader *r, uint64_t run, uint64_t task, size_t *first);

/* The command and, for a failed attempt, the reason of entry e (NULL if
 * none); the caller frees both. */
mb_err mb_exec_log_describe(const mb_exec_log_reader *r, const mb_exec_log_entry *e, char **cmd,
                            char **reason);

/* Write entry e's output to fp: stdout then stderr, as masked. */
mb_err mb_exec_log_print(const mb_exec_log_reader *r, const mb_exec_log_entry *e, int streams,
                         FILE *fp);

#endif
