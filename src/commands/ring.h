/* ring.h - the ring latency benchmark (`mpibatch ring`).
 *
 * Three patterns time point-to-point messages between ranks: the textbook
 * ring (a message goes rank 0 -> 1 -> ... -> P-1 -> 0), a bidirectional
 * shift (every rank sends right and receives left at once, as the Intel MPI
 * Benchmarks' Sendrecv) and a ping-pong between ranks 0 and 1.  Each reports
 * microseconds per hop for every message size of a sweep.  The pure helpers
 * below (size lists, statistics, lap planning) carry no MPI state.
 */
#ifndef MPIBATCH_RING_H
#define MPIBATCH_RING_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

/* The largest message: MPI counts are ints, and 1 GiB leaves room for two
 * buffers on a small node. */
#define MB_RING_MAX_BYTES ((size_t)1 << 30)

/* The most sizes one sweep may list. */
#define MB_RING_MAX_SIZES 256

/* Parse a size list: comma-separated items, each a size (`8`, `64K`, `4M`,
 * `1G`; suffixes are powers of 1024) or a range `A:B`, meaning 0 if A is 0,
 * then every power of two from max(A, 1) to B (A and B 0 or powers of two).
 * "0:4M" is 0, 1, 2, 4, ..., 4 MiB.  On success *sizes is a malloc'd array
 * the caller frees, in the order given.  Errors name the option --sizes. */
mb_err mb_ring_parse_sizes(const char *text, size_t **sizes, size_t *n);

typedef struct mb_ring_stats {
    double min, median, max, mean;
} mb_ring_stats;

/* Minimum, median (mean of the middle two for an even count), maximum and
 * mean of v[0..n-1], n >= 1.  Sorts v in place. */
void mb_ring_summarize(double *v, size_t n, mb_ring_stats *s);

/* Laps per repeat: iterations laps split over repeats, fewer when a lap
 * takes lap_seconds and all of them would exceed max_seconds (0: no limit),
 * but at least one lap per repeat. */
uint64_t mb_ring_plan(uint64_t iterations, uint64_t repeats, double max_seconds,
                      double lap_seconds);

#endif
