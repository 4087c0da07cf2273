/* output.h - the HDF5 output file, written by rank 0 only.
 *
 * Layout (readable with h5dump and h5py as it is):
 *   /results/<field>   one dataset per kernel result field, in task order
 *                      (shape [tasks] or [tasks, count]; float64 or int64)
 *   /tasks/rank, /tasks/start, /tasks/seconds, /tasks/status
 *                      which rank ran each task, when, for how long, outcome
 *   /failures/task, /failures/reason
 *                      each failed task and why, in task order
 *   /ranks/host        host name of each rank
 *   attributes of /    program, version, kernel, job (the spec as JSON),
 *                      result (the kernel summary as JSON), tasks
 * The file is written under a temporary name in the target directory and
 * renamed by mb_output_close(), so a failed run never leaves a file that
 * looks complete.
 */
#ifndef MPIBATCH_OUTPUT_H
#define MPIBATCH_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"
#include "mpibatch/kernel.h"

typedef struct mb_output mb_output;

/* Create the temporary file next to path and its datasets.  *out is owned
 * by the caller and released by mb_output_close() or mb_output_discard().
 * Errors (missing directory, permissions) name the path. */
mb_err mb_output_open(mb_output **out, const char *path, const mb_field *fields,
                      size_t nfields, const char *kernel, const char *spec_json);

/* Append n rows (layout in row.h) for the tasks that follow those already
 * appended.  Rows are buffered and written in large blocks. */
mb_err mb_output_append(mb_output *out, const double *rows, size_t n);

/* Record that task failed and why (reason is copied).  Failures are
 * added in task order. */
mb_err mb_output_add_failure(mb_output *out, uint64_t task, const char *reason);

/* Write what is buffered, the host table and the result attribute, close,
 * and rename to the final path.  Frees out whatever the outcome; on error
 * the temporary file is removed. */
mb_err mb_output_close(mb_output *out, const char *const *hosts, int nranks,
                       const char *result_json);

/* Mark out as the output of a job that stopped before its end: the
 * attribute "ending" (text, copied) says why; the rows are those done.
 * Call before mb_output_close(). */
mb_err mb_output_set_ending(mb_output *out, const char *text);

/* Close and remove the temporary file; for runs that fail. NULL is fine. */
void mb_output_discard(mb_output *out);

/* The name of a /tasks/status code (the mb_err a task ended with): "ok",
 * "usage_error", "bad_input", "io_error", "out_of_memory", "mpi_error",
 * "internal_error", "failed" (the task's own failure: exec's non-zero
 * exit, signal or timeout); "unknown" for any other code.  Static. */
const char *mb_output_status_name(int code);

#endif
