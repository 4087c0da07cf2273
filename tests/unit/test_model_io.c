/* test_model_io.c - HDF5 model files and flat model buffers. */
#define _POSIX_C_SOURCE 200809L
#include "ml/model_io.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "output.h"
#include "unit_dir.h"

#define BITS 12

static const char *const labels[] = {"animals", "space", "cooking"};

static const struct { const char *title, *text; int label; } docs[] = {
    {"Cats", "the cat purrs and the dog barks at the cat", 0},
    {"Dogs", "a dog chases the cat while the horse sleeps", 0},
    {"Pets", "cat food and dog toys for every pet owner", 0},
    {"Orbits", "the planet orbits the star in a stable orbit", 1},
    {"Galaxies", "the galaxy holds a billion star systems", 1},
    {"Comets", "a comet passes the planet near the star", 1},
    {"Bread", "bake the bread dough in the oven with salt", 2},
    {"Soup", "boil the soup with salt and pepper in a pot", 2},
    {"Pasta", "boil pasta in salt water in a large pot", 2},
};
#define N_DOCS (sizeof docs / sizeof docs[0])

static const char *const probes[] = {
    "my dog and my cat", "a new star near the galaxy", "salt for the soup",
    "nothing known here",
};
#define N_PROBES (sizeof probes / sizeof probes[0])

#define DIR_TEMPLATE "/tmp/mb_test_model_io_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static mb_model trained;

static void train(mb_model *m)
{
    mb_model_params p;
    mb_features f;
    mb_train_stats st;
    mb_train_set ts;
    mb_model_params_default(&p);
    p.hash_bits = BITS;
    p.min_df = 1;
    p.l2 = 0.1;
    ck_assert_int_eq(mb_features_init(&f, BITS, p.title_weight), MB_OK);
    ck_assert_int_eq(mb_train_stats_init(&st, BITS, 3), MB_OK);
    mb_train_set_init(&ts);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            ck_assert_int_eq(mb_model_prepare(m, &p, labels, 3, &st), MB_OK);
        for (size_t i = 0; i < N_DOCS; i++) {
            ck_assert_int_eq(mb_features_extract(&f, docs[i].title,
                                                 strlen(docs[i].title),
                                                 docs[i].text,
                                                 strlen(docs[i].text)), 0);
            if (pass == 0)
                ck_assert_int_eq(mb_train_stats_add(&st, &f, docs[i].label),
                                 MB_OK);
            else
                ck_assert_int_eq(mb_train_set_add(&ts, m, &f, docs[i].label),
                                 MB_OK);
        }
    }
    ck_assert_int_eq(mb_model_fit(m, &ts), MB_OK);
    mb_train_set_free(&ts);
    mb_train_stats_free(&st);
    mb_features_free(&f);
}

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    train(&trained);
}

static void teardown(void)
{
    mb_model_free(&trained);
    rmdir(dir);
}

