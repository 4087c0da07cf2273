/* clock.c - monotonic and wall-clock seconds. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "mpibatch/clock.h"

static double seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double mb_clock_now(void)
{
    return seconds(CLOCK_MONOTONIC);
}

double mb_clock_wall(void)
{
    return seconds(CLOCK_REALTIME);
}
