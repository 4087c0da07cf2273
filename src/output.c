/* output.c - streaming HDF5 writer with an atomic final rename.
 *
 * The datasets are created at the first write, when the rows buffered so
 * far say how big the output is: a job that ends before BLOCK_ROWS rows
 * have arrived writes each dataset whole, at its exact size (a few KB for
 * a few tasks); a longer one gets chunked, extensible datasets written a
 * block at a time, as before.  Strings are variable-length UTF-8, the
 * status an enumeration, and every dataset has a "description".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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
static const char *const col_docs[NCOLS] = {
    "the MPI rank that ran the task",
    "when the task started, seconds since the job's tasks began",
    "how long the task ran, seconds",
    "how the task ended: ok, or how it failed (an enumeration; docs/user-guide.md, Output)",
};

struct mb_output {
    mb_atomic name;       /* the final name and the one written to */
    hid_t file;
    const mb_field *fields;
    size_t nfields, reclen;
    hid_t results, tasks, failures; /* the groups */
    hid_t *dsets;          /* nfields result datasets, then NCOLS task ones;
                            * 0 until the first write creates them */
    double *rows;          /* BLOCK_ROWS buffered rows */
    size_t nbuf;
    uint64_t written;
    void *scratch;         /* one column of a block, as written */
    int created, final;    /* the datasets exist; they were written whole */
    hid_t fail_task, fail_reason; /* 0 until the first failures are written */
    int fails_final;
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

/* A dataset of `rows` rows of count values, described by doc.  final: no
 * more rows will come, so it is written whole at its exact size (no chunk
 * index, no unused chunk space); else chunked by `rows` rows (a full
 * buffer) and extensible, starting empty. */
static hid_t make_dataset(hid_t group, const char *name, hid_t type, unsigned count,
                          uint64_t rows, int final, const char *doc)
{
    hsize_t dims[2] = {final ? rows : 0, count}, maxd[2] = {H5S_UNLIMITED, count};
    hsize_t chunk[2] = {rows > 0 ? rows : 1, count}; /* a full buffer's rows */
    int rank = count > 1 ? 2 : 1;
    hid_t space = H5Screate_simple(rank, dims, final ? NULL : maxd);
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (space >= 0 && plist >= 0 && (final || H5Pset_chunk(plist, rank, chunk) >= 0))
        d = H5Dcreate2(group, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    H5Pclose(plist);
    H5Sclose(space);
    if (d >= 0 && doc && mb_h5_put_str(d, "description", doc) < 0) {
        H5Dclose(d);
        d = -1;
    }
    return d;
}

/* Write n rows at first: the whole dataset when it was made final. */
static herr_t put_rows(hid_t d, hid_t memtype, uint64_t first, size_t n, unsigned count,
                       int final, const void *mem)
{
    if (n == 0)
        return 0;
    if (final)
        return H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, mem);
    return mb_h5_append(d, memtype, first, n, count, mem);
}

/* The enumeration of /tasks/status over base (a file or memory integer
 * type); the caller closes it. */
static hid_t status_type(hid_t base)
{
    hid_t t = H5Tenum_create(base);
    for (int32_t v = 0; t >= 0 && v < NSTATUS; v++)
        if (H5Tenum_insert(t, status_names[v], &v) < 0) {
            H5Tclose(t);
            return -1;
        }
    return t;
}

/* The file type of a result field; the caller closes it. */
static hid_t field_type(const mb_field *f)
{
    if (f->type == MB_FIELD_STR)
        return mb_h5_utf8();
    return H5Tcopy(f->type == MB_FIELD_I64 ? H5T_STD_I64LE : H5T_IEEE_F64LE);
}

/* The groups and the attributes known at the start.  /results keeps the
 * order of its datasets' creation (the kernel's field order), which h5py
 * and mpibatch export list them in. */
static mb_err create_layout(mb_output *o, const char *kernel, const char *spec)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    mb_err rc = MB_OK;
    if (gcpl < 0 || H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED |
                                                         H5P_CRT_ORDER_INDEXED) < 0 ||
        (o->results = H5Gcreate2(o->file, "results", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0 ||
        (o->tasks = H5Gcreate2(o->file, "tasks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        (o->failures = H5Gcreate2(o->file, "failures", H5P_DEFAULT, H5P_DEFAULT,
                                  H5P_DEFAULT)) < 0)
        rc = MB_ERR_IO;
    if (gcpl >= 0)
        H5Pclose(gcpl);
    if (rc == MB_OK && (mb_h5_put_str(o->file, "program", "mpibatch") ||
                        mb_h5_put_str(o->file, "version", PACKAGE_VERSION) ||
                        mb_h5_put_str(o->file, "kernel", kernel) ||
                        mb_h5_put_str(o->file, "job", spec)))
        rc = MB_ERR_IO;
    return rc == MB_OK ? MB_OK : h5_error("cannot lay out HDF5 output", o->name.path);
}

