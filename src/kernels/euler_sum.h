/* euler.h - the Euler (Basel) series sum_{i=1}^{n} 1/i^2 in blocks.
 *
 * Blocks are summed backwards (smallest terms first) into a double-double
 * (hi + lo) with error-free transformations, so each block is accurate to
 * well below one ulp and the ordered sum of blocks is correctly rounded in
 * practice.  The exact partial sum pi^2/6 - psi1(n+1) is evaluated in
 * double-double from the trigamma function's asymptotic series.
 */
#ifndef MPIBATCH_EULER_H
#define MPIBATCH_EULER_H

#include <stdint.h>

/* An unevaluated sum hi + lo with |lo| <= ulp(hi)/2. */
typedef struct mb_dd {
    double hi, lo;
} mb_dd;

/* Which code sums a block: AUTO picks the fastest the CPU supports. */
typedef enum mb_euler_impl {
    MB_EULER_AUTO,
    MB_EULER_GENERIC, /* portable vectors with true division */
    MB_EULER_AVX512   /* reciprocal estimate + Newton steps */
} mb_euler_impl;

/* Largest n accepted: terms are exact doubles up to 2^53. */
#define MB_EULER_MAX_TERMS 9007199254740992ULL

/* Terms [first, last] of block b of `blocks` over n terms; the first
 * n % blocks blocks are one term longer. */
void mb_euler_block_range(uint64_t n, uint64_t blocks, uint64_t b,
                          uint64_t *first, uint64_t *last);

/* sum_{i=first}^{last} 1/i^2 as a double-double (first >= 1).  tick
 * (NULL: none) runs after every MB_EULER_SLICE terms of a longer block, a
 * few milliseconds apart; it does not change the sum. */
mb_dd mb_euler_block_sum(uint64_t first, uint64_t last, mb_euler_impl impl, void (*tick)(void));

/* Terms between two ticks (a multiple of every vector loop's step). */
#define MB_EULER_SLICE (1ULL << 22)

/* Whether impl can run on this CPU (AUTO and GENERIC always can). */
int mb_euler_impl_available(mb_euler_impl impl);

/* The exact value pi^2/6 - psi1(n+1) of the n-term partial sum. */
mb_dd mb_euler_exact(uint64_t n);

/* x + y in double-double; used for the ordered reduction of blocks. */
mb_dd mb_dd_add(mb_dd x, mb_dd y);

#endif
