/* test_docstore.c - the HDF5 document store: the import writer (round
 * trip, block boundaries, the atomic rename, discard), the classify source
 * that reads it back, the HDF5 sniff, payload unpacking, and the refusal
 * of files that are not document stores. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docstore.h"
#include "h5util.h"
#include "unit_dir.h"

#define DIR_TEMPLATE "/tmp/mb_test_docstore_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char store[sizeof DIR_TEMPLATE + 16];

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(store, sizeof store, "%s/docs.h5", dir);
}

static void teardown(void)
{
    mb_test_dir_remove(dir);
}

static int entries(void)
{
    return mb_test_dir_entries(dir);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
}

static mb_jsonl_record record(const char *id, const char *title, const char *abstract,
                              const char *categories, int label)
{
    mb_jsonl_record r = {.id = id, .title = title, .title_len = strlen(title),
                         .abstract = abstract, .abstract_len = strlen(abstract),
                         .categories = categories, .label = label};
    return r;
}

static const struct {
    const char *id, *title, *abstract, *categories;
    int label;
    uint64_t line;
} docs[] = {
    {"0704.0001", "Gluons", "Quarks and gluons \xc3\xa9t\xc3\xa9.", "hep-ph", MB_TOPIC_PHYSICS, 1},
    {"0704.0002", "", "An abstract without a title.", "math.CO cs.CG", MB_TOPIC_MATH, 2},
    {"0704.0004", "Unlabelled", "No categories at all.", NULL, -1, 7},
};
#define N_DOCS (sizeof docs / sizeof docs[0])

static void write_docs(const char *path)
{
    mb_docstore_writer *w;
    ck_assert_int_eq(mb_docstore_create(&w, path, "in.jsonl"), MB_OK);
    for (size_t i = 0; i < N_DOCS; i++) {
        mb_jsonl_record r = record(docs[i].id, docs[i].title, docs[i].abstract,
                                   docs[i].categories, docs[i].label);
        ck_assert_int_eq(mb_docstore_append(w, &r, docs[i].line), MB_OK);
    }
    ck_assert_int_eq(mb_docstore_close(w), MB_OK);
}

/* Payload i of a batch, unpacked. */
static mb_doc unpack(const mb_batch *b, uint64_t i)
{
    mb_doc d;
    const char *p = b->bytes.data + b->offsets[i];
    ck_assert_int_eq(mb_docstore_unpack(p, b->offsets[i + 1] - b->offsets[i], &d), MB_OK);
    return d;
}

static void read_str_attr(hid_t f, const char *name, char *out, size_t cap)
{
    hid_t t = mb_h5_utf8(), a = H5Aopen(f, name, H5P_DEFAULT);
    char *s = NULL;
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Aread(a, t, &s), 0);
    snprintf(out, cap, "%s", s);
    H5free_memory(s);
    H5Aclose(a);
    H5Tclose(t);
}

static uint64_t read_u64_attr(hid_t f, const char *name)
{
    uint64_t v = 0;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT64, &v), 0);
    H5Aclose(a);
    return v;
}

START_TEST(round_trip_through_the_source)
{
    mb_source src;
    mb_batch b = {0};
    write_docs(store);
    /* Only the store itself: the temporary name was renamed away. */
    ck_assert_int_eq(entries(), 1);
    ck_assert(mb_docstore_is_hdf5(store));

    ck_assert_int_eq(mb_source_open_docstore(&src, store), MB_OK);
    ck_assert_str_eq(src.name, "docstore");
    /* Two at a time: the second read gets the last one, the third none. */
    ck_assert_int_eq(src.read(src.state, 2, &b), MB_OK);
    ck_assert_uint_eq(b.count, 2);
    ck_assert_int_eq(src.read(src.state, 2, &b), MB_OK);
    ck_assert_uint_eq(b.count, N_DOCS);
    ck_assert_int_eq(src.read(src.state, 2, &b), MB_OK);
    ck_assert_uint_eq(b.count, N_DOCS);
    for (size_t i = 0; i < N_DOCS; i++) {
        mb_doc d = unpack(&b, i);
        ck_assert_str_eq(d.id, docs[i].id);
        ck_assert_str_eq(d.title, docs[i].title);
        ck_assert_uint_eq(d.title_len, strlen(docs[i].title));
        ck_assert_str_eq(d.abstract, docs[i].abstract);
        ck_assert_uint_eq(d.abstract_len, strlen(docs[i].abstract));
        ck_assert_int_eq(d.label, docs[i].label);
        ck_assert_int_eq(d.line, (int64_t)docs[i].line);
    }
    mb_batch_free(&b);
    mb_source_close(&src);
    ck_assert_ptr_null(src.state);
}
END_TEST

