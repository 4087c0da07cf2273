/* idle.c - the schedule's turn inside a waiting task (MB_KERNEL_WAITS_IDLE).
 *
 * Rank 0 of the dynamic schedule runs its own tasks too; a task that waits
 * on a child process calls mb_kernel_idle() from its wait loop, and the
 * schedule, which set the turn here before running the task, answers the
 * other ranks and draws progress in it.  Workers of the dynamic schedule
 * set one too, to hear new work while their commands run.  One turn per
 * process. */
#include <stddef.h>

#include "kernels/kernels.h"

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
    return turn.fn ? turn.ms : -1;
}

int mb_kernel_idle(void)
{
    return turn.fn ? turn.fn(turn.ctx) : 0;
}
