/* model_io.c - classifier models in HDF5 files and in flat buffers. */
#define _POSIX_C_SOURCE 200809L
#include "h5util.h"
#include "ml/model_io.h"

#include <errno.h>
#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "atomic.h"

/* Rows per HDF5 chunk of a compressed array: 16 Ki rows of 5 weights is
 * 320 KiB. */
#define CHUNK_ROWS 16384
/* Level 1 already gets most of the gain on float weights. */
#define DEFLATE_LEVEL 1
#define HASH_NAME "fnv1a64+fmix64"
#define PACK_MAGIC "MBMODEL1"

/* Model parameters stored as attributes of the root group, by name;
 * since: the first format version that has the attribute (files of older
 * versions load with the value those versions were trained with, 0). */
static const struct {
    const char *name;
    size_t offset;
    int is_double;
    long long since;
} param_attrs[] = {
    {"hash_bits", offsetof(mb_model_params, hash_bits), 0, 1},
    {"title_weight", offsetof(mb_model_params, title_weight), 0, 1},
    {"min_df", offsetof(mb_model_params, min_df), 0, 1},
    {"supervision", offsetof(mb_model_params, supervision), 1, 1},
    {"l2", offsetof(mb_model_params, l2), 1, 1},
    {"class_balance", offsetof(mb_model_params, class_balance), 1, 1},
    {"max_iter", offsetof(mb_model_params, max_iter), 0, 1},
    {"tol", offsetof(mb_model_params, tol), 1, 1},
    {"label_smoothing", offsetof(mb_model_params, label_smoothing), 1, 3},
};
#define N_PARAM_ATTRS (sizeof param_attrs / sizeof param_attrs[0])

/* The sparse form of a model that both the file and the buffer hold. */
typedef struct sparse_model {
    size_t n_active;
    uint32_t *buckets;
    float *idf;
    float *weights; /* n_active rows of n_labels */
} sparse_model;

/* Fixed part of a packed buffer; zeroed before filling so that padding
 * bytes are defined when the buffer is sent. */
typedef struct pack_header {
    char magic[8];
    uint64_t n_labels;
    uint64_t n_active;
    int64_t n_train_docs;
    uint64_t levels;        /* 2: a length and a packed sub-model follow
                               the rows for each label (length 0: none) */
    mb_model_params params;
    double bias[MB_MODEL_MAX_LABELS];
    char labels[MB_MODEL_MAX_LABELS][MB_MODEL_LABEL_MAX + 1];
} pack_header;

/* Errors: the functions below set the message of what went wrong with
 * mb_error_set; the public functions put the file in front of it once. */

/* "model file 'path': " before the message already set; returns code. */
static mb_err in_file(mb_err code, const char *path)
{
    return mb_error_set(code, "model file '%s': %s", path, mb_error_message());
}

/* what, with HDF5's own description of the failure appended. */
static mb_err h5_error(mb_err code, const char *what)
{
    char why[256];
    return mb_error_set(code, "%s (%s)", what, mb_h5_reason(why, sizeof why));
}

static void sparse_free(sparse_model *s)
{
    free(s->buckets);
    free(s->idf);
    free(s->weights);
    memset(s, 0, sizeof *s);
}

/* Room for n_active rows (at least one, so that malloc never sees 0). */
static mb_err sparse_alloc(sparse_model *s, size_t n_active, size_t k)
{
    size_t n = n_active ? n_active : 1;
    s->n_active = n_active;
    s->buckets = malloc(n * sizeof *s->buckets);
    s->idf = malloc(n * sizeof *s->idf);
    s->weights = malloc(n * k * sizeof *s->weights);
    if (s->buckets && s->idf && s->weights) return MB_OK;
    sparse_free(s);
    return mb_error_set(MB_ERR_NOMEM, "no memory for %zu model rows", n_active);
}

/* The active rows of a trained model, in increasing bucket order. */
static mb_err sparse_from_model(sparse_model *s, const mb_model *m)
{
    size_t k = m->n_labels, stride = k + 1, n = 0, i = 0;
    mb_err err;
    for (size_t b = 0; b < m->n_buckets; b++) n += m->table[b * stride] != 0;
    if ((err = sparse_alloc(s, n, k)) != MB_OK) return err;
    for (size_t b = 0; b < m->n_buckets; b++) {
        const float *row = m->table + b * stride;
        if (row[0] == 0.0f) continue;
        s->buckets[i] = (uint32_t)b;
        s->idf[i] = row[0];
        memcpy(s->weights + i * k, row + 1, k * sizeof *s->weights);
        i++;
    }
    return MB_OK;
}

