/* kernel.c - the registry of built-in kernels. */
#include <string.h>

#include "mpibatch/kernel.h"
#include "kernels/kernels.h"

static const mb_kernel *const registry[] = {
    &mb_kernel_euler,
    &mb_kernel_sleep,
    &mb_kernel_classify,
    &mb_kernel_exec,
    NULL
};

const mb_kernel *const *mb_kernel_registry(void)
{
    return registry;
}

const mb_kernel *mb_kernel_find(const char *name)
{
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
