/* kernels.h - the built-in kernel objects (one file each) and their registry
 * (registry.c); record helpers shared by the program (record.c). */
#ifndef MPIBATCH_KERNELS_KERNELS_H
#define MPIBATCH_KERNELS_KERNELS_H

#include "mpibatch/kernel.h"

extern const mb_kernel mb_kernel_euler;
extern const mb_kernel mb_kernel_sleep;
extern const mb_kernel mb_kernel_classify;
extern const mb_kernel mb_kernel_exec;

/* Kernel by name from the built-in registry, or NULL. */
const mb_kernel *mb_kernel_find(const char *name);

/* The NULL-terminated registry, for help listings. */
const mb_kernel *const *mb_kernel_registry(void);

/* Doubles per record for a field list. */
size_t mb_kernel_record_len(const mb_field *fields, size_t n);

/* The schedule's side of mb_kernel_idle() (idle.c): fn(ctx) is what it
 * runs, meant every ms milliseconds (fn NULL: nothing). */
void mb_kernel_set_idle(int (*fn)(void *ctx), void *ctx, int ms);

#endif
