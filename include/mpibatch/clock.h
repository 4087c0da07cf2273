/* clock.h - the two clocks mpibatch times with. */
#ifndef MPIBATCH_CLOCK_H
#define MPIBATCH_CLOCK_H

/* Seconds on a monotonic clock: for durations. */
double mb_clock_now(void);

/* Seconds since the Unix epoch: for start times comparable across hosts
 * (as far as their clocks are synchronised, e.g. by NTP). */
double mb_clock_wall(void);

#endif