/* Check the header fields that size the model. */
static mb_err header_ok(const mb_model *m)
{
    if (m->n_labels < 2 || m->n_labels > MB_MODEL_MAX_LABELS)
        return mb_error_set(MB_ERR_INPUT, "%zu labels; need 2 to %d",
                            m->n_labels, MB_MODEL_MAX_LABELS);
    if (m->params.hash_bits < MB_FEATURES_MIN_BITS ||
        m->params.hash_bits > MB_FEATURES_MAX_BITS)
        return mb_error_set(MB_ERR_INPUT, "hash_bits %u outside [%d, %d]",
                            m->params.hash_bits, MB_FEATURES_MIN_BITS,
                            MB_FEATURES_MAX_BITS);
    if (m->params.title_weight == 0)
        return mb_error_set(MB_ERR_INPUT, "title_weight is 0");
    return MB_OK;
}

/* The dense table of m: at's memory (borrowed, not yet filled; at->get
 * sets the message of its failure) or m's own (zeroed). */
static mb_err table_alloc(mb_model *m, const mb_model_table_at *at)
{
    size_t n = m->n_buckets * (m->n_labels + 1);
    mb_err err;
    if (!at) {
        if ((m->table = calloc(n, sizeof *m->table))) return MB_OK;
        return mb_error_set(MB_ERR_NOMEM, "no memory for 2^%u buckets",
                            m->params.hash_bits);
    }
    if ((err = at->get(at->ctx, n, &m->table)) != MB_OK) return err;
    m->table_borrowed = 1;
    return MB_OK;
}

/* Fill m (params, labels, bias already set) from the sparse rows, in a
 * table from at (NULL: m's own): the shared last step of loading and
 * unpacking. */
static mb_err model_from_sparse(mb_model *m, const sparse_model *s,
                                const mb_model_table_at *at)
{
    size_t k = m->n_labels, stride = k + 1;
    mb_err err;
    m->n_buckets = (size_t)1 << m->params.hash_bits;
    if (s->n_active > m->n_buckets)
        return mb_error_set(MB_ERR_INPUT, "%zu active buckets in 2^%u",
                            s->n_active, m->params.hash_bits);
    /* Every check before the table exists: a shared table's allocation
     * is collective, and after it only allocation may fail. */
    for (size_t i = 0; i < s->n_active; i++) {
        uint32_t b = s->buckets[i];
        if (b >= m->n_buckets || (i > 0 && b <= s->buckets[i - 1]) ||
            !(s->idf[i] > 0.0f))
            return mb_error_set(MB_ERR_INPUT, "row %zu (bucket %u) is out of "
                                "order, out of range or has no positive idf",
                                i, (unsigned)b);
    }
    if ((err = table_alloc(m, at)) != MB_OK) return err;
    /* The active rows (in bucket order) and, in borrowed memory, the runs
     * of zeros between them: one sequential pass, where zeroing it all
     * first took a second pass over its 25 MB.  calloc's pages come
     * zeroed. */
    for (size_t i = 0, next = 0; i <= s->n_active; i++) {
        size_t b = i < s->n_active ? s->buckets[i] : m->n_buckets;
        if (at)
            memset(m->table + next * stride, 0,
                   (b - next) * stride * sizeof *m->table);
        if (i < s->n_active) {
            m->table[b * stride] = s->idf[i];
            memcpy(m->table + b * stride + 1, s->weights + i * k,
                   k * sizeof *m->table);
        }
        next = b + 1;
    }
    m->n_active = s->n_active;
    mb_model_index(m);
    return MB_OK;
}

/* ---- writing ---------------------------------------------------------- */

static herr_t put_param_attrs(hid_t file, const mb_model_params *p)
{
    herr_t rc = 0;
    for (size_t i = 0; rc >= 0 && i < N_PARAM_ATTRS; i++) {
        const char *field = (const char *)p + param_attrs[i].offset;
        if (param_attrs[i].is_double)
            rc = mb_h5_put_scalar(file, param_attrs[i].name, H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, field);
        else
            rc = mb_h5_put_scalar(file, param_attrs[i].name, H5T_STD_U32LE,
                          H5T_NATIVE_UINT, field);
    }
    return rc;
}

