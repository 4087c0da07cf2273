/* test_transfer.c - downloads, the streaming reader and upload dispatch
 * (src/io/transfer.c) against tests/io/objserver.py: a fetch lands whole
 * under its name or not at all (no file at the destination, no .part
 * left, an older file kept), range by range with exactly the requests it
 * needs, through retries and cut connections, and in one GET from a
 * server that ignores Range; the reader yields the object's bytes in
 * order across part boundaries, for empty objects and local files; a put
 * to a plain URL or a local path; the transfer options from a spec. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/transfer.h"
#include "unit_dir.h"
#include "unit_objserver.h"

static mb_test_server plain, norange;
static char dir[256];

static mb_url_opts opts(uint64_t part)
{
    mb_url_opts o;
    mb_url_opts_default(&o);
    o.part_size = part;
    o.timeout = 10;
    return o;
}

/* A fresh server holding n pattern bytes at path; returns them. */
static char *serve(const mb_test_server *s, const char *path, size_t n)
{
    char *data = mb_test_pattern(n, (unsigned)n);
    mb_test_reset(s); /* objects, faults and counts */
    ck_assert_int_eq(mb_test_http(s, "PUT", path, data, n, NULL), 200);
    return data;
}

static void url_of(char *out, size_t n, const mb_test_server *s, const char *path)
{
    snprintf(out, n, "%s%s", s->url, path);
}

/* The bytes of a local file (caller frees); *n gets the size. */
static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    char *data;
    struct stat st;
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fstat(fileno(fp), &st), 0);
    data = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(data);
    *n = fread(data, 1, (size_t)st.st_size, fp);
    fclose(fp);
    return data;
}

static void assert_file(const char *path, const char *want, size_t n)
{
    size_t len;
    char *got = slurp(path, &len);
    ck_assert_uint_eq(len, n);
    ck_assert_int_eq(memcmp(got, want, n), 0);
    free(got);
}

/* One scratch directory per run, made and removed by the runner itself
 * (an unchecked fixture), so that a failed test leaves nothing; emptied
 * before each test. */
static void make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_transfer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    mb_test_dir_remove(dir);
}

static void empty_dir(void)
{
    mb_test_dir_remove(dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
}

START_TEST(fetch_range_by_range)
{
    char src[256], dst[512];
    uint64_t bytes = 0;
    mb_url_opts o = opts(1024);
    char *data = serve(&plain, "/b/ten", 10000);
    url_of(src, sizeof src, &plain, "/b/ten");
    snprintf(dst, sizeof dst, "%s/ten.bin", dir);
    ck_assert_int_eq(mb_url_fetch(src, dst, &o, &bytes), MB_OK);
    ck_assert_uint_eq(bytes, 10000);
    assert_file(dst, data, 10000);
    /* 9 full ranges and a short tenth that ends it. */
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 10);
    ck_assert_int_eq(mb_test_dir_entries(dir), 1); /* no .part left */
    free(data);
}
END_TEST

/* An object of whole parts: Content-Range's total ends the reading, no
 * extra request for an empty range. */
START_TEST(fetch_whole_parts_needs_no_extra_request)
{
    char src[256], dst[512], ranges[512];
    mb_url_opts o = opts(1024);
    char *data = serve(&plain, "/b/four", 4096);
    url_of(src, sizeof src, &plain, "/b/four");
    snprintf(dst, sizeof dst, "%s/four.bin", dir);
    ck_assert_int_eq(mb_url_fetch(src, dst, &o, NULL), MB_OK);
    assert_file(dst, data, 4096);
    mb_test_stats_list(&plain, "ranges", ranges, sizeof ranges);
    ck_assert_str_eq(ranges, "bytes=0-1023\nbytes=1024-2047\nbytes=2048-3071\nbytes=3072-4095\n");
    free(data);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(fetch_failure_leaves_nothing)
{
    char src[256], dst[512];
    mb_url_opts o = opts(1024);
    uint64_t bytes = 99;
    mb_test_reset(&plain);
    url_of(src, sizeof src, &plain, "/b/none");
    snprintf(dst, sizeof dst, "%s/none.bin", dir);
    ck_assert_int_eq(mb_url_fetch(src, dst, &o, &bytes), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "HTTP 404: NoSuchKey"));
    ck_assert_uint_eq(bytes, 0);
    ck_assert_int_eq(mb_test_dir_entries(dir), 0); /* neither dst nor a .part */
    /* A failed fetch over an existing file leaves that file as it was. */
    free(serve(&plain, "/b/half", 5000));
    url_of(src, sizeof src, &plain, "/b/half");
    write_file(dst, "the old file");
    mb_test_fault(&plain, "403", 1, "GET");
    ck_assert_int_eq(mb_url_fetch(src, dst, &o, NULL), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "HTTP 403: AccessDenied"));
    assert_file(dst, "the old file", 12);
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
    /* A destination in a missing directory fails before any request. */
    mb_test_reset(&plain);
    snprintf(dst, sizeof dst, "%s/no/such/dir.bin", dir);
    ck_assert_int_ne(mb_url_fetch(src, dst, &o, NULL), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 0);
}
END_TEST

