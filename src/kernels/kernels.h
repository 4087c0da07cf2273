/* kernels.h - the built-in kernel objects, one file each, listed in kernel.c. */
#ifndef MPIBATCH_KERNELS_KERNELS_H
#define MPIBATCH_KERNELS_KERNELS_H

#include "mpibatch/kernel.h"

extern const mb_kernel mb_kernel_euler;
extern const mb_kernel mb_kernel_sleep;
extern const mb_kernel mb_kernel_classify;
extern const mb_kernel mb_kernel_exec;

#endif