START_TEST(layout_and_attributes)
{
    char s[64];
    char *cats[N_DOCS] = {NULL};
    hid_t t = mb_h5_utf8(), f, d;
    write_docs(store);
    f = H5Fopen(store, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    read_str_attr(f, "format", s, sizeof s);
    ck_assert_str_eq(s, MB_DOCSTORE_FORMAT);
    ck_assert_uint_eq(read_u64_attr(f, "format_version"), MB_DOCSTORE_VERSION);
    ck_assert_uint_eq(read_u64_attr(f, "documents"), N_DOCS);
    read_str_attr(f, "source", s, sizeof s);
    ck_assert_str_eq(s, "in.jsonl");
    /* Categories are stored but not in the payload: a missing list is "". */
    d = H5Dopen2(f, "/documents/categories", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    ck_assert_int_ge(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, cats), 0);
    ck_assert_str_eq(cats[0], "hep-ph");
    ck_assert_str_eq(cats[1], "math.CO cs.CG");
    ck_assert_str_eq(cats[2], "");
    for (size_t i = 0; i < N_DOCS; i++)
        H5free_memory(cats[i]);
    H5Dclose(d);
    H5Fclose(f);
    H5Tclose(t);
}
END_TEST

/* More than one block: the flush inside append and the one at close both
 * land, in order, and reads that straddle the block boundary line up. */
START_TEST(records_across_blocks)
{
    enum { N = MB_DOCSTORE_BLOCK + 5 };
    mb_docstore_writer *w;
    mb_source src;
    mb_batch b = {0};
    char id[32], title[32];
    uint64_t seen = 0;
    ck_assert_int_eq(mb_docstore_create(&w, store, "big.jsonl"), MB_OK);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "id%d", i);
        snprintf(title, sizeof title, "title %d", i);
        mb_jsonl_record r = record(id, title, "abstract", "cs.LG", i % MB_TOPIC_COUNT);
        ck_assert_int_eq(mb_docstore_append(w, &r, (uint64_t)i + 1), MB_OK);
    }
    ck_assert_int_eq(mb_docstore_close(w), MB_OK);

    ck_assert_int_eq(mb_source_open_docstore(&src, store), MB_OK);
    for (;;) {
        mb_batch_clear(&b);
        ck_assert_int_eq(src.read(src.state, 1000, &b), MB_OK);
        for (uint64_t i = 0; i < b.count; i++, seen++) {
            mb_doc d = unpack(&b, i);
            snprintf(id, sizeof id, "id%llu", (unsigned long long)seen);
            snprintf(title, sizeof title, "title %llu", (unsigned long long)seen);
            ck_assert_str_eq(d.id, id);
            ck_assert_str_eq(d.title, title);
            ck_assert_int_eq(d.line, (int64_t)seen + 1);
            ck_assert_int_eq(d.label, (int)(seen % MB_TOPIC_COUNT));
        }
        if (b.count < 1000)
            break;
    }
    ck_assert_uint_eq(seen, N);
    mb_batch_free(&b);
    mb_source_close(&src);
}
END_TEST

