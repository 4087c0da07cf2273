/* export.c - `mpibatch export OUT.h5 --format csv|tsv|jsonl [--out FILE]`:
 * an output file as one row per task, for spreadsheets, pandas and jq.
 *
 * Columns, in order (docs/user-guide.md, "Exports"): task, every result
 * field (a field of n values per task, such as classify's scores, as n
 * columns named field_LABEL from the dataset's "labels" attribute, else
 * field_0..), status, rank, host, start, seconds, reason.  Rows are read
 * and written a block at a time, so any output size exports in bounded
 * memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "cli.h"
#include "comm.h"
#include "commands/commands.h"
#include "h5util.h"
#include "output.h"
#include "optparse.h"

#define BLOCK 4096 /* rows read per HDF5 call */

static const mb_option export_options[] = {
    {.name = "format", .type = MB_OPT_ENUM, .defval = "csv", .choices = "csv|tsv|jsonl",
     .help = "csv (RFC 4180), tsv (tabs, \\t \\n \\\\ escaped) or JSON lines"},
    {.name = "out", .type = MB_OPT_STR, .meta = "FILE",
     .help = "write to FILE (atomically) instead of standard output"},
    {0}
};

enum fmt { F_CSV, F_TSV, F_JSONL };
enum kind { K_INT, K_FLOAT, K_STR, K_ENUM };

/* One dataset read a block at a time: [T] or [T, count]. */
typedef struct column {
    char *name;
    hid_t dset, memtype;
    enum kind kind;
    unsigned count;
    char **labels;      /* count column suffixes */
    size_t size;        /* bytes per value in buf */
    int vlen;           /* variable-length strings: buf holds char * */
    char *buf;
} column;

typedef struct exporter {
    const char *path;
    hid_t file;
    uint64_t tasks;
    column *cols;       /* the result fields */
    size_t ncols;
    column rank, start, seconds, status;
    char **hosts;
    size_t nhosts;
    int64_t *fail_task; /* failures, sorted by task */
    char **fail_reason;
    size_t nfail, next_fail;
    enum fmt fmt;
    FILE *fp;
    size_t cell;        /* cells written in the current row */
    cJSON *row;         /* JSON lines: the row being built */
} exporter;

static mb_err h5_fail(const exporter *x, const char *what)
{
    char why[256];
    return mb_error_set(MB_ERR_INPUT, "'%s': %s: %s", x->path, what, mb_h5_reason(why, sizeof why));
}

/* ---- reading ------------------------------------------------------------ */

/* Strings of a 1-D string dataset or attribute, all of them, as malloc'd
 * copies; *n set to their count. */
static char **read_strings(hid_t obj, int is_attr, size_t *n)
{
    hid_t ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int vlen = ftype >= 0 && H5Tis_variable_str(ftype) > 0;
    size_t size = ftype >= 0 ? H5Tget_size(ftype) : 0;
    hid_t mtype = H5Tcopy(H5T_C_S1);
    char **out = count >= 0 ? calloc((size_t)count + 1, sizeof *out) : NULL;
    char *raw = count >= 0 ? calloc((size_t)count + 1, vlen ? sizeof(char *) : size + 1) : NULL;
    herr_t rc = -1;
    if (out && raw && H5Tget_class(ftype) == H5T_STRING) {
        H5Tset_size(mtype, vlen ? H5T_VARIABLE : size);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        rc = is_attr ? H5Aread(obj, mtype, raw) : H5Dread(obj, mtype, H5S_ALL, H5S_ALL,
                                                            H5P_DEFAULT, raw);
    }
    for (hssize_t i = 0; rc >= 0 && i < count; i++) {
        const char *s = vlen ? ((char **)raw)[i] : raw + (size_t)i * size;
        size_t len = vlen ? (s ? strlen(s) : 0) : strnlen(s, size);
        if (!(out[i] = strndup(s ? s : "", len)))
            rc = -1;
    }
    if (rc >= 0 && vlen)
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, raw);
    if (rc < 0 && out) {
        for (hssize_t i = 0; i < count; i++)
            free(out[i]);
        free(out);
        out = NULL;
    }
    free(raw);
    H5Tclose(mtype);
    H5Sclose(space);
    H5Tclose(ftype);
    *n = out ? (size_t)count : 0;
    return out;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* The labels of a [T, count] column: its "labels" attribute, else the
 * output's result "labels" (older files), else 0..count-1. */
