/* journal.h - rank 0's durable record of finished tasks, for --resume.
 *
 * An append-only binary file (docs/architecture.md, "Journal"):
 *   header  "MBJRNL1\0", u32 version, u32 row length (doubles), u64 hash of
 *           the job's identity (kernel and kernel options), u32 CRC32 of
 *           the 24 bytes before it, u32 zero                     (32 bytes)
 *   frame   u32 magic "MBJF", u32 CRC32 of the body, u64 body length, body
 *           (version 2: the body ends with one u64 FNV-1a hash per task of
 *           the task's input, for kernels whose tasks have input)
 *           = one result message in wire.h's format (rows and failure
 *           reasons of consecutive tasks)
 * Frames are written as results reach the collector, in the order they
 * arrive: a chunk that finished while an earlier one still ran is recorded
 * at once, so a job stopped then loses neither.  No two frames share a
 * task.  They are synced (fdatasync) at most every `interval` seconds, so
 * a killed process loses nothing written and a machine crash at most the
 * last interval.  On resume the frames are checked up to the first torn or
 * corrupt one (or one that repeats a task), the file is cut there, and the
 * valid frames are replayed in task order: those up to the first gap at
 * open, each island past a gap when the feed reaches it.
 * Little-endian hosts only, like the wire format.
 */
#ifndef MPIBATCH_JOURNAL_H
#define MPIBATCH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"
#include "mpibatch/options.h"
#include "wire.h"

typedef struct mb_journal mb_journal;

/* Called for each recorded frame, in task order, while a journal opens
 * and for each island later (fn and arg must live as long as the journal);
 * inputs holds the hashes of its tasks' inputs (r->count of them), NULL
 * for a kernel without input. */
typedef mb_err (*mb_journal_replay_fn)(void *arg, const mb_result *r, const uint64_t *inputs);

/* Open path for a job whose identity hashes to spec_hash and whose rows
 * are rowlen doubles.  Without resume the file must not exist (exit 2
 * otherwise: a journal is never overwritten by accident).  With resume an
 * existing journal of the same job is checked and replayed through fn
 * up to its first gap (*tasks receives where that is: the feed starts
 * there), and a missing one is
 * created; a journal of another job is refused (MB_ERR_USAGE).  The caller
 * owns *j and releases it with mb_journal_close(). */
mb_err mb_journal_open(mb_journal **j, const char *path, uint64_t spec_hash, size_t rowlen,
                       int resume, double interval, mb_journal_replay_fn fn, void *arg,
                       uint64_t *tasks);

/* Append the result of tasks not recorded yet, in any order; syncs when
 * the last sync is `interval` seconds old. */
mb_err mb_journal_append(mb_journal *j, const mb_result *r);

/* The first island left to replay: tasks [*first, *first + *count) that
 * an earlier run recorded past a gap (*tasks of mb_journal_open stops at
 * the first gap).  0 when none is left or j is NULL. */
int mb_journal_island(const mb_journal *j, uint64_t *first, uint64_t *count);

/* Replay that island through the open's fn: the feed has reached it. */
mb_err mb_journal_replay_island(mb_journal *j);

/* Tasks recorded in all, in order or not. */
uint64_t mb_journal_recorded(const mb_journal *j);

/* Tasks in the islands found at open (replayed or not), for the count of
 * tasks resumed. */
uint64_t mb_journal_island_tasks(const mb_journal *j);

/* The hash of one task's input (its payload), as recorded: 64-bit FNV-1a. */
uint64_t mb_journal_input_hash(const void *data, size_t len);

/* Rank 0's feed: task (the next after those noted) has this input.  The
 * next frame that records it stores its hash, so a resume can tell a task
 * whose input changed.  j may be NULL. */
mb_err mb_journal_note_input(mb_journal *j, uint64_t task, const void *data, size_t len);

/* Write everything to disk now (fdatasync). */
mb_err mb_journal_sync(mb_journal *j);

/* Sync and close; NULL is fine.  Returns the sync's outcome. */
mb_err mb_journal_close(mb_journal *j);

/* The identity of a job: its kernel's name and the values of the kernel's
 * own options in spec.  Run-control settings (schedule, chunk, out,
 * report, retries, journal, storage options) are left out, so they may
 * change between a run and its resume. */
uint64_t mb_journal_spec_hash(const cJSON *spec, const char *kernel, const mb_option *options);

/* CRC-32 (ISO-HDLC, as zlib's crc32) of n bytes, continuing from crc (0 to
 * start). */
uint32_t mb_journal_crc32(uint32_t crc, const void *p, size_t n);

#endif
