/* feed.c - rank 0's feed of chunks, and what the schedules share. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "journal.h"
#include "schedule/internal.h"


int mb_feed_waits(mb_feed *f)
{
    if (f->barrier && mb_collector_done(f->r->col) >= f->next)
        f->barrier = 0;
    return f->barrier;
}

/* The next chunk's payloads (at most max) into f->batch; a read that
 * stopped at a barrier with nothing before it (the barrier first, or two
 * in a row) reads again once the barrier is passed. */
static mb_err feed_read(mb_feed *f, uint64_t max, uint64_t *count)
{
    mb_source *src = f->r->source;
    mb_err rc;
    do {
        mb_batch_clear(&f->batch);
        if ((rc = src->read(src->state, max, &f->batch)) != MB_OK)
            return rc;
        *count = f->batch.count;
        f->barrier = src->at_barrier && src->at_barrier(src->state);
        f->done = *count < max && !f->barrier;
    } while (*count == 0 && !mb_feed_waits(f) && !f->done);
    return MB_OK;
}

/* Replay the journal's islands that start here (tasks an earlier run
 * finished past a gap; for a source, their input is read and checked);
 * *max is how many tasks the next chunk may take before the next island. */
static mb_err skip_islands(mb_feed *f, uint64_t *max)
{
    uint64_t first, count;
    mb_err rc = MB_OK;
    *max = f->r->chunk;
    while (rc == MB_OK && mb_journal_island(f->r->journal, &first, &count)) {
        if (first > f->next) {
            *max = first - f->next < *max ? first - f->next : *max;
            break;
        }
        rc = mb_journal_replay_island(f->r->journal);
        f->next += count;
    }
    return rc;
}

/* Append the next chunk's work message to out; *count is 0 at the end. */
mb_err mb_feed_next(mb_feed *f, mb_buf *out, uint64_t *count)
{
    const mb_run *r = f->r;
    uint64_t max;
    mb_err rc;
    *count = 0;
    if (f->done || f->stopped || mb_feed_waits(f))
        return MB_OK;
    if ((rc = skip_islands(f, &max)) != MB_OK)
        return rc;
    if (!r->source) {
        *count = f->next >= r->ntasks ? 0 : r->ntasks - f->next < max ? r->ntasks - f->next : max;
        f->done = f->next + *count >= r->ntasks;
    } else {
        if ((rc = feed_read(f, max, count)) != MB_OK)
            return rc;
        for (uint64_t i = 0; i < *count; i++) {
            const uint64_t *off = f->batch.offsets;
            if ((rc = mb_journal_note_input(r->journal, f->next + i, f->batch.bytes.data + off[i],
                                            off[i + 1] - off[i])) != MB_OK)
                return rc;
        }
    }
    if (f->done && mb_journal_island(r->journal, &max, count))
        return mb_error_set(MB_ERR_USAGE, "the input ends before task %llu, which the journal "
                            "records: the input changed since the journal was written; restore "
                            "it, or remove the journal to start over", (unsigned long long)max);
    if (*count == 0)
        return MB_OK;
    rc = mb_wire_put_work(out, f->next, *count, r->source ? &f->batch : NULL, 0);
    f->next += *count;
    return rc;
}

/* Rank 0: where the feed is, for the progress line and status document
 * (which draw or write only when due). */
void mb_feed_progress(const mb_run *r, const mb_feed *f, int64_t running)
{
    mb_progress_feed pf = {.dispatched = f->next, .input_done = f->done,
                           .retried = r->retried, .speculated = r->speculated,
                           .running_known = running >= 0,
                           .running = running >= 0 ? (uint64_t)running : 0};
    mb_progress_update(r->progress, &pf);
}

int mb_result_not_done(const mb_run *r, const mb_result *res)
{
    size_t rowlen = mb_row_len(r->reclen);
    for (uint64_t i = 0; i < res->count; i++)
        if (res->rows[i * rowlen + r->reclen + MB_ROW_STATUS] == (double)MB_ERR_STOPPED)
            return 1;
    return 0;
}

int mb_schedule_must_drain(mb_run *r)
{
    const char *limit = mb_collector_limit(r->col);
    int sig = mb_stop_signal();
    if (!mb_stop_draining() && !limit)
        return 0;
    if (!*r->ending) {
        if (limit)
            snprintf(r->ending, sizeof r->ending, "%s", limit);
        else if (sig == MB_STOP_DEADLINE)
            snprintf(r->ending, sizeof r->ending, "stopped at the deadline (a task would "
                     "not have finished in time)");
        else
            snprintf(r->ending, sizeof r->ending, "stopped by %s",
                     sig ? mb_stop_signal_name(sig) : "a request");
        mb_stop_note(0); /* no task starts here either */
    }
    return 1;
}

mb_err mb_schedule_collect(const mb_run *r, const char *msg, size_t len, size_t *pos)
{
    mb_result res;
    mb_err rc = mb_wire_get_result(msg, len, pos, mb_row_len(r->reclen), &res);
    return rc == MB_OK ? mb_collector_add(r->col, &res) : rc;
}


