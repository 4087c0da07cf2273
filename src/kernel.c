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

int mb_record_set_str(double *slots, unsigned words, const char *s, size_t len)
{
    size_t room = (size_t)words * sizeof *slots;
    if (len >= room)
        return 0;
    /* Strings live in the slots' bytes: memcpy, never a double store. */
    memset(slots, 0, room);
    memcpy(slots, s, len);
    return 1;
}

size_t mb_kernel_record_len(const mb_field *fields, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += fields[i].count;
    return len;
}
