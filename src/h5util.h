/* h5util.h - the few HDF5 idioms every file writer and reader shares.
 *
 * mpibatch turns HDF5's automatic error printing off and reports errors
 * itself, with HDF5's innermost description as the reason.
 */
#ifndef MPIBATCH_H5UTIL_H
#define MPIBATCH_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* Stop HDF5 printing its error stack; callers report through error.h. */
void mb_h5_quiet(void);

/* The innermost description on HDF5's error stack, copied into buf (n
 * bytes) and returned; "unknown HDF5 error" when the stack is empty. */
const char *mb_h5_reason(char *buf, size_t n);

/* H5Fopen(path) read-only, for files a user hands us: a file whose HDF5
 * superblock asks for absurd B-tree nodes is refused before HDF5 reads it
 * (*refused then says why; else it is NULL and a failure is HDF5's, see
 * mb_h5_reason).  Negative on failure. */
hid_t mb_h5_open_read(const char *path, const char **refused);

/* A variable-length UTF-8 string type; the caller closes it. */
hid_t mb_h5_utf8(void);

/* Scalar attributes of obj; negative on failure. */
herr_t mb_h5_put_scalar(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                        const void *value);
herr_t mb_h5_put_str(hid_t obj, const char *name, const char *value);
herr_t mb_h5_put_u64(hid_t obj, const char *name, uint64_t value);
herr_t mb_h5_put_i64(hid_t obj, const char *name, int64_t value);

/* Extend the chunked dataset d (1-D when count is 1, else rows of count
 * elements) to first + n rows and write n rows of mem at row first. */
herr_t mb_h5_append(hid_t d, hid_t memtype, uint64_t first, size_t n, unsigned count,
                    const void *mem);

#endif