/* Only facts that do not depend on how the model was trained (rank count,
 * time) go in the file, so a model trained at any rank count is the same
 * file: h5diff finds no difference.  The train report has the rest. */
static herr_t put_root_attrs(hid_t file, const mb_model *m,
                             const mb_model_provenance *prov)
{
    if (mb_h5_put_str(file, "format", MB_MODEL_FORMAT) < 0 ||
        mb_h5_put_i64(file, "format_version", MB_MODEL_FORMAT_VERSION) < 0 ||
        put_param_attrs(file, &m->params) < 0 ||
        mb_h5_put_i64(file, "token_max", MB_TOKEN_MAX) < 0 ||
        mb_h5_put_i64(file, "prefix_bytes", MB_FEATURES_PREFIX) < 0 ||
        mb_h5_put_str(file, "hash", HASH_NAME) < 0 ||
        mb_h5_put_i64(file, "train_documents", m->n_train_docs) < 0 ||
        mb_h5_put_str(file, "mpibatch_version", PACKAGE_VERSION) < 0)
        return -1;
    if (!prov) return 0;
    if (mb_h5_put_str(file, "train_file",
                     prov->train_file ? prov->train_file : "") < 0 ||
        mb_h5_put_i64(file, "train_iterations", prov->iterations) < 0)
        return -1;
    return 0;
}

/* A dataset of rank 1 or 2 ([rows] or [rows, cols]) holding mem; chunked
 * and compressed if compress, else contiguous. */
static herr_t put_array(hid_t file, const char *name, hid_t file_type,
                        hid_t mem_type, hsize_t rows, hsize_t cols,
                        const void *mem, int compress)
{
    hsize_t dims[2] = {rows, cols};
    hsize_t chunk[2] = {rows < CHUNK_ROWS ? rows : CHUNK_ROWS, cols};
    int rank = cols > 0 ? 2 : 1;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    herr_t rc = -1;
    /* An empty dataset cannot be chunked; it stays contiguous. */
    if (space >= 0 && plist >= 0 &&
        (rows == 0 || !compress || (H5Pset_chunk(plist, rank, chunk) >= 0 &&
                       H5Pset_shuffle(plist) >= 0 &&
                       H5Pset_deflate(plist, DEFLATE_LEVEL) >= 0)))
        d = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, plist,
                       H5P_DEFAULT);
    if (d >= 0) {
        rc = H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, mem);
        H5Dclose(d);
    }
    if (plist >= 0) H5Pclose(plist);
    if (space >= 0) H5Sclose(space);
    return rc;
}

static herr_t put_labels(hid_t file, const mb_model *m)
{
    const char *names[MB_MODEL_MAX_LABELS];
    hid_t t = mb_h5_utf8();
    herr_t rc;
    for (size_t k = 0; k < m->n_labels; k++) names[k] = m->labels[k];
    rc = put_array(file, "labels", t, t, m->n_labels, 0, names, 0);
    H5Tclose(t);
    return rc;
}

/* The topic model's arrays are stored uncompressed: every classify job
 * loads them before any work starts (on rank 0, while the others wait),
 * and reading them compressed made a one-document job take 70 ms instead
 * of 35, for 25% less disk.  The sub-models, four times larger and read
 * only by --levels 2, stay compressed. */
static herr_t put_model(hid_t file, const mb_model *m, const sparse_model *s,
                        const mb_model_provenance *prov, int compress)
{
    if (put_root_attrs(file, m, prov) < 0 || put_labels(file, m) < 0 ||
        mb_h5_put_i64(file, "levels", m->sub ? 2 : 1) < 0 ||
        put_array(file, "buckets", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                  s->n_active, 0, s->buckets, compress) < 0 ||
        put_array(file, "idf", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  s->n_active, 0, s->idf, compress) < 0 ||
        put_array(file, "weights", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  s->n_active, m->n_labels, s->weights, compress) < 0 ||
        put_array(file, "bias", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                  m->n_labels, 0, m->bias, 0) < 0)
        return -1;
    return 0;
}

/* Level 2: group /sub/<label> per label that has a sub-model, laid out
 * like the root (attributes, labels, buckets, idf, weights, bias). */
