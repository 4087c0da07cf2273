/* chunk.c - chunk ranges and the static schedule's block-cyclic deal. */
#include "mpibatch/chunk.h"

uint64_t mb_chunk_count(uint64_t ntasks, uint64_t k)
{
    return ntasks / k + (ntasks % k != 0);
}

void mb_chunk_range(uint64_t ntasks, uint64_t k, uint64_t c, uint64_t *first,
                    uint64_t *count)
{
    /* Compare before multiplying: c * k may overflow for huge c. */
    if (c >= mb_chunk_count(ntasks, k)) {
        *first = ntasks;
        *count = 0;
        return;
    }
    *first = c * k;
    *count = ntasks - *first < k ? ntasks - *first : k;
}

uint64_t mb_chunk_round_turns(uint64_t k, int nranks, uint64_t round_tasks)
{
    uint64_t per_turn = k * (uint64_t)nranks;
    uint64_t m = round_tasks / per_turn;
    return m ? m : 1;
}

uint64_t mb_chunk_rounds(uint64_t nchunks, int nranks, uint64_t turns)
{
    uint64_t per_round = turns * (uint64_t)nranks;
    return nchunks / per_round + (nchunks % per_round != 0);
}

uint64_t mb_chunk_static(uint64_t round, uint64_t turn, int rank, int nranks,
                         uint64_t turns)
{
    return (round * turns + turn) * (uint64_t)nranks + (uint64_t)rank;
}
