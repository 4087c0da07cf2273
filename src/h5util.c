/* h5util.c - shared HDF5 error text, string type, attributes and the
 * guarded open of files we are given. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h5util.h"

/* The largest B-tree K a version 0 or 1 superblock may ask for.  HDF5
 * 1.10 sizes a buffer from the group leaf K squared before it checks
 * anything: a 49-byte file with K = 65532 made it allocate and touch 4 GB
 * (found by the docstore fuzzer).  Files HDF5 writes by default use 4 and
 * 16, and a K of 4096 still costs HDF5 only some 16 MB. */
#define SUPERBLOCK_MAX_K 4096

static unsigned le16(const unsigned char *b)
{
    return (unsigned)b[0] | (unsigned)b[1] << 8;
}

/* The K values of the first superblock HDF5 would find in fd (it looks at
 * offset 0, then 512, 1024, 2048 ...): 1 if they are sane or the file has
 * no version 0/1 superblock (HDF5 then refuses or reads it as usual). */
static int superblock_ok(int fd)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[26];
    off_t end = lseek(fd, 0, SEEK_END);
    for (off_t off = 0; off + (off_t)sizeof b <= end; off = off ? 2 * off : 512) {
        if (pread(fd, b, sizeof b, off) != (ssize_t)sizeof b) return 1;
        if (memcmp(b, sig, sizeof sig) != 0) continue;
        if (b[8] > 1) return 1; /* versions 2 and 3 have no K fields */
        return le16(b + 16) <= SUPERBLOCK_MAX_K && le16(b + 18) <= SUPERBLOCK_MAX_K &&
               (b[8] == 0 || le16(b + 24) <= SUPERBLOCK_MAX_K);
    }
    return 1;
}

hid_t mb_h5_open_read(const char *path, const char **refused)
{
    int fd = open(path, O_RDONLY);
    int ok = fd < 0 || superblock_ok(fd);
    *refused = NULL;
    if (fd >= 0) close(fd);
    if (!ok) {
        *refused = "its superblock asks for B-tree nodes over 4096 entries";
        return -1;
    }
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

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

herr_t mb_h5_append(hid_t d, hid_t memtype, uint64_t first, size_t n, unsigned count,
                    const void *mem)
{
    hsize_t size[2] = {first + n, count}, start[2] = {first, 0}, cnt[2] = {n, count};
    int rank = count > 1 ? 2 : 1;
    if (H5Dset_extent(d, size) < 0)
        return -1;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, cnt, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (rc >= 0)
        rc = H5Dwrite(d, memtype, ms, fs, H5P_DEFAULT, mem);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}