static herr_t put_subs(hid_t file, const mb_model *m)
{
    hid_t top = H5Gcreate2(file, "sub", H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT);
    herr_t rc = top >= 0 ? 0 : -1;
    for (size_t k = 0; rc >= 0 && k < m->n_labels; k++) {
        sparse_model s = {0};
        hid_t g;
        if (m->sub[k].n_labels == 0) continue;
        if (sparse_from_model(&s, &m->sub[k]) != MB_OK) {
            rc = -1;
            break;
        }
        g = H5Gcreate2(top, m->labels[k], H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT);
        rc = g >= 0 ? put_model(g, &m->sub[k], &s, NULL, 1) : -1;
        if (g >= 0 && H5Gclose(g) < 0) rc = -1;
        sparse_free(&s);
    }
    if (top >= 0 && H5Gclose(top) < 0) rc = -1;
    return rc;
}

mb_err mb_model_save(const mb_model *m, const char *path,
                     const mb_model_provenance *prov)
{
    sparse_model s = {0};
    mb_atomic out;
    hid_t file = -1;
    mb_err err = mb_atomic_begin(&out, path);
    if (err) return err;
    mb_h5_quiet(); /* reported through h5_error */
    if (!m->table || m->active)
        err = mb_error_set(MB_ERR_INTERNAL, "the model is not trained");
    if (!err)
        err = sparse_from_model(&s, m);
    if (!err && (file = H5Fcreate(out.tmp, H5F_ACC_TRUNC, H5P_DEFAULT,
                                  H5P_DEFAULT)) < 0)
        err = h5_error(MB_ERR_IO, "cannot create the temporary file");
    if (!err && put_model(file, m, &s, prov, 0) < 0)
        err = h5_error(MB_ERR_IO, "cannot write the model");
    if (!err && m->sub && put_subs(file, m) < 0)
        err = h5_error(MB_ERR_IO, "cannot write the sub-topic models");
    if (file >= 0 && H5Fclose(file) < 0 && !err)
        err = h5_error(MB_ERR_IO, "cannot finish the file");
    sparse_free(&s);
    if (err) err = in_file(err, path);
    return mb_atomic_finish(&out, err, NULL, 0, "model");
}

/* ---- reading ---------------------------------------------------------- */

/* Read a scalar attribute converted to mem_type. */
static mb_err get_attr(hid_t file, const char *name, hid_t mem_type,
                       void *value)
{
    hid_t a = H5Aexists(file, name) > 0 ? H5Aopen(file, name, H5P_DEFAULT)
                                        : -1;
    hid_t space = a >= 0 ? H5Aget_space(a) : -1;
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
             H5Aread(a, mem_type, value) >= 0;
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    return ok ? MB_OK
              : mb_error_set(MB_ERR_INPUT,
                             "missing or unreadable attribute '%s'", name);
}

/* Read the string attribute name into buf[cap]. */
static mb_err get_str_attr(hid_t file, const char *name, char *buf,
                           size_t cap)
{
    hid_t t = mb_h5_utf8();
    char *value = NULL;
    mb_err err = get_attr(file, name, t, &value);
    if (!err) snprintf(buf, cap, "%s", value ? value : "");
    H5free_memory(value);
    H5Tclose(t);
    return err;
}

/* The format tag and version, the fixed feature rules and the params. */
static mb_err get_header(hid_t file, mb_model *m)
{
    char format[32], hash[32];
    long long version, token_max, prefix;
    mb_err err;
    if ((err = get_str_attr(file, "format", format, sizeof format)) ||
        (err = get_attr(file, "format_version", H5T_NATIVE_LLONG, &version)))
        return err;
    if (strcmp(format, MB_MODEL_FORMAT) != 0)
        return mb_error_set(MB_ERR_INPUT, "format is '%s', not '%s'", format,
                            MB_MODEL_FORMAT);
    if (version < 1 || version > MB_MODEL_FORMAT_VERSION)
        return mb_error_set(MB_ERR_INPUT, "format version %lld; this mpibatch "
                            "reads versions 1 to %d", version,
                            MB_MODEL_FORMAT_VERSION);
    for (size_t i = 0; i < N_PARAM_ATTRS; i++) {
        char *field = (char *)&m->params + param_attrs[i].offset;
        if (version < param_attrs[i].since) {
            /* Only label_smoothing so far, a double; training-only. */
            *(double *)(void *)field = 0.0;
            continue;
        }
        if ((err = get_attr(file, param_attrs[i].name, param_attrs[i].is_double
                            ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT, field)))
            return err;
    }
    if ((err = get_attr(file, "token_max", H5T_NATIVE_LLONG, &token_max)) ||
        (err = get_attr(file, "prefix_bytes", H5T_NATIVE_LLONG, &prefix)) ||
        (err = get_str_attr(file, "hash", hash, sizeof hash)) ||
        (err = get_attr(file, "train_documents", H5T_NATIVE_LONG,
                        &m->n_train_docs)))
        return err;
    if (token_max != MB_TOKEN_MAX || prefix != MB_FEATURES_PREFIX ||
        strcmp(hash, HASH_NAME) != 0)
        return mb_error_set(MB_ERR_INPUT, "features made with token_max %lld, "
                            "prefix_bytes %lld, hash %s; this mpibatch uses "
                            "%d, %d, %s", token_max, prefix, hash,
                            MB_TOKEN_MAX, MB_FEATURES_PREFIX, HASH_NAME);
    return MB_OK;
}

