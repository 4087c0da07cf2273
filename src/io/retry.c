/* retry.c - exponential back-off with jitter, bounded in count and time. */
#include <math.h>

#include "io/retry.h"

void mb_retry_init(mb_retry *r, unsigned retries, double max_seconds, uint64_t seed)
{
    r->retries = retries;
    r->max_seconds = max_seconds;
    r->done = 0;
    r->waited = 0.0;
    r->rng = seed ? seed : 0x9E3779B97F4A7C15u;
}

double mb_retry_delay(unsigned k, double u)
{
    /* 2^k beyond 2^30 seconds is no longer a meaningful wait. */
    double d = MB_RETRY_BASE * ldexp(1.0, k > 30 ? 30 : (int)k);
    return d * (0.5 + 0.5 * u);
}

/* xorshift64: jitter needs spread, not cryptographic quality. */
static double uniform(mb_retry *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (double)(r->rng >> 11) / 9007199254740992.0;
}

bool mb_retry_next(mb_retry *r, double *delay)
{
    double d;
    if (r->done >= r->retries || r->waited >= r->max_seconds)
        return false;
    /* The last wait is cut short rather than skipped: the budget is a
     * bound on waiting, and one more attempt may still succeed. */
    d = fmin(mb_retry_delay(r->done, uniform(r)), r->max_seconds - r->waited);
    r->done++;
    r->waited += d;
    *delay = d;
    return true;
}

bool mb_retry_http_transient(long status)
{
    switch (status) {
    case 408: case 429: case 500: case 502: case 503: case 504:
        return true;
    default:
        return false;
    }
}
