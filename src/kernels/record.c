/* record.c - helpers for kernel records: strings in slots, record length. */
#include <string.h>

#include "kernels/kernels.h"

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
