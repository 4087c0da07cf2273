/* output.c - streaming HDF5 writer with an atomic final rename. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "h5util.h"
#include "kernels/kernels.h"
#include "atomic.h"
#include "output.h"
#include "row.h"

#define BLOCK_ROWS 65536 /* rows buffered per write; also the HDF5 chunk length */
#define BLOCK_FAILS 1024 /* failures buffered per write */

enum { COL_RANK, COL_START, COL_SECONDS, COL_STATUS, NCOLS };
static const char *const col_names[NCOLS] = {"rank", "start", "seconds", "status"};

struct mb_output {
    mb_atomic name;       /* the final name and the one written to */
    hid_t file;
    const mb_field *fields;
    size_t nfields, reclen;
    hid_t *dsets;          /* nfields result datasets, then NCOLS task ones */
    double *rows;          /* BLOCK_ROWS buffered rows */
    size_t nbuf;
    uint64_t written;
    void *scratch;         /* one column of a block, as written */
    hid_t fail_task, fail_reason;
    int64_t ftask[BLOCK_FAILS];
    char *freason[BLOCK_FAILS];
    size_t nfail;
    uint64_t fails_written;
};

static mb_err h5_error(const char *what, const char *path)
{
    char why[256];
    return mb_error_set(MB_ERR_IO, "%s '%s': %s", what, path, mb_h5_reason(why, sizeof why));
}

/* /tasks/status codes by mb_err value (docs/user-guide.md, Output). */
static const char *const status_names[] = {
    "ok", "usage_error", "bad_input", "io_error", "out_of_memory", "mpi_error",
    "internal_error", "failed"
};
enum { NSTATUS = sizeof status_names / sizeof status_names[0] };

const char *mb_output_status_name(int code)
{
    return code >= 0 && code < NSTATUS ? status_names[code] : "unknown";
}

static hid_t make_dataset(hid_t group, const char *name, hid_t type, unsigned count)
{
    hsize_t dims[2] = {0, count}, maxd[2] = {H5S_UNLIMITED, count};
    hsize_t chunk[2] = {BLOCK_ROWS, count};
    int rank = count > 1 ? 2 : 1;
    hid_t space = H5Screate_simple(rank, dims, maxd);
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (space >= 0 && plist >= 0 && H5Pset_chunk(plist, rank, chunk) >= 0)
        d = H5Dcreate2(group, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    H5Pclose(plist);
    H5Sclose(space);
    return d;
}

/* The file (and memory) type of a result field; the caller closes it. */
static hid_t field_type(const mb_field *f)
{
    hid_t t;
    if (f->type == MB_FIELD_STR) {
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 8 * (size_t)f->count);
        H5Tset_strpad(t, H5T_STR_NULLTERM);
        H5Tset_cset(t, H5T_CSET_UTF8);
        return t;
    }
    return H5Tcopy(f->type == MB_FIELD_I64 ? H5T_STD_I64LE : H5T_IEEE_F64LE);
}