/* Open dataset name and check it has rank 1 ([rows]) or, when cols > 0,
 * rank 2 ([rows, cols]); *rows == 0 on entry accepts any row count and
 * receives it.  Returns the dataset, or -1 with the message set
 * (MB_ERR_INPUT). */
static hid_t open_array(hid_t file, const char *name, hsize_t *rows,
                        hsize_t cols)
{
    hsize_t dims[2] = {0, 0};
    int want = cols > 0 ? 2 : 1;
    hid_t d = H5Lexists(file, name, H5P_DEFAULT) > 0
                  ? H5Dopen2(file, name, H5P_DEFAULT) : -1;
    hid_t space = d >= 0 ? H5Dget_space(d) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank == want) H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0) H5Sclose(space);
    if (d < 0) {
        mb_error_set(MB_ERR_INPUT, "missing dataset '%s'", name);
        return -1;
    }
    if (rank != want || (*rows && dims[0] != *rows) ||
        (cols && dims[1] != cols)) {
        mb_error_set(MB_ERR_INPUT, "dataset '%s' has rank %d and %llu rows; "
                     "expected rank %d, %llu rows and %llu columns", name,
                     rank, (unsigned long long)dims[0], want,
                     (unsigned long long)*rows, (unsigned long long)cols);
        H5Dclose(d);
        return -1;
    }
    *rows = dims[0];
    return d;
}

/* Read all of dataset d into mem; closes d. */
static mb_err read_all(hid_t d, hid_t mem_type, void *mem, const char *name)
{
    int ok = H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, mem) >= 0;
    H5Dclose(d);
    return ok ? MB_OK
              : mb_error_set(MB_ERR_INPUT, "cannot read dataset '%s'", name);
}

static mb_err get_labels(hid_t file, mb_model *m)
{
    hsize_t n = 0;
    hid_t d = open_array(file, "labels", &n, 0), t;
    char *names[MB_MODEL_MAX_LABELS] = {0};
    mb_err err;
    if (d < 0) return MB_ERR_INPUT;
    if (n < 2 || n > MB_MODEL_MAX_LABELS) {
        H5Dclose(d);
        return mb_error_set(MB_ERR_INPUT, "%llu labels; need 2 to %d",
                            (unsigned long long)n, MB_MODEL_MAX_LABELS);
    }
    t = mb_h5_utf8();
    err = read_all(d, t, names, "labels");
    for (size_t k = 0; !err && k < n; k++) {
        if (!names[k] || strlen(names[k]) > MB_MODEL_LABEL_MAX)
            err = mb_error_set(MB_ERR_INPUT, "label %zu is empty or longer "
                               "than %d bytes", k, MB_MODEL_LABEL_MAX);
        else
            strcpy(m->labels[k], names[k]);
    }
    for (size_t k = 0; k < n; k++) H5free_memory(names[k]);
    H5Tclose(t);
    m->n_labels = (size_t)n;
    return err;
}