static void path_of(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void save(const char *path)
{
    mb_model_provenance prov = {"train.jsonl", 17};
    ck_assert_int_eq(mb_model_save(&trained, path, &prov), MB_OK);
}

/* Same parameters, labels, bias and table bytes, and the same scores. */
static void assert_same_model(const mb_model *a, const mb_model *b)
{
    mb_features f;
    size_t n = a->n_buckets * (a->n_labels + 1);
    ck_assert_uint_eq(a->params.hash_bits, b->params.hash_bits);
    ck_assert_uint_eq(a->params.title_weight, b->params.title_weight);
    ck_assert_uint_eq(a->params.min_df, b->params.min_df);
    ck_assert_uint_eq(a->params.max_iter, b->params.max_iter);
    ck_assert_double_eq(a->params.supervision, b->params.supervision);
    ck_assert_double_eq(a->params.l2, b->params.l2);
    ck_assert_double_eq(a->params.class_balance, b->params.class_balance);
    ck_assert_double_eq(a->params.label_smoothing,
                        b->params.label_smoothing);
    ck_assert_double_eq(a->params.tol, b->params.tol);
    ck_assert_uint_eq(a->n_labels, b->n_labels);
    ck_assert_uint_eq(a->n_buckets, b->n_buckets);
    ck_assert_uint_eq(a->n_active, b->n_active);
    ck_assert_int_eq(a->n_train_docs, b->n_train_docs);
    ck_assert_ptr_null(b->active);
    for (size_t k = 0; k < a->n_labels; k++)
        ck_assert_str_eq(a->labels[k], b->labels[k]);
    ck_assert_int_eq(memcmp(a->bias, b->bias, a->n_labels * sizeof *a->bias),
                     0);
    ck_assert_int_eq(memcmp(a->table, b->table, n * sizeof *a->table), 0);
    ck_assert_int_eq(mb_features_init(&f, BITS, a->params.title_weight), 0);
    for (size_t i = 0; i < N_PROBES; i++) {
        double sa[3], sb[3];
        int la, lb;
        ck_assert_int_eq(mb_model_predict(a, &f, NULL, 0, probes[i],
                                          strlen(probes[i]), sa, &la), 0);
        ck_assert_int_eq(mb_model_predict(b, &f, NULL, 0, probes[i],
                                          strlen(probes[i]), sb, &lb), 0);
        ck_assert_int_eq(la, lb);
        ck_assert_int_eq(memcmp(sa, sb, sizeof sa), 0);
    }
    mb_features_free(&f);
}

static void read_str_attr(hid_t file, const char *name, char *buf,
                          size_t cap)
{
    hid_t a = H5Aopen(file, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char *v = NULL;
    H5Tset_size(t, H5T_VARIABLE);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Aread(a, t, &v), 0);
    snprintf(buf, cap, "%s", v);
    H5free_memory(v);
    H5Tclose(t);
    H5Aclose(a);
}

static long long read_int_attr(hid_t file, const char *name)
{
    long long v = -1;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_LLONG, &v), 0);
    H5Aclose(a);
    return v;
}

START_TEST(test_save_load_round_trip)
{
    char path[256], buf[64], *tmp;
    mb_model m;
    hid_t file;
    path_of(path, sizeof path, "model.h5");
    save(path);
    tmp = mb_test_temp_name(path);
    ck_assert_int_ne(access(tmp, F_OK), 0); /* renamed into place */
    free(tmp);
    ck_assert_int_eq(mb_model_load(&m, path), MB_OK);
    assert_same_model(&trained, &m);
    mb_model_free(&m);
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(file, 0);
    read_str_attr(file, "format", buf, sizeof buf);
    ck_assert_str_eq(buf, MB_MODEL_FORMAT);
    read_str_attr(file, "mpibatch_version", buf, sizeof buf);
    ck_assert_str_eq(buf, PACKAGE_VERSION);
    read_str_attr(file, "train_file", buf, sizeof buf);
    ck_assert_str_eq(buf, "train.jsonl");
    /* Nothing that varies with the rank count or the time. */
    ck_assert_int_eq(H5Aexists(file, "created"), 0);
    ck_assert_int_eq(H5Aexists(file, "train_ranks"), 0);
    ck_assert_int_eq(read_int_attr(file, "format_version"),
                     MB_MODEL_FORMAT_VERSION);
    ck_assert_int_eq(read_int_attr(file, "train_documents"), N_DOCS);
    ck_assert_int_eq(read_int_attr(file, "train_iterations"), 17);
    ck_assert_int_eq(read_int_attr(file, "hash_bits"), BITS);
    H5Fclose(file);
    unlink(path);
}
END_TEST

/* Save a model to path and open it for editing. */
static hid_t saved_for_edit(const char *path)
{
    hid_t file;
    save(path);
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(file, 0);
    return file;
}

/* Set the integer root attribute name of the open file to v. */
static void set_int_attr(hid_t file, const char *name, long long v)
{
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_LLONG, &v), 0);
    H5Aclose(a);
}

START_TEST(test_pack_meta)
{
    size_t len = mb_model_packed_meta_size(&trained);
    size_t n = trained.n_buckets * (trained.n_labels + 1);
    unsigned char *buf = malloc(len);
    float *table = malloc(n * sizeof *table);
    mb_model m;
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(table);
    mb_model_pack_meta(&trained, buf);
    memcpy(table, trained.table, n * sizeof *table);
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, len, table), MB_OK);
    ck_assert_ptr_eq(m.table, table);
    ck_assert_int_eq(m.table_borrowed, 1);
    assert_same_model(&trained, &m);
    mb_model_free(&m); /* leaves table to its owner (ASan: no double free) */
    ck_assert_int_eq(memcmp(table, trained.table, n * sizeof *table), 0);
    /* Wrong length, wrong magic: refused, and nothing left to free. */
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, len + 4, table),
                     MB_ERR_INPUT);
    ck_assert_ptr_null(m.table);
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, len - 1, table),
                     MB_ERR_INPUT);
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, 10, table), MB_ERR_INPUT);
    buf[0] ^= 1;
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, len, table), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "not a packed model"));
    ck_assert_ptr_null(m.table);
    free(table);
    free(buf);
}
END_TEST

