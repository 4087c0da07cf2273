/* chunk.h - chunking arithmetic: tasks 0..T-1 in chunks of K.
 *
 * Chunk c holds tasks [c*K, min((c+1)*K, T)).  The static schedule deals
 * chunks out in rounds: round r gives each of P ranks up to M consecutive
 * turns, chunk (r*M + j)*P + p going to rank p (block-cyclic), so a round
 * covers at most P*M*K tasks and memory stays bounded.
 */
#ifndef MPIBATCH_CHUNK_H
#define MPIBATCH_CHUNK_H

#include <stdint.h>

/* Number of chunks: ceil(T / K). */
uint64_t mb_chunk_count(uint64_t ntasks, uint64_t k);

/* First task and task count of chunk c (count 0 past the end). */
void mb_chunk_range(uint64_t ntasks, uint64_t k, uint64_t c, uint64_t *first,
                    uint64_t *count);

/* Turns per rank in a static round so that a round holds about
 * round_tasks tasks: max(1, round_tasks / (P*K)). */
uint64_t mb_chunk_round_turns(uint64_t k, int nranks, uint64_t round_tasks);

/* Number of static rounds for nchunks chunks, P ranks, M turns. */
uint64_t mb_chunk_rounds(uint64_t nchunks, int nranks, uint64_t turns);

/* The chunk rank p gets at turn j of round r (may be >= nchunks: none). */
uint64_t mb_chunk_static(uint64_t round, uint64_t turn, int rank, int nranks,
                         uint64_t turns);

#endif
