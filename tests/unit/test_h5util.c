/* test_h5util.c - the shared HDF5 helpers: the guarded open of files we
 * are given (the superblock B-tree K check, at offset 0 and behind a user
 * block), HDF5's error reason, the UTF-8 string type and the scalar
 * attribute writers, read back through the HDF5 API. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5util.h"
#include "unit.h"

#define DIR_TEMPLATE "/tmp/mb_test_h5util_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char path[sizeof DIR_TEMPLATE + 16];

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.h5", dir);
    mb_h5_quiet();
}

/* Every test uses the one file name. */
static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_file(const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
}

/* An empty HDF5 file as HDF5 writes it by default (a version 0
 * superblock), after a user block of userblock bytes when not 0. */
static void write_h5(hsize_t userblock)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (userblock)
        ck_assert_int_ge(H5Pset_userblock(fcpl, userblock), 0);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    H5Fclose(f);
    H5Pclose(fcpl);
}

/* Overwrite the little-endian 16-bit field at offset off of the file. */
static void patch16(long off, unsigned value)
{
    unsigned char b[2] = {value & 0xff, value >> 8};
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, off, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(b, 1, 2, fp), 2);
    ck_assert_int_eq(fclose(fp), 0);
}

/* mb_h5_open_read(path) is refused by the K check. */
static void assert_refused(void)
{
    const char *refused = NULL;
    ck_assert_int_lt(mb_h5_open_read(path, &refused), 0);
    ck_assert_ptr_nonnull(refused);
    ck_assert_ptr_nonnull(strstr(refused, "4096"));
}

/* mb_h5_open_read(path) gets past the K check; HDF5 may still fail. */
static void assert_not_refused(void)
{
    const char *refused = "unset";
    hid_t f = mb_h5_open_read(path, &refused);
    ck_assert_ptr_null(refused);
    if (f >= 0)
        H5Fclose(f);
}

START_TEST(normal_files_open)
{
    const char *refused = "unset";
    hid_t f;
    write_h5(0);
    f = mb_h5_open_read(path, &refused);
    ck_assert_int_ge(f, 0);
    ck_assert_ptr_null(refused);
    /* Read-only: HDF5 refuses to create anything in it. */
    ck_assert_int_lt(H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), 0);
    H5Fclose(f);
    /* The superblock after a user block is found and checked too. */
    write_h5(512);
    f = mb_h5_open_read(path, &refused);
    ck_assert_int_ge(f, 0);
    ck_assert_ptr_null(refused);
    H5Fclose(f);
}
END_TEST

/* Failures that are HDF5's own leave *refused NULL and a reason. */
START_TEST(non_hdf5_files_fail_in_hdf5)
{
    const char *refused = "unset";
    char why[128];
    static const char text[] = "{\"id\": \"1\", \"abstract\": \"a text file, not HDF5\"}\n";
    write_file(text, sizeof text - 1);
    ck_assert_int_lt(mb_h5_open_read(path, &refused), 0);
    ck_assert_ptr_null(refused);
    mb_h5_reason(why, sizeof why);
    ck_assert_str_ne(why, "unknown HDF5 error");
    ck_assert_uint_gt(strlen(why), 0);
    unlink(path);
    refused = "unset";
    ck_assert_int_lt(mb_h5_open_read(path, &refused), 0);
    ck_assert_ptr_null(refused);
}
END_TEST

/* The fuzzer's 49-byte file (tests/fuzz/regress/docstore/superblock-huge-k):
 * a version 0 superblock whose group leaf K is 65532. */
START_TEST(fuzzer_superblock_is_refused)
{
    static const unsigned char crash[49] = {
        0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0, 0, 8, 8, 0,
        0xfc, 0xff, 0xef, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
    write_file(crash, sizeof crash);
    assert_refused();
}
END_TEST

/* Each K of a real file: 4096 passes, 4097 does not.  In a version 0
 * superblock the group leaf K is at byte 16 and the internal K at 18. */
START_TEST(k_limit_is_4096)
{
    static const long fields[] = {16, 18};
    for (size_t i = 0; i < 2; i++) {
        write_h5(0);
        patch16(fields[i], 4096);
        assert_not_refused();
        patch16(fields[i], 4097);
        assert_refused();
    }
    /* Behind a 512-byte user block. */
    write_h5(512);
    patch16(512 + 16, 0xffff);
    assert_refused();
}
END_TEST

/* Byte 24 is the indexed-storage K only in a version 1 superblock; in
 * version 0 it is part of the base address and must not be judged. */
START_TEST(istore_k_only_in_version_1)
{
    unsigned char sb[64] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 1, 0, 0, 0, 0, 8, 8, 0,
                            4, 0, 16, 0};
    sb[24] = 0xff;
    sb[25] = 0xff;
    write_file(sb, sizeof sb);
    assert_refused();
    sb[8] = 0;
    write_file(sb, sizeof sb);
    assert_not_refused();
    /* Versions 2 and 3 have no K fields at all. */
    sb[8] = 2;
    sb[16] = sb[17] = 0xff;
    write_file(sb, sizeof sb);
    assert_not_refused();
}
END_TEST