/* The per-bucket arrays; their row counts must agree with /buckets. */
static mb_err get_arrays(hid_t file, mb_model *m, sparse_model *s)
{
    hsize_t n = 0, k = m->n_labels;
    hid_t d = open_array(file, "buckets", &n, 0);
    mb_err err;
    if (d < 0) return MB_ERR_INPUT;
    if ((err = sparse_alloc(s, (size_t)n, m->n_labels)) != MB_OK) {
        H5Dclose(d);
        return err;
    }
    if ((err = read_all(d, H5T_NATIVE_UINT32, s->buckets, "buckets")))
        return err;
    if ((d = open_array(file, "idf", &n, 0)) < 0) return MB_ERR_INPUT;
    if ((err = read_all(d, H5T_NATIVE_FLOAT, s->idf, "idf"))) return err;
    if ((d = open_array(file, "weights", &n, k)) < 0) return MB_ERR_INPUT;
    if ((err = read_all(d, H5T_NATIVE_FLOAT, s->weights, "weights")))
        return err;
    if ((d = open_array(file, "bias", &k, 0)) < 0) return MB_ERR_INPUT;
    return read_all(d, H5T_NATIVE_DOUBLE, m->bias, "bias");
}

/* One model's header, labels and sparse rows, not yet in a table. */
static mb_err read_one(mb_model *m, hid_t file, sparse_model *s)
{
    mb_err err;
    if ((err = get_header(file, m)) || (err = get_labels(file, m)) ||
        (err = header_ok(m)))
        return err;
    return get_arrays(file, m, s);
}

static mb_err load_one(mb_model *m, hid_t file)
{
    sparse_model s = {0};
    mb_err err = read_one(m, file, &s);
    if (err == MB_OK)
        err = model_from_sparse(m, &s, NULL);
    sparse_free(&s);
    return err;
}

/* A sub-model scores folded main features: it needs no more buckets. */
static mb_err sub_fits(const mb_model *m, const mb_model *sub)
{
    if (sub->params.hash_bits <= m->params.hash_bits) return MB_OK;
    return mb_error_set(MB_ERR_INPUT, "has 2^%u buckets, more than the main "
                        "model's 2^%u", sub->params.hash_bits,
                        m->params.hash_bits);
}

/* Level 2 (format version 2, levels = 2): /sub/<label> where present. */
static mb_err load_subs(mb_model *m, hid_t file)
{
    hid_t top = H5Lexists(file, "sub", H5P_DEFAULT) > 0
                    ? H5Gopen2(file, "sub", H5P_DEFAULT) : -1;
    mb_err err = MB_OK;
    if (top < 0)
        return mb_error_set(MB_ERR_INPUT,
                            "levels is 2 but there is no group 'sub'");
    if (!(m->sub = calloc(m->n_labels, sizeof *m->sub))) {
        H5Gclose(top);
        return mb_error_set(MB_ERR_NOMEM, "no memory for the sub-topic models");
    }
    for (size_t k = 0; !err && k < m->n_labels; k++) {
        hid_t g;
        if (H5Lexists(top, m->labels[k], H5P_DEFAULT) <= 0) continue;
        if ((g = H5Gopen2(top, m->labels[k], H5P_DEFAULT)) < 0) {
            err = mb_error_set(MB_ERR_INPUT, "cannot open the group");
        } else {
            err = load_one(&m->sub[k], g);
            H5Gclose(g);
        }
        if (!err)
            err = sub_fits(m, &m->sub[k]);
        if (err)
            mb_error_set(err, "sub-model 'sub/%s': %s", m->labels[k],
                         mb_error_message());
    }
    H5Gclose(top);
    return err;
}

/* Format version 1 has one level and no 'levels' attribute.  The main
 * table is built last, once everything else has loaded (see
 * model_from_sparse). */
static mb_err load_open_file(mb_model *m, hid_t file, int want_levels,
                             const mb_model_table_at *at)
{
    long long version = 0, levels = 1;
    sparse_model s = {0};
    mb_err err = read_one(m, file, &s);
    if (!err)
        err = get_attr(file, "format_version", H5T_NATIVE_LLONG, &version);
    if (!err && version >= 2)
        err = get_attr(file, "levels", H5T_NATIVE_LLONG, &levels);
    if (!err && levels != 1 && levels != 2)
        err = mb_error_set(MB_ERR_INPUT, "levels is %lld; this mpibatch reads "
                           "1 or 2", levels);
    if (!err && levels == 2 && want_levels == 2)
        err = load_subs(m, file);
    if (!err)
        err = model_from_sparse(m, &s, at);
    sparse_free(&s);
    return err;
}

mb_err mb_model_load(mb_model *m, const char *path)
{
    return mb_model_load_levels(m, path, 2);
}