static mb_err create_layout(mb_output *o, const char *kernel, const char *spec)
{
    hid_t res = H5Gcreate2(o->file, "results", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t tasks = H5Gcreate2(o->file, "tasks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    mb_err rc = (res < 0 || tasks < 0) ? MB_ERR_IO : MB_OK;
    for (size_t i = 0; rc == MB_OK && i < o->nfields; i++) {
        const mb_field *f = &o->fields[i];
        hid_t type = field_type(f);
        o->dsets[i] = make_dataset(res, f->name, type, f->type == MB_FIELD_STR ? 1 : f->count);
        if (o->dsets[i] < 0 || (f->doc && mb_h5_put_str(o->dsets[i], "description", f->doc)))
            rc = MB_ERR_IO;
        H5Tclose(type);
    }
    for (int c = 0; rc == MB_OK && c < NCOLS; c++) {
        hid_t type = (c == COL_START || c == COL_SECONDS) ? H5T_IEEE_F64LE : H5T_STD_I32LE;
        if ((o->dsets[o->nfields + c] = make_dataset(tasks, col_names[c], type, 1)) < 0)
            rc = MB_ERR_IO;
    }
    if (rc == MB_OK) {
        hid_t g = H5Gcreate2(o->file, "failures", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t st = mb_h5_utf8();
        o->fail_task = g >= 0 ? make_dataset(g, "task", H5T_STD_I64LE, 1) : -1;
        o->fail_reason = g >= 0 ? make_dataset(g, "reason", st, 1) : -1;
        if (o->fail_task < 0 || o->fail_reason < 0)
            rc = MB_ERR_IO;
        H5Tclose(st);
        if (g >= 0)
            H5Gclose(g);
    }
    if (rc == MB_OK && (mb_h5_put_str(o->file, "program", "mpibatch") ||
                        mb_h5_put_str(o->file, "version", PACKAGE_VERSION) ||
                        mb_h5_put_str(o->file, "kernel", kernel) ||
                        mb_h5_put_str(o->file, "job", spec)))
        rc = MB_ERR_IO;
    if (res >= 0)
        H5Gclose(res);
    if (tasks >= 0)
        H5Gclose(tasks);
    return rc == MB_OK ? MB_OK : h5_error("cannot lay out HDF5 output", o->name.path);
}

/* Probe with plain stdio first: errno names "No such file or directory"
 * and "Permission denied" more clearly than HDF5's stack does. */
static mb_err check_writable(const char *path, const char *tmp)
{
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return mb_error_set(MB_ERR_IO, "cannot create output '%s': %s", path, strerror(errno));
    fclose(fp);
    return MB_OK;
}

mb_err mb_output_open(mb_output **out, const char *path, const mb_field *fields,
                      size_t nfields, const char *kernel, const char *spec_json)
{
    mb_output *o = calloc(1, sizeof *o);
    mb_err rc = MB_ERR_NOMEM;
    *out = NULL;
    mb_h5_quiet(); /* errors are reported through h5_error */
    if (!o)
        return mb_error_set(rc, "out of memory opening '%s'", path);
    o->file = -1;
    o->fields = fields;
    o->nfields = nfields;
    o->reclen = mb_kernel_record_len(fields, nfields);
    if ((rc = mb_atomic_begin(&o->name, path)) != MB_OK)
        goto fail;
    rc = MB_ERR_NOMEM;
    o->dsets = calloc(nfields + NCOLS, sizeof *o->dsets);
    o->rows = malloc(BLOCK_ROWS * mb_row_len(o->reclen) * sizeof(double));
    o->scratch = malloc(BLOCK_ROWS * (o->reclen > 1 ? o->reclen : 1) * sizeof(double));
    if (!o->dsets || !o->rows || !o->scratch) {
        mb_error_set(rc, "out of memory opening '%s'", path);
        goto fail;
    }
    if ((rc = check_writable(path, o->name.tmp)) != MB_OK)
        goto fail;
    if ((o->file = H5Fcreate(o->name.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = h5_error("cannot create HDF5 output", path);
        goto fail;
    }
    if ((rc = create_layout(o, kernel, spec_json)) != MB_OK)
        goto fail;
    *out = o;
    return MB_OK;
fail:
    mb_output_discard(o);
    return rc;
}

/* Gather column elements [off, off+count) of every buffered row; string
 * fields are copied as the bytes they are. */
static void gather(const mb_output *o, size_t off, unsigned count, int as_int, int narrow)
{
    size_t stride = mb_row_len(o->reclen);
    for (size_t r = 0; r < o->nbuf; r++)
        for (unsigned k = 0; k < count; k++) {
            double v = o->rows[r * stride + off + k];
            if (narrow)
                ((int32_t *)o->scratch)[r * count + k] = (int32_t)v;
            else if (as_int)
                ((int64_t *)o->scratch)[r * count + k] = (int64_t)v;
            else /* bit-exact: string bytes must not go through a float */
                memcpy((char *)o->scratch + 8 * (r * count + k), &o->rows[r * stride + off + k], 8);
        }
}

static mb_err flush_rows(mb_output *o)
{
    size_t off = 0;
    if (o->nbuf == 0)
        return MB_OK;
    for (size_t i = 0; i < o->nfields; i++) {
        const mb_field *f = &o->fields[i];
        int as_int = f->type == MB_FIELD_I64, is_str = f->type == MB_FIELD_STR;
        hid_t st = is_str ? field_type(f) : -1;
        herr_t rc;
        gather(o, off, f->count, as_int, 0);
        if (is_str)
            rc = mb_h5_append(o->dsets[i], st, o->written, o->nbuf, 1, o->scratch);
        else
            rc = mb_h5_append(o->dsets[i], as_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE,
                            o->written, o->nbuf, f->count, o->scratch);
        if (is_str)
            H5Tclose(st);
        if (rc < 0)
            return h5_error("cannot write HDF5 output", o->name.path);
        off += f->count;
    }
    for (int c = 0; c < NCOLS; c++) {
        int narrow = c == COL_RANK || c == COL_STATUS;
        gather(o, o->reclen + (size_t)c, 1, 0, narrow);
        if (mb_h5_append(o->dsets[o->nfields + c], narrow ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE,
                       o->written, o->nbuf, 1, o->scratch) < 0)
            return h5_error("cannot write HDF5 output", o->name.path);
    }
    o->written += o->nbuf;
    o->nbuf = 0;
    return MB_OK;
}

mb_err mb_output_append(mb_output *o, const double *rows, size_t n)
{
    size_t stride = mb_row_len(o->reclen);
    while (n > 0) {
        size_t take = BLOCK_ROWS - o->nbuf;
        mb_err rc;
        if (take > n)
            take = n;
        memcpy(o->rows + o->nbuf * stride, rows, take * stride * sizeof(double));
        o->nbuf += take;
        rows += take * stride;
        n -= take;
        if (o->nbuf == BLOCK_ROWS && (rc = flush_rows(o)) != MB_OK)
            return rc;
    }
    return MB_OK;
}

static mb_err flush_failures(mb_output *o)
{
    hid_t st = mb_h5_utf8();
    herr_t rc = 0;
    if (o->nfail > 0) {
        rc = mb_h5_append(o->fail_task, H5T_NATIVE_INT64, o->fails_written, o->nfail, 1, o->ftask);
        if (rc >= 0)
            rc = mb_h5_append(o->fail_reason, st, o->fails_written, o->nfail, 1, o->freason);
    }
    H5Tclose(st);
    for (size_t i = 0; i < o->nfail; i++)
        free(o->freason[i]);
    o->fails_written += o->nfail;
    o->nfail = 0;
    return rc < 0 ? h5_error("cannot write the failure table of", o->name.path) : MB_OK;
}

mb_err mb_output_add_failure(mb_output *o, uint64_t task, const char *reason)
{
    char *copy = strdup(reason);
    if (!copy)
        return mb_error_set(MB_ERR_NOMEM, "out of memory for a failure reason");
    o->ftask[o->nfail] = (int64_t)task;
    o->freason[o->nfail++] = copy;
    return o->nfail == BLOCK_FAILS ? flush_failures(o) : MB_OK;
}

static mb_err write_hosts(mb_output *o, const char *const *hosts, int nranks)
{
    hsize_t dims[1] = {(hsize_t)nranks};
    hid_t g = H5Gcreate2(o->file, "ranks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = mb_h5_utf8(), space = H5Screate_simple(1, dims, NULL);
    hid_t d = g >= 0 ? H5Dcreate2(g, "host", t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    herr_t rc = d >= 0 ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, hosts) : -1;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(space);
    H5Tclose(t);
    if (g >= 0)
        H5Gclose(g);
    return rc < 0 ? h5_error("cannot write host table to", o->name.path) : MB_OK;
}

static mb_err write_tasks_attr(mb_output *o)
{
    return mb_h5_put_u64(o->file, "tasks", o->written) < 0
        ? h5_error("cannot write attributes to", o->name.path) : MB_OK;
}

static void close_handles(mb_output *o)
{
    for (size_t i = 0; o->dsets && i < o->nfields + NCOLS; i++)
        if (o->dsets[i] > 0)
            H5Dclose(o->dsets[i]);
    if (o->dsets)
        memset(o->dsets, 0, (o->nfields + NCOLS) * sizeof *o->dsets);
    if (o->fail_task > 0)
        H5Dclose(o->fail_task);
    if (o->fail_reason > 0)
        H5Dclose(o->fail_reason);
    o->fail_task = o->fail_reason = 0;
    for (size_t i = 0; i < o->nfail; i++)
        free(o->freason[i]);
    o->nfail = 0;
}

/* Release everything; the temporary file, if still there, goes with it. */
static void destroy(mb_output *o)
{
    close_handles(o);
    if (o->file >= 0)
        H5Fclose(o->file);
    mb_atomic_discard(&o->name);
    free(o->dsets);
    free(o->rows);
    free(o->scratch);
    free(o);
}

mb_err mb_output_close(mb_output *o, const char *const *hosts, int nranks,
                       const char *result_json)
{
    mb_err rc = flush_rows(o);
    if (rc == MB_OK)
        rc = flush_failures(o);
    if (rc == MB_OK)
        rc = write_hosts(o, hosts, nranks);
    if (rc == MB_OK)
        rc = write_tasks_attr(o);
    if (rc == MB_OK && mb_h5_put_str(o->file, "result", result_json ? result_json : "{}"))
        rc = h5_error("cannot write attributes to", o->name.path);
    close_handles(o);
    if (H5Fclose(o->file) < 0 && rc == MB_OK)
        rc = h5_error("cannot finish HDF5 output", o->name.path);
    o->file = -1;
    rc = mb_atomic_finish(&o->name, rc, NULL, 0, "HDF5 output");
    destroy(o);
    return rc;
}

void mb_output_discard(mb_output *o)
{
    if (o)
        destroy(o);
}