/* A range refused half-way through the object fails that read with the
 * server's text; what came before was read whole. */
START_TEST(reader_failure_midway)
{
    char src[256], buf[1024];
    size_t got;
    mb_url_reader *r;
    mb_url_opts o = opts(1024);
    char *data = serve(&plain, "/b/mid", 5000);
    o.retries = 0;
    url_of(src, sizeof src, &plain, "/b/mid");
    ck_assert_int_eq(mb_url_reader_open(&r, src, &o), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 0); /* nothing before the first read */
    ck_assert_int_eq(mb_url_reader_read(r, buf, sizeof buf, &got), MB_OK);
    ck_assert_uint_eq(got, 1024);
    ck_assert_int_eq(memcmp(buf, data, got), 0);
    mb_test_fault(&plain, "403", 1, "GET");
    ck_assert_int_eq(mb_url_reader_read(r, buf, sizeof buf, &got), MB_ERR_INPUT);
    ck_assert_uint_eq(got, 0);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "/b/mid: HTTP 403: AccessDenied"));
    mb_url_reader_close(r);
    free(data);
}
END_TEST

START_TEST(fetch_through_faults)
{
    char src[256], dst[512];
    mb_url_opts o = opts(4096);
    char *data = serve(&plain, "/b/faulty", 20000);
    url_of(src, sizeof src, &plain, "/b/faulty");
    snprintf(dst, sizeof dst, "%s/faulty.bin", dir);
    mb_test_fault(&plain, "503", 1, "GET");
    mb_test_fault(&plain, "cut", 1, "GET");
    mb_test_fault(&plain, "drop", 1, "GET");
    ck_assert_int_eq(mb_url_fetch(src, dst, &o, NULL), MB_OK);
    assert_file(dst, data, 20000);
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
    free(data);
}
END_TEST

/* A server without Range support: the first answer shows it, and the
 * object is read in one GET instead of once per range. */
START_TEST(fetch_from_server_ignoring_range)
{
    char src[256], dst[512];
    uint64_t bytes = 0;
    mb_url_opts o = opts(1024);
    char *data = serve(&norange, "/b/big", 50000);
    url_of(src, sizeof src, &norange, "/b/big");
    snprintf(dst, sizeof dst, "%s/big.bin", dir);
    ck_assert_int_eq(mb_url_fetch(src, dst, &o, &bytes), MB_OK);
    ck_assert_uint_eq(bytes, 50000);
    assert_file(dst, data, 50000);
    ck_assert_int_eq(mb_test_requests(&norange, "GET"), 2);
    free(data);
}
END_TEST

/* Read the object at src through a reader, n bytes at a time. */
static char *read_all(const char *src, const mb_url_opts *o, size_t n, size_t *len)
{
    mb_url_reader *r = NULL;
    char *buf = malloc(n), *out = NULL;
    size_t got, cap = 0;
    *len = 0;
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(mb_url_reader_open(&r, src, o), MB_OK);
    for (;;) {
        ck_assert_int_eq(mb_url_reader_read(r, buf, n, &got), MB_OK);
        ck_assert_uint_le(got, n);
        if (got == 0)
            break;
        if (*len + got > cap) {
            cap = 2 * (*len + got);
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
        memcpy(out + *len, buf, got);
        *len += got;
    }
    /* The end stays the end. */
    ck_assert_int_eq(mb_url_reader_read(r, buf, n, &got), MB_OK);
    ck_assert_uint_eq(got, 0);
    mb_url_reader_close(r);
    free(buf);
    return out;
}

START_TEST(reader_across_part_boundaries)
{
    char src[256];
    size_t len;
    mb_url_opts o = opts(1000);
    char *data = serve(&plain, "/b/parts", 4500), *got;
    url_of(src, sizeof src, &plain, "/b/parts");
    /* Reads that straddle every boundary, and reads larger than a part. */
    got = read_all(src, &o, 333, &len);
    ck_assert_uint_eq(len, 4500);
    ck_assert_int_eq(memcmp(got, data, len), 0);
    free(got);
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 5);
    got = read_all(src, &o, 2500, &len);
    ck_assert_uint_eq(len, 4500);
    ck_assert_int_eq(memcmp(got, data, len), 0);
    free(got);
    free(data);
}
END_TEST

START_TEST(reader_empty_object)
{
    char src[256];
    size_t len;
    mb_url_opts o = opts(1024);
    char *got;
    mb_test_reset(&plain);
    ck_assert_int_eq(mb_test_http(&plain, "PUT", "/b/empty", "", 0, NULL), 200);
    url_of(src, sizeof src, &plain, "/b/empty");
    got = read_all(src, &o, 100, &len);
    ck_assert_uint_eq(len, 0);
    free(got);
}
END_TEST