mb_err mb_model_load_levels(mb_model *m, const char *path, int levels)
{
    return mb_model_load_into(m, path, levels, NULL);
}

mb_err mb_model_load_into(mb_model *m, const char *path, int levels,
                          const mb_model_table_at *at)
{
    const char *refused;
    hid_t file;
    mb_err err;
    memset(m, 0, sizeof *m);
    mb_h5_quiet(); /* reported through h5_error */
    if (access(path, R_OK) != 0)
        return in_file(mb_error_set(MB_ERR_INPUT, "%s", strerror(errno)),
                       path);
    if ((file = mb_h5_open_read(path, &refused)) < 0)
        return in_file(refused ? mb_error_set(MB_ERR_INPUT, "%s", refused)
                               : h5_error(MB_ERR_INPUT,
                                          "not a readable HDF5 file"),
                       path);
    err = load_open_file(m, file, levels, at);
    H5Fclose(file);
    if (err) {
        mb_model_free(m);
        return in_file(err, path);
    }
    return MB_OK;
}

/* ---- flat buffers ----------------------------------------------------- */

/* With rows: the whole model; without: all but the main model's rows. */
static size_t packed_size(const mb_model *m, int rows)
{
    size_t n = 0, stride = m->n_labels + 1, size;
    for (size_t b = 0; rows && b < m->n_buckets; b++)
        n += m->table[b * stride] != 0;
    size = sizeof(pack_header) + n * (sizeof(uint32_t) + stride * sizeof(float));
    for (size_t k = 0; m->sub && k < m->n_labels; k++)
        size += sizeof(uint64_t) +
                (m->sub[k].n_labels ? packed_size(&m->sub[k], 1) : 0);
    return size;
}

size_t mb_model_packed_meta_size(const mb_model *m)
{
    return packed_size(m, 0);
}

/* Field by field, so that dst's (zeroed) padding stays defined. */
static void copy_params(mb_model_params *dst, const mb_model_params *src)
{
    dst->hash_bits = src->hash_bits;
    dst->title_weight = src->title_weight;
    dst->min_df = src->min_df;
    dst->supervision = src->supervision;
    dst->l2 = src->l2;
    dst->class_balance = src->class_balance;
    dst->label_smoothing = src->label_smoothing;
    dst->max_iter = src->max_iter;
    dst->tol = src->tol;
}

static void pack(const mb_model *m, void *buf, int rows)
{
    pack_header h;
    unsigned char *out = buf;
    size_t stride = m->n_labels + 1;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, PACK_MAGIC, sizeof h.magic);
    h.n_labels = m->n_labels;
    h.n_train_docs = m->n_train_docs;
    h.levels = m->sub ? 2 : 1;
    h.n_active = rows ? 0 : m->n_active; /* with rows, counted below */
    copy_params(&h.params, &m->params);
    memcpy(h.bias, m->bias, sizeof h.bias);
    memcpy(h.labels, m->labels, sizeof h.labels);
    out += sizeof h;
    for (size_t b = 0; rows && b < m->n_buckets; b++) {
        uint32_t b32 = (uint32_t)b;
        if (m->table[b * stride] == 0.0f) continue;
        memcpy(out, &b32, sizeof b32);
        memcpy(out + sizeof b32, m->table + b * stride,
               stride * sizeof(float));
        out += sizeof b32 + stride * sizeof(float);
        h.n_active++;
    }
    memcpy(buf, &h, sizeof h);
    for (size_t k = 0; m->sub && k < m->n_labels; k++) {
        uint64_t len = m->sub[k].n_labels ? packed_size(&m->sub[k], 1) : 0;
        memcpy(out, &len, sizeof len);
        out += sizeof len;
        if (len) pack(&m->sub[k], out, 1);
        out += len;
    }
}

void mb_model_pack_meta(const mb_model *m, void *buf)
{
    pack(m, buf, 0);
}

/* Split the packed rows into the sparse arrays. */
static void unpack_rows(sparse_model *s, const unsigned char *in, size_t k)
{
    for (size_t i = 0; i < s->n_active; i++) {
        memcpy(&s->buckets[i], in, sizeof(uint32_t));
        memcpy(&s->idf[i], in + sizeof(uint32_t), sizeof(float));
        memcpy(s->weights + i * k, in + sizeof(uint32_t) + sizeof(float),
               k * sizeof(float));
        in += sizeof(uint32_t) + (k + 1) * sizeof(float);
    }
}

