/* retry.h - when to try a transfer again, and how long to wait first.
 *
 * Transient failures (connection reset, timeouts, HTTP 408, 429, 500, 502,
 * 503, 504) are retried with exponential back-off and jitter: the wait
 * before retry k (k = 0, 1, ...) is drawn uniformly from [d/2, d] with
 * d = base * 2^k, so many ranks or jobs that failed together do not come
 * back together.  Retrying stops after `retries` retries or once the total
 * wait reaches `max_seconds` (the last wait is shortened to fit).
 */
#ifndef MPIBATCH_RETRY_H
#define MPIBATCH_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* First back-off step in seconds. */
#define MB_RETRY_BASE 0.25

typedef struct mb_retry {
    unsigned retries;     /* retries allowed after the first attempt */
    double max_seconds;   /* bound on the total wait */
    unsigned done;        /* retries granted so far */
    double waited;        /* total wait granted so far */
    uint64_t rng;         /* jitter state (xorshift) */
} mb_retry;

/* Start a policy; seed varies the jitter (any value; 0 is replaced). */
void mb_retry_init(mb_retry *r, unsigned retries, double max_seconds, uint64_t seed);

/* The wait before retry k for a uniform u in [0, 1). */
double mb_retry_delay(unsigned k, double u);

/* After a transient failure: true and the wait in *delay if another
 * attempt is allowed, false when the policy is exhausted. */
bool mb_retry_next(mb_retry *r, double *delay);

/* Is an HTTP status worth retrying? */
bool mb_retry_http_transient(long status);

#endif