/* The result and task datasets, at the first write: final when the job
 * ended before a block filled (see the top of the file). */
static mb_err create_datasets(mb_output *o, int final)
{
    o->created = 1;
    o->final = final;
    for (size_t i = 0; i < o->nfields; i++) {
        const mb_field *f = &o->fields[i];
        hid_t type = field_type(f);
        o->dsets[i] = make_dataset(o->results, f->name, type, f->type == MB_FIELD_STR ? 1 : f->count,
                                   o->nbuf, final, f->doc);
        H5Tclose(type);
        if (o->dsets[i] < 0)
            return h5_error("cannot create a dataset in", o->name.path);
    }
    for (int c = 0; c < NCOLS; c++) {
        hid_t type = c == COL_STATUS ? status_type(H5T_STD_I32LE)
                   : H5Tcopy(c == COL_RANK ? H5T_STD_I32LE : H5T_IEEE_F64LE);
        o->dsets[o->nfields + c] = make_dataset(o->tasks, col_names[c], type, 1, o->nbuf, final,
                                                col_docs[c]);
        H5Tclose(type);
        if (o->dsets[o->nfields + c] < 0)
            return h5_error("cannot create a dataset in", o->name.path);
    }
    return MB_OK;
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
 * fields are copied as the bytes they are.  Status codes outside the
 * enumeration (none is expected) are stored as internal_error. */
static void gather(const mb_output *o, size_t off, unsigned count, int as_int, int narrow)
{
    size_t stride = mb_row_len(o->reclen);
    for (size_t r = 0; r < o->nbuf; r++)
        for (unsigned k = 0; k < count; k++) {
            double v = o->rows[r * stride + off + k];
            if (narrow == 2)
                ((int32_t *)o->scratch)[r * count + k] =
                    v >= 0 && v < NSTATUS ? (int32_t)v : (int32_t)MB_ERR_INTERNAL;
            else if (narrow)
                ((int32_t *)o->scratch)[r * count + k] = (int32_t)v;
            else if (as_int)
                ((int64_t *)o->scratch)[r * count + k] = (int64_t)v;
            else /* bit-exact: string bytes must not go through a float */
                memcpy((char *)o->scratch + 8 * (r * count + k), &o->rows[r * stride + off + k], 8);
        }
}

/* A string field of the buffered rows as pointers to its NUL-terminated
 * bytes in the rows (mb_record_set_str always leaves a NUL), for a
 * variable-length write: no copy of the strings. */
static void gather_strings(const mb_output *o, size_t off)
{
    size_t stride = mb_row_len(o->reclen);
    for (size_t r = 0; r < o->nbuf; r++)
        ((const char **)o->scratch)[r] = (const char *)(o->rows + r * stride + off);
}

static mb_err flush_rows(mb_output *o, int final)
{
    size_t off = 0;
    hid_t utf8 = -1, status = -1;
    mb_err rc = MB_OK;
    if (o->nbuf == 0 && !final)
        return MB_OK;
    if (!o->created && (rc = create_datasets(o, final)) != MB_OK)
        return rc;
    utf8 = mb_h5_utf8();
    status = status_type(H5T_NATIVE_INT32);
    for (size_t i = 0; rc == MB_OK && i < o->nfields; i++) {
        const mb_field *f = &o->fields[i];
        int as_int = f->type == MB_FIELD_I64, is_str = f->type == MB_FIELD_STR;
        herr_t h;
        if (is_str) {
            gather_strings(o, off);
            h = put_rows(o->dsets[i], utf8, o->written, o->nbuf, 1, o->final, o->scratch);
        } else {
            gather(o, off, f->count, as_int, 0);
            h = put_rows(o->dsets[i], as_int ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE,
                         o->written, o->nbuf, f->count, o->final, o->scratch);
        }
        if (h < 0)
            rc = h5_error("cannot write HDF5 output", o->name.path);
        off += f->count;
    }
    for (int c = 0; rc == MB_OK && c < NCOLS; c++) {
        int narrow = c == COL_STATUS ? 2 : c == COL_RANK;
        hid_t mem = c == COL_STATUS ? status : narrow ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE;
        gather(o, o->reclen + (size_t)c, 1, 0, narrow);
        if (put_rows(o->dsets[o->nfields + c], mem, o->written, o->nbuf, 1, o->final,
                     o->scratch) < 0)
            rc = h5_error("cannot write HDF5 output", o->name.path);
    }
    H5Tclose(utf8);
    H5Tclose(status);
    o->written += o->nbuf;
    o->nbuf = 0;
    return rc;
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
        if (o->nbuf == BLOCK_ROWS && (rc = flush_rows(o, 0)) != MB_OK)
            return rc;
    }
    return MB_OK;
}

