/* test_output.c - HDF5 output: layout, values, attributes, atomic rename. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "row.h"
#include "unit_dir.h"

static const mb_field fields[] = {
    {"label", MB_FIELD_I64, 1, "an integer field"},
    {"scores", MB_FIELD_F64, 3, "a row of three"},
};
enum { RECLEN = 4, ROWLEN = RECLEN + MB_ROW_EXTRA, N = 70001 }; /* crosses a block */

static char dir[] = "/tmp/mb_test_output_XXXXXX";

static void fill(double *rows, size_t n, size_t base)
{
    for (size_t i = 0; i < n; i++) {
        double *r = rows + i * ROWLEN;
        size_t t = base + i;
        r[0] = (double)(t * 3);
        r[1] = t + 0.25;
        r[2] = t + 0.5;
        r[3] = -(double)t;
        r[RECLEN + MB_ROW_RANK] = (double)(t % 4);
        r[RECLEN + MB_ROW_START] = t * 1e-3;
        r[RECLEN + MB_ROW_SECONDS] = 1e-6;
        r[RECLEN + MB_ROW_STATUS] = t == 5 ? 1 : 0;
    }
}

static char *read_str_attr(hid_t f, const char *name)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char *v = NULL, *copy;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    ck_assert_int_ge(H5Aread(a, t, &v), 0);
    copy = strdup(v);
    H5free_memory(v);
    H5Tclose(t);
    H5Aclose(a);
    return copy;
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(write_and_read_back)
{
    char path[256], *tmp;
    mb_output *o;
    double *rows = malloc(sizeof(double) * ROWLEN * N);
    const char *hosts[] = {"h0", "h1", "h1", "h2"};
    snprintf(path, sizeof path, "%s/out.h5", dir);
    ck_assert_int_eq(mb_output_open(&o, path, fields, 2, "test", "{\"kernel\":\"test\"}"), MB_OK);
    tmp = mb_test_temp_name(path);
    ck_assert_int_eq(access(tmp, F_OK), 0);        /* written under the temp name */
    ck_assert_int_ne(access(path, F_OK), 0);
    fill(rows, N, 0);
    ck_assert_int_eq(mb_output_append(o, rows, 10), MB_OK);
    ck_assert_int_eq(mb_output_append(o, rows + 10 * ROWLEN, N - 10), MB_OK);
    ck_assert_int_eq(mb_output_close(o, hosts, 4, "{\"x\":1}"), MB_OK);
    ck_assert_int_ne(access(tmp, F_OK), 0);        /* renamed into place */
    free(tmp);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, "/results/scores", H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dims[2];
    ck_assert_int_eq(H5Sget_simple_extent_dims(s, dims, NULL), 2);
    ck_assert_uint_eq(dims[0], N);
    ck_assert_uint_eq(dims[1], 3);
    double *sc = malloc(sizeof(double) * 3 * N);
    ck_assert_int_ge(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sc), 0);
    ck_assert(sc[3 * 70000 + 2] == -70000.0 && sc[3 * 65536] == 65536.25);
    H5Sclose(s);
    H5Dclose(d);
    int64_t *lab = malloc(sizeof(int64_t) * N);
    d = H5Dopen2(f, "/results/label", H5P_DEFAULT);
    ck_assert_int_ge(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab), 0);
    ck_assert_int_eq(lab[70000], 210000);
    H5Dclose(d);
    int32_t *st = malloc(sizeof(int32_t) * N);
    char name[32];
    d = H5Dopen2(f, "/tasks/status", H5P_DEFAULT);
    hid_t et = H5Dget_type(d), mt = H5Tget_native_type(et, H5T_DIR_ASCEND);
    ck_assert_int_eq(H5Tget_class(et), H5T_ENUM); /* names stored with the codes */
    ck_assert_int_ge(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, st), 0);
    ck_assert(st[5] == 1 && st[6] == 0);
    ck_assert_int_ge(H5Tenum_nameof(mt, &st[5], name, sizeof name), 0);
    ck_assert_str_eq(name, "usage_error");
    ck_assert_int_ge(H5Tenum_nameof(mt, &st[6], name, sizeof name), 0);
    ck_assert_str_eq(name, "ok");
    H5Tclose(mt);
    H5Tclose(et);
    H5Dclose(d);
    /* Every dataset says what it holds. */
    static const char *const all[] = {"/results/label", "/results/scores", "/tasks/rank",
                                      "/tasks/start", "/tasks/seconds", "/tasks/status",
                                      "/failures/task", "/failures/reason", "/ranks/host"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        d = H5Dopen2(f, all[i], H5P_DEFAULT);
        ck_assert_msg(d >= 0 && H5Aexists(d, "description") > 0, "%s: no description", all[i]);
        H5Dclose(d);
    }
    d = H5Dopen2(f, "/tasks/rank", H5P_DEFAULT);
    ck_assert_int_ge(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, st), 0);
    ck_assert_int_eq(st[70000], 0);
    ck_assert_int_eq(st[7], 3);
    H5Dclose(d);
    char *v = read_str_attr(f, "job");
    ck_assert_str_eq(v, "{\"kernel\":\"test\"}");
    free(v);
    v = read_str_attr(f, "result");
    ck_assert_str_eq(v, "{\"x\":1}");
    free(v);
    ck_assert(H5Lexists(f, "/ranks/host", H5P_DEFAULT) > 0);
    H5Fclose(f);
    unlink(path);
    free(rows);
    free(sc);
    free(lab);
    free(st);
}
END_TEST