START_TEST(reader_and_fetch_of_local_files)
{
    char src[512], dst[512];
    size_t len;
    mb_url_opts o = opts(1024);
    mb_url_reader *r = (mb_url_reader *)&o; /* not NULL: a failed open must clear it */
    char *data = mb_test_pattern(3000, 1), *got;
    FILE *fp;
    snprintf(src, sizeof src, "%s/local.bin", dir);
    fp = fopen(src, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(data, 1, 3000, fp);
    fclose(fp);
    got = read_all(src, &o, 700, &len);
    ck_assert_uint_eq(len, 3000);
    ck_assert_int_eq(memcmp(got, data, len), 0);
    free(got);
    /* A file:// URL and a plain path alike; put to a path is a copy. */
    snprintf(dst, sizeof dst, "%s/copy.bin", dir);
    ck_assert_int_eq(mb_url_put(src, dst, &o), MB_OK);
    assert_file(dst, data, 3000);
    ck_assert_int_eq(mb_test_dir_entries(dir), 2);
    snprintf(dst, sizeof dst, "file://%s/none.bin", dir);
    ck_assert_int_eq(mb_url_reader_open(&r, dst, &o), MB_ERR_INPUT);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "none.bin': No such file or directory"));
    free(data);
}
END_TEST

START_TEST(put_to_plain_http)
{
    char src[512], dst[256];
    mb_url_opts o = opts(1024);
    mb_test_body b;
    char *data = mb_test_pattern(5000, 2);
    FILE *fp;
    snprintf(src, sizeof src, "%s/up.bin", dir);
    fp = fopen(src, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(data, 1, 5000, fp);
    fclose(fp);
    mb_test_reset(&plain);
    url_of(dst, sizeof dst, &plain, "/b/up.bin");
    ck_assert_int_eq(mb_url_put(src, dst, &o), MB_OK);
    /* Plain HTTP has no multipart API: one PUT whatever the size. */
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 1);
    ck_assert_int_eq(mb_test_requests(&plain, "POST"), 0);
    ck_assert_int_eq(mb_test_http(&plain, "GET", "/b/up.bin", NULL, 0, &b), 200);
    ck_assert_uint_eq(b.len, 5000);
    ck_assert_int_eq(memcmp(b.data, data, 5000), 0);
    free(b.data);
    snprintf(src, sizeof src, "%s/missing.bin", dir);
    ck_assert_int_eq(mb_url_put(src, dst, &o), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot read '"));
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 1);
    free(data);
}
END_TEST

START_TEST(options_from_spec)
{
    mb_url_opts o;
    cJSON *spec = cJSON_Parse("{\"url-retries\": 2, \"url-timeout\": 7.5, \"part-size\": 4096,"
                              " \"insecure\": true}");
    ck_assert_ptr_nonnull(spec);
    mb_url_opts_from_spec(spec, &o);
    ck_assert_uint_eq(o.retries, 2);
    ck_assert(o.timeout == 7.5);
    ck_assert_uint_eq(o.part_size, 4096);
    ck_assert(o.insecure);
    ck_assert(o.retry_max_seconds == 60.0); /* absent: the default */
    cJSON_Delete(spec);
    spec = cJSON_Parse("{}");
    mb_url_opts_from_spec(spec, &o);
    ck_assert_uint_eq(o.retries, 5);
    ck_assert(o.timeout == 60.0);
    ck_assert_uint_eq(o.part_size, 8388608);
    ck_assert(!o.insecure);
    cJSON_Delete(spec);
    /* The defaults are the option table's. */
    for (const mb_option *opt = mb_url_options; opt->name; opt++)
        if (!strcmp(opt->name, "part-size"))
            ck_assert_str_eq(opt->defval, "8388608");
        else if (!strcmp(opt->name, "url-retries"))
            ck_assert_str_eq(opt->defval, "5");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transfer");
    TCase *tc = tcase_create("transfer");
    char *nr[] = {"--ignore-range", NULL};
    int status;
    setenv("NO_PROXY", "127.0.0.1", 1);
    mb_test_server_start(&plain, NULL);
    mb_test_server_start(&norange, nr);
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
    tcase_add_checked_fixture(tc, empty_dir, NULL);
    tcase_add_test(tc, fetch_range_by_range);
    tcase_add_test(tc, fetch_whole_parts_needs_no_extra_request);
    tcase_add_test(tc, fetch_failure_leaves_nothing);
    tcase_add_test(tc, reader_failure_midway);
    tcase_add_test(tc, fetch_through_faults);
    tcase_add_test(tc, fetch_from_server_ignoring_range);
    tcase_add_test(tc, reader_across_part_boundaries);
    tcase_add_test(tc, reader_empty_object);
    tcase_add_test(tc, reader_and_fetch_of_local_files);
    tcase_add_test(tc, put_to_plain_http);
    tcase_add_test(tc, options_from_spec);
    suite_add_tcase(s, tc);
    status = mb_test_run(s);
    mb_test_servers_stop_all();
    return status;
}
