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

/* A record is an array of doubles, one per element, so records need no
 * padding and travel as MPI_DOUBLE.  MB_FIELD_I64 elements hold integers
 * (exact up to 2^53) and are written out as 64-bit integer datasets. */
typedef enum mb_field_type { MB_FIELD_F64, MB_FIELD_I64 } mb_field_type;

typedef struct mb_field {
    const char *name;     /* HDF5 dataset name under /results */
    mb_field_type type;
    unsigned count;       /* elements per task: 1, or a row such as per-class scores */
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

    /* Rank 0 only, optional: fold one task's record in task order; status
     * is 0 for success, else the task's error code. */
    void (*reduce)(void *state, uint64_t task, int status, const double *record);

    /* Rank 0 only, optional: add the kernel's summary to the report's
     * "result" object (the caller owns it). */
    mb_err (*summarize)(void *state, cJSON *result);

    void (*teardown)(void *state);
} mb_kernel;

/* Kernel by name from the built-in registry, or NULL. */
const mb_kernel *mb_kernel_find(const char *name);

/* The NULL-terminated registry, for help listings. */
const mb_kernel *const *mb_kernel_registry(void);

/* Doubles per record for a field list. */
size_t mb_kernel_record_len(const mb_field *fields, size_t n);

#endif