static mb_err column_labels(exporter *x, column *c)
{
    size_t n = 0;
    if (H5Aexists(c->dset, "labels") > 0) {
        hid_t a = H5Aopen(c->dset, "labels", H5P_DEFAULT);
        c->labels = read_strings(a, 1, &n);
        H5Aclose(a);
    }
    if ((!c->labels || n != c->count) && H5Aexists(x->file, "result") > 0) {
        hid_t a = H5Aopen(x->file, "result", H5P_DEFAULT);
        size_t one;
        char **text = read_strings(a, 1, &one);
        cJSON *r = text && one == 1 ? cJSON_Parse(text[0]) : NULL;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "labels"), *item;
        H5Aclose(a);
        free_strings(text, one);
        if (cJSON_GetArraySize(l) == (int)c->count) {
            free_strings(c->labels, n);
            c->labels = calloc(c->count, sizeof *c->labels);
            n = 0;
            cJSON_ArrayForEach(item, l)
                if (c->labels && cJSON_IsString(item))
                    c->labels[n++] = strdup(item->valuestring);
        }
        cJSON_Delete(r);
    }
    if (!c->labels || n != c->count) {
        free_strings(c->labels, n);
        if (!(c->labels = calloc(c->count, sizeof *c->labels)))
            return mb_error_set(MB_ERR_NOMEM, "out of memory");
        for (unsigned i = 0; i < c->count; i++) {
            char num[16];
            snprintf(num, sizeof num, "%u", i);
            c->labels[i] = strdup(num);
        }
    }
    for (unsigned i = 0; i < c->count; i++)
        if (!c->labels[i])
            return mb_error_set(MB_ERR_NOMEM, "out of memory");
    return MB_OK;
}