/* A job of a few tasks writes a small file: datasets at their exact size,
 * strings variable-length, score columns labelled from the result. */
START_TEST(small_jobs_write_small_files)
{
    static const mb_field two[] = {
        {"id", MB_FIELD_STR, 2, "a string of up to 15 bytes"},
        {"scores", MB_FIELD_F64, 3, "a row of three"},
    };
    enum { LEN = 5 + MB_ROW_EXTRA };
    double rows[2 * LEN] = {0};
    const char *hosts[] = {"h0"};
    char path[256], *ids[2], *labels[3];
    mb_output *o;
    struct stat sb;
    memcpy(rows, "doc-one", 8);
    memcpy(rows + LEN, "2", 2);
    rows[2] = 0.5;
    snprintf(path, sizeof path, "%s/small.h5", dir);
    ck_assert_int_eq(mb_output_open(&o, path, two, 2, "test", "{}"), MB_OK);
    ck_assert_int_eq(mb_output_append(o, rows, 2), MB_OK);
    ck_assert_int_eq(mb_output_close(o, hosts, 1, "{\"labels\":[\"a\",\"b\",\"c\"]}"), MB_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_lt(sb.st_size, 100 * 1000);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t d = H5Dopen2(f, "/results/id", H5P_DEFAULT), ft = H5Dget_type(d);
    ck_assert_int_gt(H5Tis_variable_str(ft), 0);
    ck_assert_int_ge(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids), 0);
    ck_assert_str_eq(ids[0], "doc-one");
    ck_assert_str_eq(ids[1], "2");
    H5free_memory(ids[0]);
    H5free_memory(ids[1]);
    H5Tclose(ft);
    H5Dclose(d);
    d = H5Dopen2(f, "/results/scores", H5P_DEFAULT);
    hid_t a = H5Aopen(d, "labels", H5P_DEFAULT);
    ck_assert_int_ge(H5Aread(a, t, labels), 0);
    ck_assert(!strcmp(labels[0], "a") && !strcmp(labels[2], "c"));
    for (int i = 0; i < 3; i++)
        H5free_memory(labels[i]);
    H5Aclose(a);
    H5Dclose(d);
    H5Tclose(t);
    H5Fclose(f);
    unlink(path);
}
END_TEST

START_TEST(missing_directory_is_an_io_error)
{
    mb_output *o = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/out.h5", dir);
    ck_assert_int_eq(mb_output_open(&o, path, fields, 2, "test", "{}"), MB_ERR_IO);
    ck_assert_ptr_null(o);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "No such file"));
}
END_TEST

START_TEST(discard_leaves_nothing)
{
    mb_output *o;
    char path[256], *tmp;
    double rows[ROWLEN * 3];
    snprintf(path, sizeof path, "%s/gone.h5", dir);
    ck_assert_int_eq(mb_output_open(&o, path, fields, 2, "test", "{}"), MB_OK);
    fill(rows, 3, 0);
    ck_assert_int_eq(mb_output_append(o, rows, 3), MB_OK);
    mb_output_discard(o);
    tmp = mb_test_temp_name(path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
    free(tmp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_test(tc, write_and_read_back);
    tcase_add_test(tc, small_jobs_write_small_files);
    tcase_add_test(tc, missing_directory_is_an_io_error);
    tcase_add_test(tc, discard_leaves_nothing);
    suite_add_tcase(s, tc);
    int status = mb_test_run(s);
    rmdir(dir);
    return status;
}