START_TEST(empty_store_reads_nothing)
{
    mb_docstore_writer *w;
    mb_source src;
    mb_batch b = {0};
    ck_assert_int_eq(mb_docstore_create(&w, store, "empty.jsonl"), MB_OK);
    ck_assert_int_eq(mb_docstore_close(w), MB_OK);
    ck_assert_int_eq(mb_source_open_docstore(&src, store), MB_OK);
    ck_assert_int_eq(src.read(src.state, 10, &b), MB_OK);
    ck_assert_uint_eq(b.count, 0);
    mb_batch_free(&b);
    mb_source_close(&src);
}
END_TEST

/* Nothing appears under the final name before close; discard removes the
 * temporary file and leaves the directory as it was. */
START_TEST(writer_is_atomic_and_discard_leaves_nothing)
{
    mb_docstore_writer *w;
    mb_jsonl_record r = record("x", "t", "a", "math.AG", MB_TOPIC_MATH);
    ck_assert_int_eq(mb_docstore_create(&w, store, "in.jsonl"), MB_OK);
    ck_assert_int_eq(mb_docstore_append(w, &r, 1), MB_OK);
    ck_assert_int_ne(access(store, F_OK), 0);
    ck_assert_int_eq(entries(), 1); /* the temporary file */
    mb_docstore_discard(w);
    ck_assert_int_eq(entries(), 0);
    mb_docstore_discard(NULL);
}
END_TEST

START_TEST(create_in_missing_directory_names_the_path)
{
    char path[sizeof dir + 32];
    mb_docstore_writer *w = (mb_docstore_writer *)&w; /* not NULL: create must clear it */
    snprintf(path, sizeof path, "%s/no/such/docs.h5", dir);
    ck_assert_int_eq(mb_docstore_create(&w, path, "in.jsonl"), MB_ERR_IO);
    ck_assert_ptr_null(w);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
}
END_TEST

/* Opening p fails with MB_ERR_INPUT, a zeroed source, and a message that
 * names p and contains why. */
static void assert_refused(const char *p, const char *why)
{
    mb_source src;
    memset(&src, 0x5a, sizeof src);
    ck_assert_int_eq(mb_source_open_docstore(&src, p), MB_ERR_INPUT);
    ck_assert_ptr_null(src.state);
    ck_assert_ptr_null(src.read);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), p));
    ck_assert_msg(strstr(mb_error_message(), why), "'%s' lacks '%s'", mb_error_message(), why);
    mb_source_close(&src);
}

START_TEST(non_stores_are_refused)
{
    char p[sizeof dir + 32];
    snprintf(p, sizeof p, "%s/text.jsonl", dir);
    write_file(p, "{\"id\": \"1\"}\n", 12);
    assert_refused(p, "cannot open document store");
    snprintf(p, sizeof p, "%s/missing.h5", dir);
    assert_refused(p, "cannot open document store");
    /* An HDF5 file, but without the format attribute. */
    snprintf(p, sizeof p, "%s/other.h5", dir);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    H5Fclose(f);
    assert_refused(p, "not an mpibatch document store");
}
END_TEST