/* Check the header and the length (rows: whether the main rows follow). */
static mb_err packed_ok(const pack_header *h, const mb_model *m, size_t len,
                        int rows)
{
    size_t row = rows ? sizeof(uint32_t) + (m->n_labels + 1) * sizeof(float)
                      : 0;
    mb_err err;
    if (memcmp(h->magic, PACK_MAGIC, sizeof h->magic) != 0)
        return mb_error_set(MB_ERR_INPUT, "not a packed model");
    if ((err = header_ok(m)) != MB_OK) return err;
    if (h->levels != 1 && h->levels != 2)
        return mb_error_set(MB_ERR_INPUT, "levels %llu",
                            (unsigned long long)h->levels);
    if ((rows && h->n_active > (len - sizeof *h) / row) ||
        (!rows && h->n_active > ((uint64_t)1 << m->params.hash_bits)) ||
        (h->levels == 1 && len - sizeof *h != (size_t)h->n_active * row))
        return mb_error_set(MB_ERR_INPUT, "%zu bytes do not hold %llu rows",
                            len, (unsigned long long)h->n_active);
    return MB_OK;
}

static mb_err unpack(mb_model *m, const void *buf, size_t len, float *table);

/* The sub-models that follow the main rows in[0..len). */
static mb_err unpack_subs(mb_model *m, const unsigned char *in, size_t len)
{
    if (!(m->sub = calloc(m->n_labels, sizeof *m->sub)))
        return mb_error_set(MB_ERR_NOMEM, "no memory for the sub-topic models");
    for (size_t k = 0; k < m->n_labels; k++) {
        uint64_t n;
        mb_err err;
        if (len < sizeof n) break;
        memcpy(&n, in, sizeof n);
        in += sizeof n;
        len -= sizeof n;
        if (n > len) break;
        if (n && (err = unpack(&m->sub[k], in, (size_t)n, NULL)))
            return mb_error_set(err, "sub-model %zu: %s", k,
                                mb_error_message());
        if (n && (err = sub_fits(m, &m->sub[k]))) return err;
        in += n;
        len -= (size_t)n;
        if (k + 1 == m->n_labels && len == 0) return MB_OK;
    }
    return mb_error_set(MB_ERR_INPUT, "sub-model lengths do not add up");
}

/* table NULL: the main rows follow the header and fill m's own table;
 * else the main rows are already in table, which m borrows. */
static mb_err unpack(mb_model *m, const void *buf, size_t len, float *table)
{
    pack_header h;
    sparse_model s = {0};
    mb_err err;
    memset(m, 0, sizeof *m);
    if (len < sizeof h)
        return mb_error_set(MB_ERR_INPUT,
                            "packed model: too short for a packed model");
    memcpy(&h, buf, sizeof h);
    m->n_labels = (size_t)h.n_labels;
    m->params = h.params;
    err = packed_ok(&h, m, len, !table);
    if (!err)
        err = sparse_alloc(&s, table ? 0 : (size_t)h.n_active, m->n_labels);
    if (!err) {
        m->n_train_docs = (long)h.n_train_docs;
        memcpy(m->bias, h.bias, sizeof m->bias);
        for (size_t k = 0; k < m->n_labels; k++)
            snprintf(m->labels[k], sizeof m->labels[k], "%s", h.labels[k]);
        size_t rows = table ? 0 : (size_t)h.n_active *
                      (sizeof(uint32_t) + (m->n_labels + 1) * sizeof(float));
        if (table) {
            m->n_buckets = (size_t)1 << m->params.hash_bits;
            m->n_active = (size_t)h.n_active;
            m->table = table;
            m->table_borrowed = 1;
            mb_model_index(m);
        } else {
            unpack_rows(&s, (const unsigned char *)buf + sizeof h,
                        m->n_labels);
            err = model_from_sparse(m, &s, NULL);
        }
        if (!err && h.levels == 2)
            err = unpack_subs(m, (const unsigned char *)buf + sizeof h + rows,
                              len - sizeof h - rows);
    }
    sparse_free(&s);
    if (err) {
        mb_model_free(m);
        return mb_error_set(err, "packed model: %s", mb_error_message());
    }
    return MB_OK;
}

mb_err mb_model_unpack_meta(mb_model *m, const void *buf, size_t len,
                            float *table)
{
    return unpack(m, buf, len, table);
}