/* The buffered failures; final: at the end (see flush_rows). */
static mb_err flush_failures(mb_output *o, int final)
{
    hid_t st = mb_h5_utf8();
    herr_t rc = 0;
    if (!o->fail_task) {
        o->fails_final = final;
        o->fail_task = make_dataset(o->failures, "task", H5T_STD_I64LE, 1, o->nfail, final,
                                    "each failed task, in task order");
        o->fail_reason = make_dataset(o->failures, "reason", st, 1, o->nfail, final,
                                      "why the task failed");
        if (o->fail_task < 0 || o->fail_reason < 0)
            rc = -1;
    }
    if (rc >= 0)
        rc = put_rows(o->fail_task, H5T_NATIVE_INT64, o->fails_written, o->nfail, 1,
                      o->fails_final, o->ftask);
    if (rc >= 0)
        rc = put_rows(o->fail_reason, st, o->fails_written, o->nfail, 1, o->fails_final,
                      o->freason);
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
    return o->nfail == BLOCK_FAILS ? flush_failures(o, 0) : MB_OK;
}

static mb_err write_hosts(mb_output *o, const char *const *hosts, int nranks)
{
    hsize_t dims[1] = {(hsize_t)nranks};
    hid_t g = H5Gcreate2(o->file, "ranks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = mb_h5_utf8(), space = H5Screate_simple(1, dims, NULL);
    hid_t d = g >= 0 ? H5Dcreate2(g, "host", t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    herr_t rc = d >= 0 ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, hosts) : -1;
    if (rc >= 0)
        rc = mb_h5_put_str(d, "description", "the host of each rank, indexed by /tasks/rank");
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
    if (o->results > 0)
        H5Gclose(o->results);
    if (o->tasks > 0)
        H5Gclose(o->tasks);
    if (o->failures > 0)
        H5Gclose(o->failures);
    o->results = o->tasks = o->failures = 0;
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

/* The columns of a field of several values per task are named by the
 * result's "labels" (classify's scores) when there is one per column: an
 * attribute "labels" on the dataset, in column order. */
static mb_err label_columns(mb_output *o, const char *result_json)
{
    cJSON *r = result_json ? cJSON_Parse(result_json) : NULL;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(r, "labels"), *item;
    int n = cJSON_GetArraySize(labels);
    const char **names = n > 0 ? calloc((size_t)n, sizeof *names) : NULL;
    herr_t h = 0;
    int k = 0;
    cJSON_ArrayForEach(item, labels)
        if (names && cJSON_IsString(item))
            names[k++] = item->valuestring;
    for (size_t i = 0; names && k == n && h >= 0 && i < o->nfields; i++) {
        const mb_field *f = &o->fields[i];
        if (f->type == MB_FIELD_STR || f->count != (unsigned)n || n < 2)
            continue;
        hsize_t dims[1] = {(hsize_t)n};
        hid_t t = mb_h5_utf8(), space = H5Screate_simple(1, dims, NULL);
        hid_t a = H5Acreate2(o->dsets[i], "labels", t, space, H5P_DEFAULT, H5P_DEFAULT);
        h = a >= 0 ? H5Awrite(a, t, names) : -1;
        if (a >= 0)
            H5Aclose(a);
        H5Sclose(space);
        H5Tclose(t);
    }
    free(names);
    cJSON_Delete(r);
    return h < 0 ? h5_error("cannot write column labels to", o->name.path) : MB_OK;
}

mb_err mb_output_set_ending(mb_output *o, const char *text)
{
    return mb_h5_put_str(o->file, "ending", text) ? h5_error("cannot write attributes to",
                                                             o->name.path) : MB_OK;
}

mb_err mb_output_close(mb_output *o, const char *const *hosts, int nranks,
                       const char *result_json)
{
    mb_err rc = flush_rows(o, 1);
    if (rc == MB_OK)
        rc = flush_failures(o, 1);
    if (rc == MB_OK)
        rc = label_columns(o, result_json);
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
