/* kernel.h - the plug-in interface every kernel implements.
 *
 * A kernel is a struct of function pointers.  The scheduler, collector,
 * output and report see only this interface: a fixed-size result record per
 * task described by a list of fields, and an optional ordered reduction that
 * rank 0 feeds with every record in task order (so reductions give the same
 * bits at any rank count).
 */
#ifndef MPIBATCH_KERNEL_H
#define MPIBATCH_KERNEL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"
#include "mpibatch/options.h"

struct mb_job;
struct mb_source;

/* The version of the kernel interface: the structs of this header and of
 * options.h, and the functions of mpibatch a plug-in may call (error.h,
 * job.h's typed reads, mb_record_set_str, mb_kernel_idle_ms and
 * mb_kernel_idle, clock.h, source.h, batch.h).  It changes
 * whenever any of them changes incompatibly (2: slots, start and wait
 * joined the kernel struct). */
#define MB_KERNEL_ABI_VERSION 2

/* A plug-in kernel library (--kernel-lib) states, once at file scope, the
 * version it was compiled against; mpibatch refuses a library built for
 * another.  Its kernel is the exported object `const mb_kernel
 * mb_kernel_NAME`, run with --kernel NAME (docs/user-guide.md, "Writing a
 * kernel"). */
#define MB_KERNEL_PLUGIN_ABI \
    extern const unsigned mb_plugin_abi_version; \
    const unsigned mb_plugin_abi_version = MB_KERNEL_ABI_VERSION

/* A record is an array of 8-byte slots, so records need no padding.
 * MB_FIELD_F64: count doubles.  MB_FIELD_I64: count integers held as
 * doubles (exact up to 2^53), written out as int64.  MB_FIELD_STR: a
 * NUL-padded string of up to 8 * count - 1 bytes stored in count slots
 * (see mb_record_set_str), written out as a fixed-size string. */
typedef enum mb_field_type { MB_FIELD_F64, MB_FIELD_I64, MB_FIELD_STR } mb_field_type;

typedef struct mb_field {
    const char *name;     /* HDF5 dataset name under /results */
    mb_field_type type;
    unsigned count;       /* slots per task: elements, or 8-byte words of a string */
    const char *doc;      /* stored as the dataset's "description" attribute */
} mb_field;

/* The bytes a source attached to one task (empty for index-range kernels). */
typedef struct mb_payload {
    const char *data;
    size_t len;
} mb_payload;

typedef struct mb_kernel {
    const char *name;
    const char *summary;          /* one line for `mpibatch --help` */
    const mb_option *options;     /* the kernel's own options, name == NULL ends */

    /* Every rank, collectively on comm: validate the job's kernel options
     * and build the state (e.g. rank 0 loads a model and broadcasts it).
     * Returns MB_ERR_USAGE naming the key for a bad combination.  *state
     * may be set even on failure; teardown releases it. */
    mb_err (*setup)(const struct mb_job *job, MPI_Comm comm, void **state);

    /* Result record layout; *n receives the field count. */
    const mb_field *(*fields)(void *state, size_t *n);

    /* Number of tasks, for kernels whose tasks are numbers (NULL when the
     * kernel has a source). */
    uint64_t (*ntasks)(void *state);

    /* Rank 0 only, for kernels whose tasks come from input: open the source
     * of task payloads (NULL for index kernels). */
    mb_err (*open_source)(void *state, const struct mb_job *job, struct mb_source *src);

    /* Run one task, writing its record (zeroed beforehand).  A non-MB_OK
     * return marks only this task failed, with mb_error_message() as its
     * reason; the job goes on. */
    mb_err (*run)(void *state, uint64_t task, mb_payload payload, double *record);

    /* Rank 0 only, optional: fold one task's record in task order.
     * failure is NULL for a task that succeeded, else its reason.  An
     * error return stops the whole job (e.g. a bad record under --strict). */
    mb_err (*reduce)(void *state, uint64_t task, const char *failure, const double *record);

    /* Rank 0 only, optional: add the kernel's summary to the report's
     * "result" object (the caller owns it). */
    mb_err (*summarize)(void *state, cJSON *result);

    void (*teardown)(void *state);

    /* Optional, all three or none: several tasks in flight on one rank
     * (exec's --slots); the schedule then uses them instead of run().
     * slots: how many tasks this rank may have started and not yet seen
     * end (at least 1).  start: begin task `task`; its record (zeroed
     * beforehand) and payload stay valid until wait() reports it.  A
     * non-MB_OK return fails the task at once, as run() would.  wait:
     * block until a started task ends, calling mb_kernel_idle() meanwhile
     * as run() does; set *record to that task's record and return its
     * outcome as run() would (with mb_error_message() as the reason), or
     * return MB_OK with *record NULL as soon as mb_kernel_idle() returns
     * nonzero. */
    unsigned (*slots)(void *state);
    mb_err (*start)(void *state, uint64_t task, mb_payload payload, double *record);
    mb_err (*wait)(void *state, double **record);

    /* MB_KERNEL_LONG_TASKS: tasks take seconds or more (commands).  Chunks
     * then default to one task, workers hold none queued until chunk times
     * are known to be short, and in the dynamic schedule rank 0 only hands
     * out work when other ranks exist (unless MB_KERNEL_WAITS_IDLE): it
     * runs its own tasks between polls, so one long task there would leave
     * the others waiting. */
    unsigned flags;
} mb_kernel;

#define MB_KERNEL_LONG_TASKS 1u
/* MB_KERNEL_WAITS_IDLE: while a task waits (on a child process, say), run()
 * calls mb_kernel_idle() at least every mb_kernel_idle_ms() milliseconds.
 * Rank 0 of the dynamic schedule then runs such tasks too (even with
 * MB_KERNEL_LONG_TASKS), serving the other ranks and the progress line
 * from inside them. */
#define MB_KERNEL_WAITS_IDLE 2u

/* For a task that waits: the most milliseconds it should wait before
 * calling mb_kernel_idle(), or -1 when nothing needs it. */
int mb_kernel_idle_ms(void);
/* Let the schedule do its work (answer other ranks, draw progress) while
 * the task waits.  Errors are the schedule's: it stops the job after the
 * task returns.  A task that computes for long (longer than --heartbeat)
 * calls it too, every few milliseconds: on a dynamic worker it sends the
 * heartbeats that keep the rank from being taken as lost (a clock read
 * when none is due).  Nonzero: the schedule has work for a free slot, so
 * a kernel's wait() should return at once (with *record NULL); a task
 * that computes may ignore it. */
int mb_kernel_idle(void);

/* Store s in `words` slots of a record, NUL-padded; returns 0 if s needed
 * more than 8 * words - 1 bytes (then nothing is stored). */
int mb_record_set_str(double *slots, unsigned words, const char *s, size_t len);

#endif