/* Memory for mb_model_load_into's table: counts requests, can refuse. */
typedef struct table_pool {
    float *mem;
    size_t n;
    int calls;
    mb_err refuse;
} table_pool;

static mb_err pool_get(void *ctx, size_t n, float **table)
{
    table_pool *p = ctx;
    p->calls++;
    if (p->refuse)
        return mb_error_set(p->refuse, "pool refused %zu floats", n);
    p->mem = malloc(n * sizeof *p->mem);
    ck_assert_ptr_nonnull(p->mem);
    memset(p->mem, 0xff, n * sizeof *p->mem); /* the load must zero it */
    p->n = n;
    *table = p->mem;
    return MB_OK;
}

START_TEST(test_load_into)
{
    char path[256];
    table_pool pool = {0};
    mb_model_table_at at = {pool_get, &pool};
    mb_model m;
    hid_t file, d;
    uint32_t *buckets = malloc(trained.n_active * sizeof *buckets);
    path_of(path, sizeof path, "into.h5");
    save(path);
    ck_assert_int_eq(mb_model_load_into(&m, path, 1, &at), MB_OK);
    ck_assert_int_eq(pool.calls, 1);
    ck_assert_uint_eq(pool.n, trained.n_buckets * (trained.n_labels + 1));
    ck_assert_ptr_eq(m.table, pool.mem);
    ck_assert_int_eq(m.table_borrowed, 1);
    assert_same_model(&trained, &m);
    mb_model_free(&m);
    free(pool.mem);

    /* The memory's own error comes back, with the file named. */
    pool = (table_pool){.refuse = MB_ERR_MPI};
    ck_assert_int_eq(mb_model_load_into(&m, path, 1, &at), MB_ERR_MPI);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "pool refused"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
    ck_assert_ptr_null(m.table);

    /* A damaged file is refused before any table is asked for: a shared
     * table's allocation is collective, so only it may fail after. */
    file = saved_for_edit(path);
    d = H5Dopen2(file, "buckets", H5P_DEFAULT);
    ck_assert_int_ge(H5Dread(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL,
                             H5P_DEFAULT, buckets), 0);
    buckets[1] = buckets[0];
    ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, buckets), 0);
    H5Dclose(d);
    H5Fclose(file);
    pool = (table_pool){0};
    ck_assert_int_eq(mb_model_load_into(&m, path, 1, &at), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "out of order"));
    ck_assert_int_eq(pool.calls, 0);
    free(buckets);
    unlink(path);
}
END_TEST