START_TEST(reason_is_the_innermost_description)
{
    char why[128], small[8];
    H5Eclear2(H5E_DEFAULT);
    ck_assert_str_eq(mb_h5_reason(why, sizeof why), "unknown HDF5 error");
    ck_assert_int_lt(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), 0);
    ck_assert_ptr_eq(mb_h5_reason(why, sizeof why), why);
    ck_assert_str_ne(why, "unknown HDF5 error");
    /* The text is cut to the buffer, terminated. */
    mb_h5_reason(small, sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_int_eq(strncmp(small, why, sizeof small - 1), 0);
}
END_TEST

/* Stands in for HDF5's printer, to see that mb_h5_quiet removes it. */
static herr_t printer(hid_t stack, void *data)
{
    return 0;
}

START_TEST(quiet_turns_off_printing)
{
    H5E_auto2_t func = NULL;
    void *data = NULL;
    H5Eset_auto2(H5E_DEFAULT, printer, NULL);
    ck_assert_int_ge(H5Eget_auto2(H5E_DEFAULT, &func, &data), 0);
    ck_assert(func == printer);
    mb_h5_quiet();
    ck_assert_int_ge(H5Eget_auto2(H5E_DEFAULT, &func, &data), 0);
    ck_assert(func == NULL);
}
END_TEST

START_TEST(utf8_type_is_variable_length)
{
    hid_t t = mb_h5_utf8();
    ck_assert_int_ge(t, 0);
    ck_assert_int_eq(H5Tget_class(t), H5T_STRING);
    ck_assert_int_gt(H5Tis_variable_str(t), 0);
    ck_assert_int_eq(H5Tget_cset(t), H5T_CSET_UTF8);
    H5Tclose(t);
}
END_TEST

/* Open attribute name of f, check its stored type is file_type, read it as mem_type. */
static void read_attr(hid_t f, const char *name, hid_t file_type, hid_t mem_type, void *out)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t, s;
    ck_assert_int_ge(a, 0);
    t = H5Aget_type(a);
    ck_assert_int_gt(H5Tequal(t, file_type), 0);
    s = H5Aget_space(a);
    ck_assert_int_eq(H5Sget_simple_extent_type(s), H5S_SCALAR);
    ck_assert_int_ge(H5Aread(a, mem_type, out), 0);
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
}

START_TEST(attributes_read_back)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t utf8 = mb_h5_utf8();
    const char *text = "caf\xc3\xa9 \"quoted\" text";
    double pi = 3.25, dback = 0;
    uint64_t u = 0;
    int64_t i = 0;
    char *s = NULL;
    ck_assert_int_ge(f, 0);
    ck_assert_int_ge(mb_h5_put_str(f, "name", text), 0);
    ck_assert_int_ge(mb_h5_put_u64(f, "big", UINT64_MAX), 0);
    ck_assert_int_ge(mb_h5_put_i64(f, "negative", INT64_MIN), 0);
    ck_assert_int_ge(mb_h5_put_scalar(f, "pi", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &pi), 0);
    /* A second attribute of the same name is an error, not a silent overwrite. */
    ck_assert_int_lt(mb_h5_put_u64(f, "big", 1), 0);
    H5Fclose(f);

    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    read_attr(f, "name", utf8, utf8, &s);
    ck_assert_str_eq(s, text);
    H5free_memory(s);
    read_attr(f, "big", H5T_STD_U64LE, H5T_NATIVE_UINT64, &u);
    ck_assert(u == UINT64_MAX);
    read_attr(f, "negative", H5T_STD_I64LE, H5T_NATIVE_INT64, &i);
    ck_assert(i == INT64_MIN);
    read_attr(f, "pi", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &dback);
    ck_assert_double_eq(dback, 3.25);
    H5Fclose(f);
    H5Tclose(utf8);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("h5util");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, normal_files_open);
    tcase_add_test(tc, non_hdf5_files_fail_in_hdf5);
    tcase_add_test(tc, fuzzer_superblock_is_refused);
    tcase_add_test(tc, k_limit_is_4096);
    tcase_add_test(tc, istore_k_only_in_version_1);
    tcase_add_test(tc, reason_is_the_innermost_description);
    tcase_add_test(tc, quiet_turns_off_printing);
    tcase_add_test(tc, utf8_type_is_variable_length);
    tcase_add_test(tc, attributes_read_back);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
