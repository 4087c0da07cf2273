/* h5util.c - shared HDF5 error text, string type and attributes. */
#include <stdio.h>

#include "mpibatch/h5util.h"

void mb_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct reason_buf {
    char *buf;
    size_t n;
} reason_buf;

/* Walking upward, entry 0 is the innermost: the most specific reason. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    reason_buf *r = data;
    if (n == 0 && e->desc)
        snprintf(r->buf, r->n, "%s", e->desc);
    return 0;
}

const char *mb_h5_reason(char *buf, size_t n)
{
    reason_buf r = {buf, n};
    snprintf(buf, n, "unknown HDF5 error");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &r);
    return buf;
}

hid_t mb_h5_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

herr_t mb_h5_put_scalar(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                         const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a >= 0 ? H5Awrite(a, mem_type, value) : -1;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return rc;
}

herr_t mb_h5_put_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = mb_h5_utf8();
    herr_t rc = mb_h5_put_scalar(obj, name, t, t, &value);
    H5Tclose(t);
    return rc;
}

herr_t mb_h5_put_u64(hid_t obj, const char *name, uint64_t value)
{
    return mb_h5_put_scalar(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

herr_t mb_h5_put_i64(hid_t obj, const char *name, int64_t value)
{
    return mb_h5_put_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}