/* Load must fail with MB_ERR_INPUT and a message naming path and why. */
static void assert_load_fails(const char *path, const char *why)
{
    mb_model m;
    ck_assert_int_eq(mb_model_load(&m, path), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
    ck_assert_msg(strstr(mb_error_message(), why) != NULL, "%s",
                  mb_error_message());
    ck_assert_ptr_null(m.table);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

START_TEST(test_load_not_hdf5_or_truncated)
{
    char path[256], bad[256];
    FILE *fp;
    long size;
    char *bytes;
    path_of(bad, sizeof bad, "bad.h5");
    write_bytes(bad, "{\"not\": \"hdf5\"}\n", 16);
    assert_load_fails(bad, "not a readable HDF5 file");
    path_of(path, sizeof path, "whole.h5");
    save(path);
    fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    rewind(fp);
    bytes = malloc((size_t)size);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    write_bytes(bad, bytes, (size_t)size / 2);
    assert_load_fails(bad, "HDF5");
    free(bytes);
    unlink(bad);
    unlink(path);
    assert_load_fails(path, "No such file");
}
END_TEST

START_TEST(test_load_damaged_layout)
{
    char path[256];
    hid_t file, space, d;
    hsize_t three = 3;
    path_of(path, sizeof path, "damaged.h5");
    file = saved_for_edit(path);
    ck_assert_int_ge(H5Ldelete(file, "weights", H5P_DEFAULT), 0);
    H5Fclose(file);
    assert_load_fails(path, "missing dataset 'weights'");

    file = saved_for_edit(path);
    ck_assert_int_ge(H5Ldelete(file, "idf", H5P_DEFAULT), 0);
    space = H5Screate_simple(1, &three, NULL);
    d = H5Dcreate2(file, "idf", H5T_IEEE_F32LE, space, H5P_DEFAULT,
                   H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(file);
    assert_load_fails(path, "dataset 'idf' has rank 1 and 3 rows");

    file = saved_for_edit(path);
    ck_assert_int_ge(H5Adelete(file, "hash_bits"), 0);
    H5Fclose(file);
    assert_load_fails(path, "attribute 'hash_bits'");

    file = saved_for_edit(path);
    set_int_attr(file, "format_version", MB_MODEL_FORMAT_VERSION + 1);
    H5Fclose(file);
    assert_load_fails(path, "format version 4; this mpibatch reads "
                            "versions 1 to 3");
    unlink(path);
}
END_TEST

/* Level 2: a complement naive Bayes sub-model for "space" (label 1) that
 * tells planets from galaxies, on the documents' features folded to
 * SUB_BITS; "animals" and "cooking" have none. */
#define SUB_BITS 10
static const char *const sub_labels[] = {"astro.GA", "astro.EP"};

static void add_subs(mb_model *m)
{
    mb_model_params p = m->params;
    mb_features f, folded;
    mb_train_stats st;
    p.hash_bits = SUB_BITS;
    ck_assert_int_eq(mb_features_init(&f, BITS, p.title_weight), MB_OK);
    ck_assert_int_eq(mb_features_init(&folded, SUB_BITS, p.title_weight), MB_OK);
    ck_assert_int_eq(mb_train_stats_init(&st, SUB_BITS, 2), MB_OK);
    for (size_t i = 0; i < N_DOCS; i++) {
        if (docs[i].label != 1) continue;
        ck_assert_int_eq(mb_features_extract(&f, docs[i].title,
                                             strlen(docs[i].title),
                                             docs[i].text,
                                             strlen(docs[i].text)), 0);
        ck_assert_int_eq(mb_features_fold(&folded, &f), MB_OK);
        ck_assert_int_eq(mb_train_stats_add(&st, &folded,
                                            strcmp(docs[i].title, "Galaxies") != 0),
                         MB_OK);
    }
    m->sub = calloc(m->n_labels, sizeof *m->sub);
    ck_assert_ptr_nonnull(m->sub);
    ck_assert_int_eq(mb_model_prepare(&m->sub[1], &p, sub_labels, 2, &st), MB_OK);
    mb_model_fit_nb(&m->sub[1], &st);
    ck_assert_ptr_null(m->sub[1].active);
    mb_train_stats_free(&st);
    mb_features_free(&folded);
    mb_features_free(&f);
}

/* b has a's sub-models, bit for bit, and they predict the same. */
static void assert_same_subs(const mb_model *a, const mb_model *b)
{
    const mb_model *x = &a->sub[1], *y = &b->sub[1];
    mb_features f, folded;
    ck_assert_ptr_nonnull(b->sub);
    ck_assert_uint_eq(b->sub[0].n_labels, 0);
    ck_assert_uint_eq(b->sub[2].n_labels, 0);
    ck_assert_uint_eq(y->n_labels, 2);
    ck_assert_uint_eq(y->params.hash_bits, SUB_BITS);
    ck_assert_str_eq(y->labels[0], "astro.GA");
    ck_assert_str_eq(y->labels[1], "astro.EP");
    ck_assert_uint_eq(x->n_active, y->n_active);
    ck_assert_int_eq(memcmp(x->table, y->table, x->n_buckets * 3 * sizeof *x->table), 0);
    ck_assert_int_eq(mb_features_init(&f, BITS, a->params.title_weight), 0);
    ck_assert_int_eq(mb_features_init(&folded, BITS, a->params.title_weight), 0);
    for (size_t i = 0; i < N_PROBES; i++) {
        int la, lb, sa, sb;
        double pa, pb;
        ck_assert_int_eq(mb_model_predict(a, &f, NULL, 0, probes[i],
                                          strlen(probes[i]), NULL, &la), 0);
        ck_assert_int_eq(mb_model_score_sub(a, la, &f, &folded, &sa, &pa), MB_OK);
        ck_assert_int_eq(mb_model_predict(b, &f, NULL, 0, probes[i],
                                          strlen(probes[i]), NULL, &lb), 0);
        ck_assert_int_eq(mb_model_score_sub(b, lb, &f, &folded, &sb, &pb), MB_OK);
        ck_assert_int_eq(sa, sb);
        ck_assert_double_eq(pa, pb);
        /* Only "space" has a sub-model. */
        ck_assert_int_eq(sa >= 0, la == 1);
    }
    mb_features_free(&folded);
    mb_features_free(&f);
}

START_TEST(test_levels_round_trip)
{
    char path[256];
    mb_model m;
    hid_t file;
    size_t len;
    unsigned char *buf;
    add_subs(&trained);
    path_of(path, sizeof path, "levels.h5");
    save(path);
    ck_assert_int_eq(mb_model_load(&m, path), MB_OK);
    assert_same_model(&trained, &m);
    assert_same_subs(&trained, &m);
    mb_model_free(&m);
    ck_assert_int_eq(mb_model_load_levels(&m, path, 1), MB_OK);
    assert_same_model(&trained, &m);
    ck_assert_ptr_null(m.sub);
    mb_model_free(&m);
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_eq(read_int_attr(file, "levels"), 2);
    ck_assert_int_gt(H5Lexists(file, "sub/space", H5P_DEFAULT), 0);
    ck_assert_int_eq(H5Lexists(file, "sub/animals", H5P_DEFAULT), 0);
    H5Fclose(file);
    unlink(path);

    /* Without the main rows, the sub-models still travel whole; a
     * buffer one byte short is refused. */
    len = mb_model_packed_meta_size(&trained);
    buf = malloc(len);
    mb_model_pack_meta(&trained, buf);
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, len, trained.table), MB_OK);
    assert_same_model(&trained, &m);
    assert_same_subs(&trained, &m);
    mb_model_free(&m);
    ck_assert_int_eq(mb_model_unpack_meta(&m, buf, len - 1, trained.table),
                     MB_ERR_INPUT);
    ck_assert_ptr_null(m.table);
    ck_assert_ptr_null(m.sub);
    free(buf);
}
END_TEST

/* Format version 1 (no levels attribute, no /sub) still loads; levels
 * other than 1 or 2, or a level 2 without /sub, are refused. */
START_TEST(test_levels_versions)
{
    char path[256];
    hid_t file;
    mb_model m, expect;
    path_of(path, sizeof path, "v1.h5");
    file = saved_for_edit(path);
    ck_assert_int_eq(read_int_attr(file, "levels"), 1);
    ck_assert_int_ge(H5Adelete(file, "levels"), 0);
    set_int_attr(file, "format_version", 1);
    H5Fclose(file);
    ck_assert_int_eq(mb_model_load(&m, path), MB_OK);
    /* Versions before 3 have no label_smoothing attribute (it is still in
     * the file here) and load with 0, what they were trained with. */
    expect = trained;
    expect.params.label_smoothing = 0.0;
    assert_same_model(&expect, &m);
    ck_assert_ptr_null(m.sub);
    mb_model_free(&m);

    file = saved_for_edit(path);
    ck_assert_int_ge(H5Adelete(file, "levels"), 0);
    H5Fclose(file);
    assert_load_fails(path, "attribute 'levels'");

    file = saved_for_edit(path);
    set_int_attr(file, "levels", 3);
    H5Fclose(file);
    assert_load_fails(path, "levels is 3; this mpibatch reads 1 or 2");

    file = saved_for_edit(path);
    set_int_attr(file, "levels", 2);
    H5Fclose(file);
    assert_load_fails(path, "levels is 2 but there is no group 'sub'");
    unlink(path);
}
END_TEST

START_TEST(test_save_errors)
{
    char path[256];
    mb_model untrained = {0};
    path_of(path, sizeof path, "no/such/dir/model.h5");
    ck_assert_int_eq(mb_model_save(&trained, path, NULL), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
    path_of(path, sizeof path, "untrained.h5");
    ck_assert_int_eq(mb_model_save(&untrained, path, NULL), MB_ERR_INTERNAL);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_io");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_save_load_round_trip);
    tcase_add_test(tc, test_pack_meta);
    tcase_add_test(tc, test_load_into);
    tcase_add_test(tc, test_load_not_hdf5_or_truncated);
    tcase_add_test(tc, test_load_damaged_layout);
    tcase_add_test(tc, test_save_errors);
    tcase_add_test(tc, test_levels_round_trip);
    tcase_add_test(tc, test_levels_versions);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