/* Open the dataset at path as a column; T rows expected. */
static mb_err open_column(exporter *x, const char *path, const char *name, column *c)
{
    hsize_t dims[2] = {0, 1};
    hid_t ftype, space;
    int rank;
    memset(c, 0, sizeof *c);
    c->dset = c->memtype = -1;
    if (!(c->name = strdup(name)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    if ((c->dset = H5Dopen2(x->file, path, H5P_DEFAULT)) < 0)
        return h5_fail(x, path);
    ftype = H5Dget_type(c->dset);
    space = H5Dget_space(c->dset);
    rank = H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    c->count = rank == 2 ? (unsigned)dims[1] : 1;
    if (rank < 1 || rank > 2 || dims[0] != x->tasks || c->count == 0) {
        H5Tclose(ftype);
        return mb_error_set(MB_ERR_INPUT, "'%s': %s is not one value or row per task (%d "
                            "dimensions, %llu rows for %llu tasks)", x->path, path, rank,
                            (unsigned long long)dims[0], (unsigned long long)x->tasks);
    }
    switch (H5Tget_class(ftype)) {
    case H5T_INTEGER:
        c->kind = K_INT;
        c->memtype = H5Tcopy(H5T_NATIVE_INT64);
        break;
    case H5T_FLOAT:
        c->kind = K_FLOAT;
        c->memtype = H5Tcopy(H5T_NATIVE_DOUBLE);
        break;
    case H5T_ENUM:
        c->kind = K_ENUM;
        c->memtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
        break;
    case H5T_STRING:
        c->kind = K_STR;
        c->vlen = H5Tis_variable_str(ftype) > 0;
        c->memtype = H5Tcopy(H5T_C_S1);
        H5Tset_size(c->memtype, c->vlen ? H5T_VARIABLE : H5Tget_size(ftype));
        H5Tset_cset(c->memtype, H5Tget_cset(ftype));
        break;
    default:
        H5Tclose(ftype);
        return mb_error_set(MB_ERR_INPUT, "'%s': %s has a type export does not know", x->path,
                            path);
    }
    H5Tclose(ftype);
    c->size = H5Tget_size(c->memtype);
    if (!(c->buf = malloc((size_t)BLOCK * c->count * c->size + 1)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    return c->count > 1 ? column_labels(x, c) : MB_OK;
}

static void close_column(column *c)
{
    if (c->dset > 0)
        H5Dclose(c->dset);
    if (c->memtype > 0)
        H5Tclose(c->memtype);
    free_strings(c->labels, c->labels ? c->count : 0);
    free(c->name);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* Rows [first, first+n) of the column into its buffer. */
static mb_err read_block(exporter *x, column *c, uint64_t first, size_t n)
{
    hsize_t start[2] = {first, 0}, cnt[2] = {n, c->count};
    hid_t fs = H5Dget_space(c->dset), ms = H5Screate_simple(c->count > 1 ? 2 : 1, cnt, NULL);
    herr_t rc;
    rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (rc >= 0)
        rc = H5Dread(c->dset, c->memtype, ms, fs, H5P_DEFAULT, c->buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? h5_fail(x, c->name) : MB_OK;
}

/* Release the strings read_block allocated for a vlen column. */
static void reclaim_block(column *c, size_t n)
{
    hsize_t cnt[2] = {n, c->count};
    if (c->kind != K_STR || !c->vlen)
        return;
    hid_t ms = H5Screate_simple(c->count > 1 ? 2 : 1, cnt, NULL);
    H5Dvlen_reclaim(c->memtype, ms, H5P_DEFAULT, c->buf);
    H5Sclose(ms);
}

/* Every dataset of /results, in the order of their creation. */
static mb_err open_results(exporter *x)
{
    hid_t g = H5Gopen2(x->file, "results", H5P_DEFAULT), gcpl;
    H5G_info_t info;
    H5_index_t idx = H5_INDEX_NAME;
    unsigned order = 0;
    mb_err rc = MB_OK;
    if (g < 0 || H5Gget_info(g, &info) < 0) {
        if (g >= 0)
            H5Gclose(g);
        return h5_fail(x, "no /results group (is it an mpibatch output?)");
    }
    /* The kernel's field order where the file keeps it, else by name. */
    if ((gcpl = H5Gget_create_plist(g)) >= 0) {
        if (H5Pget_link_creation_order(gcpl, &order) >= 0 && (order & H5P_CRT_ORDER_INDEXED))
            idx = H5_INDEX_CRT_ORDER;
        H5Pclose(gcpl);
    }
    if (!(x->cols = calloc(info.nlinks + 1, sizeof *x->cols)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    for (hsize_t i = 0; rc == MB_OK && i < info.nlinks; i++) {
        char name[256], path[300];
        if (H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0)
            rc = h5_fail(x, "/results");
        snprintf(path, sizeof path, "/results/%s", name);
        if (rc == MB_OK && (rc = open_column(x, path, name, &x->cols[i])) == MB_OK)
            x->ncols++;
    }
    H5Gclose(g);
    return rc;
}

static int by_task(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The failure table, sorted by task (reasons follow their tasks). */
static mb_err read_failures(exporter *x)
{
    hid_t t = H5Dopen2(x->file, "/failures/task", H5P_DEFAULT);
    hid_t r = H5Dopen2(x->file, "/failures/reason", H5P_DEFAULT);
    hid_t space = t >= 0 ? H5Dget_space(t) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    size_t nr = 0;
    mb_err rc = MB_OK;
    if (n < 0 || r < 0)
        rc = h5_fail(x, "no readable /failures table");
    if (rc == MB_OK && !(x->fail_task = malloc(((size_t)n + 1) * 2 * sizeof(int64_t))))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (rc == MB_OK && n > 0 &&
        H5Dread(t, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, x->fail_task) < 0)
        rc = h5_fail(x, "/failures/task");
    if (rc == MB_OK && !(x->fail_reason = read_strings(r, 0, &nr)))
        rc = h5_fail(x, "/failures/reason");
    if (rc == MB_OK && nr != (size_t)n)
        rc = mb_error_set(MB_ERR_INPUT, "'%s': /failures has %lld tasks but %zu reasons",
                          x->path, (long long)n, nr);
    if (rc == MB_OK) {
        /* Sort (task, index) pairs, then reorder the reasons alike. */
        int64_t *pairs = x->fail_task;
        char **sorted = malloc(((size_t)n + 1) * sizeof *sorted);
        for (hssize_t i = n - 1; i >= 0; i--) {
            pairs[2 * i] = pairs[i];
            pairs[2 * i + 1] = i;
        }
        qsort(pairs, (size_t)n, 2 * sizeof *pairs, by_task);
        for (hssize_t i = 0; sorted && i < n; i++) {
            sorted[i] = x->fail_reason[pairs[2 * i + 1]];
            pairs[i] = pairs[2 * i];
        }
        if (sorted) {
            free(x->fail_reason);
            x->fail_reason = sorted;
        } else
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
        x->nfail = (size_t)n;
    }
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Dclose(t);
    if (r >= 0)
        H5Dclose(r);
    return rc;
}

static mb_err open_export(exporter *x, const char *path)
{
    const char *refused;
    hid_t d;
    hsize_t dims[1] = {0};
    mb_err rc;
    hid_t space;
    x->path = path;
    mb_h5_quiet();
    if ((x->file = mb_h5_open_read(path, &refused)) < 0) {
        char why[256];
        if (access(path, R_OK) != 0)
            return mb_error_set(MB_ERR_INPUT, "cannot read '%s': %s", path, strerror(errno));
        return mb_error_set(MB_ERR_INPUT, "cannot open '%s' as HDF5: %s", path,
                            refused ? refused : mb_h5_reason(why, sizeof why));
    }
    if ((d = H5Dopen2(x->file, "/tasks/rank", H5P_DEFAULT)) < 0)
        return mb_error_set(MB_ERR_INPUT, "'%s' is not an mpibatch output (no /tasks/rank)", path);
    space = H5Dget_space(d);
    H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    H5Dclose(d);
    x->tasks = dims[0];
    if ((rc = open_results(x)) != MB_OK ||
        (rc = open_column(x, "/tasks/rank", "rank", &x->rank)) != MB_OK ||
        (rc = open_column(x, "/tasks/start", "start", &x->start)) != MB_OK ||
        (rc = open_column(x, "/tasks/seconds", "seconds", &x->seconds)) != MB_OK ||
        (rc = open_column(x, "/tasks/status", "status", &x->status)) != MB_OK ||
        (rc = read_failures(x)) != MB_OK)
        return rc;
    if ((d = H5Dopen2(x->file, "/ranks/host", H5P_DEFAULT)) < 0 ||
        !(x->hosts = read_strings(d, 0, &x->nhosts)))
        rc = h5_fail(x, "/ranks/host");
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static void close_export(exporter *x)
{
    for (size_t i = 0; i < x->ncols; i++)
        close_column(&x->cols[i]);
    free(x->cols);
    close_column(&x->rank);
    close_column(&x->start);
    close_column(&x->seconds);
    close_column(&x->status);
    free_strings(x->hosts, x->nhosts);
    free(x->fail_task);
    free_strings(x->fail_reason, x->nfail);
    if (x->file >= 0)
        H5Fclose(x->file);
}

/* ---- writing ------------------------------------------------------------ */

static void put_text(exporter *x, const char *name, const char *s)
{
    if (x->fmt == F_JSONL) {
        cJSON_AddItemToObject(x->row, name, cJSON_CreateString(s));
        return;
    }
    if (x->cell++)
        fputc(x->fmt == F_CSV ? ',' : '\t', x->fp);
    if (x->fmt == F_TSV) {
        for (const char *p = s; *p; p++)
            switch (*p) {
            case '\t': fputs("\\t", x->fp); break;
            case '\n': fputs("\\n", x->fp); break;
            case '\r': fputs("\\r", x->fp); break;
            case '\\': fputs("\\\\", x->fp); break;
            default: fputc(*p, x->fp);
            }
    } else if (strpbrk(s, ",\"\r\n")) {
        fputc('"', x->fp);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', x->fp);
            fputc(*p, x->fp);
        }
        fputc('"', x->fp);
    } else
        fputs(s, x->fp);
}

static void put_int(exporter *x, const char *name, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    if (x->fmt == F_JSONL) /* raw: exact beyond 2^53 too */
        cJSON_AddItemToObject(x->row, name, cJSON_CreateRaw(buf));
    else
        put_text(x, name, buf);
}

/* The shortest of %.15g..%.17g that reads back as the same double (cJSON
 * prints some doubles a bit off, so JSON numbers are written raw too);
 * JSON has no NaN or infinity: null. */
static void put_float(exporter *x, const char *name, double v)
{
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (x->fmt == F_JSONL)
        cJSON_AddItemToObject(x->row, name, isfinite(v) ? cJSON_CreateRaw(buf) : cJSON_CreateNull());
    else
        put_text(x, name, buf);
}

static void end_row(exporter *x)
{
    if (x->fmt == F_JSONL) {
        char *text = cJSON_PrintUnformatted(x->row);
        if (text)
            fputs(text, x->fp);
        free(text);
        cJSON_Delete(x->row);
        x->row = cJSON_CreateObject();
    }
    fputc('\n', x->fp);
    x->cell = 0;
}

/* A column's cell name: the field, or field_LABEL for one of several. */
static const char *cell_name(const column *c, unsigned k, char *buf, size_t n)
{
    if (c->count == 1)
        return c->name;
    snprintf(buf, n, "%s_%s", c->name, c->labels[k]);
    return buf;
}

static void header(exporter *x)
{
    char buf[512];
    if (x->fmt == F_JSONL)
        return;
    put_text(x, "", "task");
    for (size_t i = 0; i < x->ncols; i++)
        for (unsigned k = 0; k < x->cols[i].count; k++)
            put_text(x, "", cell_name(&x->cols[i], k, buf, sizeof buf));
    static const char *const tail[] = {"status", "rank", "host", "start", "seconds", "reason"};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        put_text(x, "", tail[i]);
    end_row(x);
}

/* Value k of row r of a column, as its kind says. */
static void put_value(exporter *x, const column *c, size_t r, unsigned k, const char *name)
{
    size_t at = r * c->count + k;
    if (c->kind == K_INT) {
        put_int(x, name, ((const int64_t *)(const void *)c->buf)[at]);
    } else if (c->kind == K_FLOAT) {
        put_float(x, name, ((const double *)(const void *)c->buf)[at]);
    } else if (c->vlen) {
        const char *s = ((char **)(void *)c->buf)[at];
        put_text(x, name, s ? s : "");
    } else {
        char *s = strndup(c->buf + at * c->size, c->size);
        put_text(x, name, s ? s : "");
        free(s);
    }
}

/* The status of row r: the enum's name, else the code's (output.h). */
static void put_status(exporter *x, size_t r)
{
    const column *c = &x->status;
    char name[64];
    int64_t code;
    if (c->kind == K_ENUM) {
        if (H5Tenum_nameof(c->memtype, c->buf + r * c->size, name, sizeof name) < 0)
            snprintf(name, sizeof name, "?");
        put_text(x, "status", name);
        return;
    }
    code = ((const int64_t *)(const void *)c->buf)[r];
    put_text(x, "status", mb_output_status_name((int)code));
}

static void put_row(exporter *x, uint64_t task, size_t r)
{
    char buf[512];
    int64_t rank = ((const int64_t *)(const void *)x->rank.buf)[r];
    const char *reason = "";
    put_int(x, "task", (int64_t)task);
    for (size_t i = 0; i < x->ncols; i++)
        for (unsigned k = 0; k < x->cols[i].count; k++)
            put_value(x, &x->cols[i], r, k, cell_name(&x->cols[i], k, buf, sizeof buf));
    put_status(x, r);
    put_int(x, "rank", rank);
    put_text(x, "host", rank >= 0 && (size_t)rank < x->nhosts ? x->hosts[rank] : "");
    put_float(x, "start", ((const double *)(const void *)x->start.buf)[r]);
    put_float(x, "seconds", ((const double *)(const void *)x->seconds.buf)[r]);
    while (x->next_fail < x->nfail && x->fail_task[x->next_fail] < (int64_t)task)
        x->next_fail++;
    if (x->next_fail < x->nfail && x->fail_task[x->next_fail] == (int64_t)task)
        reason = x->fail_reason[x->next_fail];
    put_text(x, "reason", reason);
    end_row(x);
}

static mb_err write_rows(exporter *x)
{
    mb_err rc = MB_OK;
    if (x->fmt == F_JSONL && !(x->row = cJSON_CreateObject()))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    header(x);
    for (uint64_t first = 0; rc == MB_OK && first < x->tasks; first += BLOCK) {
        size_t n = x->tasks - first < BLOCK ? (size_t)(x->tasks - first) : BLOCK;
        column *fixed[] = {&x->rank, &x->start, &x->seconds, &x->status};
        for (size_t i = 0; rc == MB_OK && i < x->ncols; i++)
            rc = read_block(x, &x->cols[i], first, n);
        for (size_t i = 0; rc == MB_OK && i < 4; i++)
            rc = read_block(x, fixed[i], first, n);
        for (size_t r = 0; rc == MB_OK && r < n; r++)
            put_row(x, first + r, r);
        for (size_t i = 0; rc == MB_OK && i < x->ncols; i++)
            reclaim_block(&x->cols[i], n);
    }
    cJSON_Delete(x->row);
    x->row = NULL;
    return rc;
}

/* ---- the command -------------------------------------------------------- */

static void export_help(FILE *fp)
{
    fputs("Usage: mpibatch export [OPTIONS] OUT.h5\n\n"
          "Writes the output file OUT.h5 of a job as one row per task: task, the result\n"
          "fields (a field of several values, such as classify's scores, as one column\n"
          "per label: scores_physics ...), status (ok or failed), rank, host, start,\n"
          "seconds and the failure reason.  Runs on one process; needs no mpirun.\n\n"
          "Options:\n", fp);
    mb_options_print_help(export_options, fp);
    fputs("\nExit status: 0 written, 2 usage error, 3 OUT.h5 unreadable or not an\n"
          "mpibatch output, or the export could not be written.\n", fp);
}

/* To OUT through a temporary name (atomic.h), or to standard output. */
static mb_err export_to(exporter *x, const char *out)
{
    mb_atomic file = {0};
    mb_err rc;
    if (!out || !strcmp(out, "-")) {
        x->fp = stdout;
        rc = write_rows(x);
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = rc != MB_OK ? rc : mb_error_set(MB_ERR_IO, "cannot write to standard output: %s",
                                                 strerror(errno));
        return rc;
    }
    if ((rc = mb_atomic_begin(&file, out)) != MB_OK ||
        (rc = mb_atomic_fopen(&file, "export", &x->fp)) != MB_OK) {
        mb_atomic_discard(&file);
        return rc;
    }
    rc = write_rows(x);
    return mb_atomic_finish(&file, rc, x->fp, 0, "export");
}

static mb_err export_run(int argc, char **argv, int *usage)
{
    const mb_option *const tables[] = {export_options, NULL};
    const char *file[1];
    int n = 0;
    cJSON *spec = NULL;
    exporter x = {.file = -1};
    mb_err rc = mb_cli_command_spec(argc, argv, tables, &spec, file, 1, &n);
    if (rc == MB_ERR_USAGE && !strncmp(mb_error_message(), "unexpected argument", 19))
        rc = mb_error_set(MB_ERR_USAGE, "export takes one file: mpibatch export [OPTIONS] OUT.h5");
    if (rc == MB_OK && n != 1)
        rc = mb_error_set(MB_ERR_USAGE, "export needs the output file of a job: "
                          "mpibatch export [OPTIONS] OUT.h5");
    *usage = rc != MB_OK;
    if (rc == MB_OK) {
        const char *fmt = cJSON_GetObjectItemCaseSensitive(spec, "format")->valuestring;
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(spec, "out");
        x.fmt = !strcmp(fmt, "tsv") ? F_TSV : !strcmp(fmt, "jsonl") ? F_JSONL : F_CSV;
        if ((rc = open_export(&x, file[0])) == MB_OK)
            rc = export_to(&x, cJSON_IsString(out) ? out->valuestring : NULL);
        close_export(&x);
    }
    cJSON_Delete(spec);
    return rc;
}

static int export_main(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0, usage = 0;
    mb_err rc = MB_OK;
    MPI_Comm_rank(comm, &rank);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (rank == 0)
                export_help(stdout);
            return MB_EXIT_OK;
        }
    if (rank == 0)
        rc = export_run(argc, argv, &usage);
    rc = mb_comm_agree(comm, rc);
    if (rc != MB_OK && rank == 0) {
        fprintf(stderr, "mpibatch: %s\n", mb_error_message());
        if (usage)
            fputs("Try 'mpibatch help export' for usage.\n", stderr);
    }
    return mb_error_exit_status(rc);
}

const mb_command mb_command_export = {
    .name = "export",
    .summary = "OUT.h5: an output as CSV, TSV or JSON lines, one row per task",
    .main = export_main,
    .help = export_help,
};
