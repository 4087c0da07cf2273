/* idle.c - the schedule's turn inside a long task.
 *
 * Rank 0 of the dynamic schedule runs its own tasks too; a task that waits
 * (MB_KERNEL_WAITS_IDLE: exec's wait on a child process, sleep's naps)
 * calls mb_kernel_idle() from its wait loop, and the schedule, which set
 * the turn here before running the task, answers the other ranks and
 * draws progress in it; rank 0 of the static schedule takes the workers'
 * heartbeats in it.  Workers of the dynamic schedule with several
 * slots set one too, to hear new work while their commands run.  One turn
 * per process.  On a worker the stop poll (stop.h) runs here as
 * well: its heartbeat to rank 0 and rank 0's drain message, so a worker
 * inside a long task, waiting or computing (euler's block sum calls
 * mb_kernel_idle() between slices), is still seen alive. */
#include <stddef.h>

#include "kernels/kernels.h"
#include "stop.h"

static struct {
    int (*fn)(void *ctx);
    void *ctx;
    int ms;
} turn;

void mb_kernel_set_idle(int (*fn)(void *ctx), void *ctx, int ms)
{
    turn.fn = fn;
    turn.ctx = ctx;
    turn.ms = fn ? ms : -1;
}

int mb_kernel_idle_ms(void)
{
    return turn.fn ? turn.ms : mb_stop_polling() ? MB_STOP_POLL_MS : -1;
}

int mb_kernel_idle(void)
{
    /* The stop poll first: a drain message it takes is not work for a
     * free slot. */
    mb_stop_poll();
    return turn.fn ? turn.fn(turn.ctx) : 0;
}
