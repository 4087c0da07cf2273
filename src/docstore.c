/* docstore.c - documents in HDF5: import writer and classify source. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "docstore.h"
#include "h5util.h"
#include "output.h"

enum { D_ID, D_TITLE, D_ABSTRACT, D_CATS, NSTR };
static const char *const str_names[NSTR] = {"id", "title", "abstract", "categories"};

/* Copies of one block of records, written together. */
struct mb_docstore_writer {
    mb_atomic out;        /* the final name and the one written to */
    hid_t file, str[NSTR], label, line, strtype;
    char *buf[NSTR][MB_DOCSTORE_BLOCK];
    int32_t labels[MB_DOCSTORE_BLOCK];
    int64_t lines[MB_DOCSTORE_BLOCK];
    size_t n;
    uint64_t written;
};

static mb_err h5_error(mb_err code, const char *what, const char *path)
{
    char why[256];
    return mb_error_set(code, "%s '%s': %s", what, path, mb_h5_reason(why, sizeof why));
}

static hid_t column(hid_t g, const char *name, hid_t type)
{
    hsize_t dims[1] = {0}, maxd[1] = {H5S_UNLIMITED}, chunk[1] = {MB_DOCSTORE_BLOCK};
    hid_t space = H5Screate_simple(1, dims, maxd), plist = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (H5Pset_chunk(plist, 1, chunk) >= 0 && H5Pset_deflate(plist, 1) >= 0)
        d = H5Dcreate2(g, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    H5Pclose(plist);
    H5Sclose(space);
    return d;
}

/* Release w; its temporary file, if still there, goes with it. */
static void writer_free(mb_docstore_writer *w)
{
    for (int c = 0; c < NSTR; c++) {
        if (w->str[c] > 0)
            H5Dclose(w->str[c]);
        for (size_t i = 0; i < w->n; i++)
            free(w->buf[c][i]);
    }
    if (w->label > 0)
        H5Dclose(w->label);
    if (w->line > 0)
        H5Dclose(w->line);
    if (w->strtype > 0)
        H5Tclose(w->strtype);
    if (w->file > 0)
        H5Fclose(w->file);
    mb_atomic_discard(&w->out);
    free(w);
}

mb_err mb_docstore_create(mb_docstore_writer **wp, const char *path, const char *source)
{
    mb_docstore_writer *w = calloc(1, sizeof *w);
    hid_t g;
    *wp = NULL;
    mb_h5_quiet();
    mb_err rc = w ? mb_atomic_begin(&w->out, path)
                  : mb_error_set(MB_ERR_NOMEM, "out of memory creating '%s'", path);
    if (rc != MB_OK) {
        free(w);
        return rc;
    }
    FILE *probe = fopen(w->out.tmp, "wb"); /* errno says more than HDF5 does */
    if (!probe) {
        rc = mb_error_set(MB_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
        writer_free(w);
        return rc;
    }
    fclose(probe);
    w->strtype = mb_h5_utf8();
    if ((w->file = H5Fcreate(w->out.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        (g = H5Gcreate2(w->file, "documents", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto fail;
    for (int c = 0; c < NSTR; c++)
        w->str[c] = column(g, str_names[c], w->strtype);
    w->label = column(g, "label", H5T_STD_I32LE);
    w->line = column(g, "line", H5T_STD_I64LE);
    H5Gclose(g);
    if (w->str[NSTR - 1] < 0 || w->label < 0 || w->line < 0 ||
        mb_h5_put_str(w->file, "format", MB_DOCSTORE_FORMAT) < 0 ||
        mb_h5_put_u64(w->file, "format_version", MB_DOCSTORE_VERSION) < 0 ||
        mb_h5_put_str(w->file, "source", source) < 0)
        goto fail;
    *wp = w;
    return MB_OK;
fail:
    rc = h5_error(MB_ERR_IO, "cannot create document store", path);
    writer_free(w);
    return rc;
}

static mb_err flush(mb_docstore_writer *w)
{
    herr_t rc = 0;
    for (int c = 0; rc >= 0 && c < NSTR; c++)
        rc = mb_h5_append(w->str[c], w->strtype, w->written, w->n, 1, w->buf[c]);
    if (rc >= 0)
        rc = mb_h5_append(w->label, H5T_NATIVE_INT32, w->written, w->n, 1, w->labels);
    if (rc >= 0)
        rc = mb_h5_append(w->line, H5T_NATIVE_INT64, w->written, w->n, 1, w->lines);
    for (int c = 0; c < NSTR; c++)
        for (size_t i = 0; i < w->n; i++)
            free(w->buf[c][i]);
    w->written += w->n;
    w->n = 0;
    return rc < 0 ? h5_error(MB_ERR_IO, "cannot write document store", w->out.path) : MB_OK;
}

mb_err mb_docstore_append(mb_docstore_writer *w, const mb_jsonl_record *r, uint64_t line)
{
    const char *f[NSTR] = {r->id, r->title, r->abstract, r->categories ? r->categories : ""};
    size_t len[NSTR] = {strlen(r->id), r->title_len, r->abstract_len, strlen(f[D_CATS])};
    for (int c = 0; c < NSTR; c++)
        if (!(w->buf[c][w->n] = strndup(f[c], len[c]))) {
            while (c-- > 0)
                free(w->buf[c][w->n]);
            return mb_error_set(MB_ERR_NOMEM, "out of memory importing line %llu",
                                (unsigned long long)line);
        }
    w->labels[w->n] = r->label;
    w->lines[w->n++] = (int64_t)line;
    return w->n == MB_DOCSTORE_BLOCK ? flush(w) : MB_OK;
}

mb_err mb_docstore_close(mb_docstore_writer *w)
{
    mb_err rc = flush(w);
    if (rc == MB_OK && mb_h5_put_u64(w->file, "documents", w->written) < 0)
        rc = h5_error(MB_ERR_IO, "cannot write document store", w->out.path);
    for (int c = 0; c < NSTR; c++) {
        H5Dclose(w->str[c]);
        w->str[c] = 0;
    }
    H5Dclose(w->label);
    H5Dclose(w->line);
    w->label = w->line = 0;
    if (H5Fclose(w->file) < 0 && rc == MB_OK)
        rc = h5_error(MB_ERR_IO, "cannot finish document store", w->out.path);
    w->file = 0;
    rc = mb_atomic_finish(&w->out, rc, NULL, 0, "document store");
    writer_free(w);
    return rc;
}

void mb_docstore_discard(mb_docstore_writer *w)
{
    if (w)
        writer_free(w);
}

typedef struct store_reader {
    char *path;
    hid_t file, str[NSTR], label, line, strtype;
    uint64_t total, next;
    mb_buf scratch;      /* one packed document */
} store_reader;

static void reader_close(void *state)
{
    store_reader *r = state;
    if (!r)
        return;
    for (int c = 0; c < NSTR; c++)
        if (r->str[c] > 0)
            H5Dclose(r->str[c]);
    if (r->label > 0)
        H5Dclose(r->label);
    if (r->line > 0)
        H5Dclose(r->line);
    if (r->strtype > 0)
        H5Tclose(r->strtype);
    if (r->file > 0)
        H5Fclose(r->file);
    free(r->path);
    mb_buf_free(&r->scratch);
    free(r);
}

static herr_t read_rows(hid_t d, hid_t memtype, uint64_t at, size_t n, void *data)
{
    hsize_t start[1] = {at}, count[1] = {n};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, count, NULL);
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (rc >= 0)
        rc = H5Dread(d, memtype, ms, fs, H5P_DEFAULT, data);
    H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

/* One payload: [label][line] id NUL title NUL abstract NUL. */
static mb_err pack(mb_buf *b, mb_batch *out, int32_t label, int64_t line, char *const *s)
{
    b->len = 0;
    mb_err rc = mb_buf_append(b, &label, sizeof label);
    if (rc == MB_OK)
        rc = mb_buf_append(b, &line, sizeof line);
    for (int c = 0; rc == MB_OK && c < D_CATS; c++)
        rc = mb_buf_append(b, s[c] ? s[c] : "", strlen(s[c] ? s[c] : "") + 1);
    return rc == MB_OK ? mb_batch_add(out, b->data, b->len) : rc;
}

static mb_err reader_read(void *state, uint64_t max, mb_batch *out)
{
    store_reader *r = state;
    size_t n = (size_t)(r->total - r->next < max ? r->total - r->next : max);
    char **s[D_CATS] = {NULL};
    int32_t *labels = malloc(n * sizeof *labels);
    int64_t *lines = malloc(n * sizeof *lines);
    mb_err rc = labels && lines ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory reading");
    for (int c = 0; rc == MB_OK && c < D_CATS; c++)
        if (!(s[c] = calloc(n ? n : 1, sizeof *s[c])) ||
            read_rows(r->str[c], r->strtype, r->next, n, s[c]) < 0)
            rc = h5_error(MB_ERR_INPUT, "cannot read documents from", r->path);
    if (rc == MB_OK && (read_rows(r->label, H5T_NATIVE_INT32, r->next, n, labels) < 0 ||
                        read_rows(r->line, H5T_NATIVE_INT64, r->next, n, lines) < 0))
        rc = h5_error(MB_ERR_INPUT, "cannot read documents from", r->path);
    for (size_t i = 0; rc == MB_OK && i < n; i++) {
        char *row[D_CATS] = {s[D_ID][i], s[D_TITLE][i], s[D_ABSTRACT][i]};
        rc = pack(&r->scratch, out, labels[i], lines[i], row);
    }
    for (int c = 0; c < D_CATS; c++) {
        for (size_t i = 0; s[c] && i < n; i++)
            H5free_memory(s[c][i]);
        free(s[c]);
    }
    free(labels);
    free(lines);
    r->next += n;
    return rc;
}

static mb_err check_format(store_reader *r)
{
    char *fmt = NULL;
    uint64_t version = 0;
    hid_t a = H5Aexists(r->file, "format") > 0 ? H5Aopen(r->file, "format", H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Aread(a, r->strtype, &fmt) >= 0 && fmt &&
             strcmp(fmt, MB_DOCSTORE_FORMAT) == 0;
    if (a >= 0)
        H5Aclose(a);
    H5free_memory(fmt);
    if (!ok)
        return mb_error_set(MB_ERR_INPUT, "'%s' is an HDF5 file but not an mpibatch document "
                            "store (make one with mpibatch import)", r->path);
    a = H5Aopen(r->file, "format_version", H5P_DEFAULT);
    ok = a >= 0 && H5Aread(a, H5T_NATIVE_UINT64, &version) >= 0;
    if (a >= 0)
        H5Aclose(a);
    if (!ok || version > MB_DOCSTORE_VERSION)
        return mb_error_set(MB_ERR_INPUT, "'%s': document store format version %llu, this "
                            "mpibatch reads up to %d", r->path, (unsigned long long)version,
                            MB_DOCSTORE_VERSION);
    return MB_OK;
}

/* Every column present and as long as the ids. */
static mb_err open_columns(store_reader *r)
{
    static const char *const names[NSTR + 2] = {"/documents/id", "/documents/title",
        "/documents/abstract", "/documents/categories", "/documents/label", "/documents/line"};
    hid_t *d[NSTR + 2] = {&r->str[0], &r->str[1], &r->str[2], &r->str[3], &r->label, &r->line};
    for (int c = 0; c < NSTR + 2; c++) {
        const char *name = names[c];
        hsize_t dims[1] = {0};
        if (H5Lexists(r->file, "/documents", H5P_DEFAULT) <= 0 ||
            H5Lexists(r->file, name, H5P_DEFAULT) <= 0 ||
            (*d[c] = H5Dopen2(r->file, name, H5P_DEFAULT)) < 0)
            return mb_error_set(MB_ERR_INPUT, "'%s': document store lacks %s", r->path, name);
        hid_t s = H5Dget_space(*d[c]);
        int rank = H5Sget_simple_extent_dims(s, dims, NULL);
        H5Sclose(s);
        if (c == 0)
            r->total = dims[0];
        if (rank != 1 || dims[0] != r->total)
            return mb_error_set(MB_ERR_INPUT, "'%s': %s has %llu rows, the ids %llu", r->path,
                                name, (unsigned long long)dims[0], (unsigned long long)r->total);
    }
    return MB_OK;
}

mb_err mb_source_open_docstore(mb_source *src, const char *path)
{
    store_reader *r = calloc(1, sizeof *r);
    mb_err rc;
    memset(src, 0, sizeof *src);
    mb_h5_quiet();
    if (!r || !(r->path = strdup(path))) {
        reader_close(r);
        return mb_error_set(MB_ERR_NOMEM, "out of memory opening '%s'", path);
    }
    r->strtype = mb_h5_utf8();
    const char *refused;
    if ((r->file = mb_h5_open_read(path, &refused)) < 0)
        rc = refused ? mb_error_set(MB_ERR_INPUT, "cannot open document store '%s': %s",
                                    path, refused)
                     : h5_error(MB_ERR_INPUT, "cannot open document store", path);
    else if ((rc = check_format(r)) == MB_OK)
        rc = open_columns(r);
    if (rc != MB_OK) {
        reader_close(r);
        return rc;
    }
    *src = (mb_source){.name = "docstore", .read = reader_read, .close = reader_close, .state = r};
    return MB_OK;
}

int mb_docstore_is_hdf5(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    FILE *fp = fopen(path, "rb");
    int yes = fp && fread(head, 1, 8, fp) == 8 && memcmp(head, sig, 8) == 0;
    if (fp)
        fclose(fp);
    return yes;
}

mb_err mb_docstore_unpack(const char *p, size_t len, mb_doc *doc)
{
    int32_t label;
    const char *end = p + len, *s[3];
    if (len < 12 + 3)
        return mb_error_set(MB_ERR_INTERNAL, "document payload of %zu bytes is too short", len);
    memcpy(&label, p, sizeof label);
    memcpy(&doc->line, p + 4, sizeof doc->line);
    s[0] = p + 12;
    for (int i = 1; i < 3; i++) {
        const char *nul = memchr(s[i - 1], '\0', (size_t)(end - s[i - 1]));
        if (!nul)
            return mb_error_set(MB_ERR_INTERNAL, "malformed document payload");
        s[i] = nul + 1;
    }
    if (!memchr(s[2], '\0', (size_t)(end - s[2])))
        return mb_error_set(MB_ERR_INTERNAL, "malformed document payload");
    doc->label = label;
    doc->id = s[0];
    doc->title = s[1];
    doc->title_len = strlen(s[1]);
    doc->abstract = s[2];
    doc->abstract_len = strlen(s[2]);
    return MB_OK;
}
