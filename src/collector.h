/* collector.h - rank 0's in-order sink for results.
 *
 * Chunks of rows arrive in any order (dynamic schedule, several ranks);
 * the collector holds early ones until the gap before them fills, then
 * passes rows on strictly in task order: to the output file, to the
 * kernel's ordered reduction, and into per-rank statistics; failed tasks'
 * reasons go to the output's failure table, and the first few are kept
 * for the report.  Memory is bounded by the chunks in flight, not by the
 * task count.
 */
#ifndef MPIBATCH_COLLECTOR_H
#define MPIBATCH_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"
#include "mpibatch/kernel.h"
#include "output.h"
#include "wire.h"

typedef struct mb_collector mb_collector;

/* Failures kept for the report: the first MB_COLLECTOR_KEEP. */
#define MB_COLLECTOR_KEEP 100

typedef struct mb_failure {
    uint64_t task;
    char *reason;
} mb_failure;

typedef struct mb_rank_stats {
    uint64_t tasks;
    double busy_seconds;  /* sum of the run times of its tasks */
} mb_rank_stats;

/* The slowest tasks run so far are kept (MB_COLLECTOR_SLOWEST of them)
 * for the status document, where they point at stragglers. */
#define MB_COLLECTOR_SLOWEST 10

typedef struct mb_slow_task {
    uint64_t task;
    double seconds;
    int rank;
} mb_slow_task;

/* out may be NULL (no --out).  The caller owns *c; free with
 * mb_collector_free().  kernel/kstate receive reduce() calls. */
mb_err mb_collector_init(mb_collector **c, const mb_kernel *kernel, void *kstate,
                         size_t reclen, int nranks, mb_output *out);

/* Take one decoded result message.  The collector copies what it must
 * keep; the message may be reused at once. */
mb_err mb_collector_add(mb_collector *c, const mb_result *r);

struct mb_journal;

/* Record every chunk taken from now in j (NULL: none) as it arrives, also
 * one held for an earlier gap; the caller keeps ownership of j. */
void mb_collector_set_journal(mb_collector *c, struct mb_journal *j);

/* --max-failures: the job must stop once more than max_count tasks
 * failed, or (max_percent >= 0) more than max_percent % of the tasks passed
 * on, counted from 100 tasks on.  Checked after each chunk, which stays
 * recorded; mb_collector_limit() then says why. */
void mb_collector_set_limit(mb_collector *c, uint64_t max_count, double max_percent);

/* Why the job must stop ("stopped early: 3 tasks failed, more than
 * --max-failures 2 (12 tasks done)"), or NULL while it need not. */
const char *mb_collector_limit(const mb_collector *c);

/* Take a result recorded by an earlier run (the journal): passed on like
 * mb_collector_add() but left out of the per-rank statistics and not
 * recorded again. */
mb_err mb_collector_replay(mb_collector *c, const mb_result *r);

/* Tasks passed on in order so far. */
uint64_t mb_collector_done(const mb_collector *c);

/* Tasks whose status was not 0. */
uint64_t mb_collector_failed(const mb_collector *c);

/* The first failures in task order (*n of them; owned by the collector). */
const mb_failure *mb_collector_failures(const mb_collector *c, size_t *n);

/* Chunks held waiting for an earlier gap to fill. */
size_t mb_collector_pending(const mb_collector *c);

/* Per-rank statistics (nranks entries, owned by the collector). */
const mb_rank_stats *mb_collector_stats(const mb_collector *c);

/* The slowest tasks run so far, longest first (*n of them, at most
 * MB_COLLECTOR_SLOWEST; owned by the collector). */
const mb_slow_task *mb_collector_slowest(const mb_collector *c, size_t *n);

void mb_collector_free(mb_collector *c);

#endif