START_TEST(huge_superblock_k_is_refused)
{
    /* tests/fuzz/regress/docstore/superblock-huge-k: group leaf K 65532. */
    static const unsigned char crash[49] = {
        0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0, 0, 8, 8, 0,
        0xfc, 0xff, 0xef, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
    write_file(store, crash, sizeof crash);
    assert_refused(store, "superblock");
}
END_TEST

/* Edit a finished store with HDF5 and check the reader notices. */
START_TEST(damaged_stores_are_refused)
{
    hid_t f;
    uint64_t v = MB_DOCSTORE_VERSION + 1;
    write_docs(store);
    f = H5Fopen(store, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_UINT64, &v), 0);
    H5Aclose(a);
    H5Fclose(f);
    assert_refused(store, "format version 2");

    write_docs(store);
    f = H5Fopen(store, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Ldelete(f, "/documents/line", H5P_DEFAULT), 0);
    H5Fclose(f);
    assert_refused(store, "lacks /documents/line");

    /* A title column one row short of the ids. */
    write_docs(store);
    f = H5Fopen(store, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/documents/title", H5P_DEFAULT);
    hsize_t shorter[1] = {N_DOCS - 1};
    ck_assert_int_ge(H5Dset_extent(d, shorter), 0);
    H5Dclose(d);
    H5Fclose(f);
    assert_refused(store, "/documents/title has 2 rows, the ids 3");
}
END_TEST

START_TEST(is_hdf5_reads_the_signature)
{
    static const char sig[8] = "\x89HDF\r\n\x1a\n";
    char p[sizeof dir + 32];
    write_docs(store);
    ck_assert(mb_docstore_is_hdf5(store));
    snprintf(p, sizeof p, "%s/sig", dir);
    write_file(p, sig, sizeof sig);
    ck_assert(mb_docstore_is_hdf5(p));
    write_file(p, sig, 7); /* too short */
    ck_assert(!mb_docstore_is_hdf5(p));
    write_file(p, "\x89HDF\r\n\x1a\r", 8); /* last byte wrong */
    ck_assert(!mb_docstore_is_hdf5(p));
    write_file(p, "{\"id\":\"1\"}\n", 11);
    ck_assert(!mb_docstore_is_hdf5(p));
    snprintf(p, sizeof p, "%s/missing", dir);
    ck_assert(!mb_docstore_is_hdf5(p));
}
END_TEST

/* A payload as the source packs it: [label][line] id NUL title NUL abstract NUL. */
static size_t pack(char *buf, int32_t label, int64_t line, const char *strs, size_t slen)
{
    memcpy(buf, &label, sizeof label);
    memcpy(buf + 4, &line, sizeof line);
    memcpy(buf + 12, strs, slen);
    return 12 + slen;
}

START_TEST(unpack_checks_its_payload)
{
    char buf[64];
    mb_doc d;
    size_t n = pack(buf, 3, 42, "a1\0The title\0Abs\0", 17);
    ck_assert_int_eq(mb_docstore_unpack(buf, n, &d), MB_OK);
    ck_assert_int_eq(d.label, 3);
    ck_assert_int_eq(d.line, 42);
    ck_assert_str_eq(d.id, "a1");
    ck_assert_str_eq(d.title, "The title");
    ck_assert_uint_eq(d.title_len, 9);
    ck_assert_str_eq(d.abstract, "Abs");
    ck_assert_uint_eq(d.abstract_len, 3);
    /* The shortest payload: three empty strings. */
    n = pack(buf, -1, 0, "\0\0\0", 3);
    ck_assert_int_eq(mb_docstore_unpack(buf, n, &d), MB_OK);
    ck_assert_int_eq(d.label, -1);
    ck_assert_str_eq(d.abstract, "");
    ck_assert_int_eq(mb_docstore_unpack(buf, n - 1, &d), MB_ERR_INTERNAL);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "too short"));
    /* Each missing terminator is caught without reading past len. */
    n = pack(buf, 0, 1, "a1\0title\0abstract", 17);
    ck_assert_int_eq(mb_docstore_unpack(buf, n, &d), MB_ERR_INTERNAL);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "malformed"));
    n = pack(buf, 0, 1, "a1\0title-and-abstract", 21);
    ck_assert_int_eq(mb_docstore_unpack(buf, n, &d), MB_ERR_INTERNAL);
    n = pack(buf, 0, 1, "only-an-id", 10);
    ck_assert_int_eq(mb_docstore_unpack(buf, n, &d), MB_ERR_INTERNAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docstore");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_through_the_source);
    tcase_add_test(tc, layout_and_attributes);
    tcase_add_test(tc, records_across_blocks);
    tcase_add_test(tc, empty_store_reads_nothing);
    tcase_add_test(tc, writer_is_atomic_and_discard_leaves_nothing);
    tcase_add_test(tc, create_in_missing_directory_names_the_path);
    tcase_add_test(tc, non_stores_are_refused);
    tcase_add_test(tc, huge_superblock_k_is_refused);
    tcase_add_test(tc, damaged_stores_are_refused);
    tcase_add_test(tc, is_hdf5_reads_the_signature);
    tcase_add_test(tc, unpack_checks_its_payload);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
