/* test_upload.c - putting a file at a URL (src/io/upload.c) against
 * tests/io/objserver.py: one PUT up to the part size (and always for plain
 * HTTP), an S3 multipart upload above it (initiate, numbered parts with
 * the upload id, complete) whose object is the file byte for byte, a part
 * retried from its own offset, a part that fails for good aborting the
 * upload, too many parts refused, SigV4-signed multipart uploads for S3
 * and GCS HMAC keys, and Azure's Put Block / Put Block List sequence. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/request.h"
#include "io/upload.h"
#include "unit_objserver.h"

static mb_test_server plain, sigv4;

/* A temporary file holding n pattern bytes; *data gets them. */
static FILE *file_of(size_t n, char **data)
{
    FILE *fp = tmpfile();
    *data = mb_test_pattern(n, (unsigned)n);
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(*data, 1, n, fp), n);
    ck_assert_int_eq(fflush(fp), 0);
    return fp;
}

static mb_url_opts opts(uint64_t part)
{
    mb_url_opts o;
    mb_url_opts_default(&o);
    o.part_size = part;
    o.timeout = 10;
    return o;
}

/* Upload n bytes to text (a URL) in parts of part bytes; returns the
 * result and leaves the file's bytes in *data. */
static mb_err upload(const char *text, size_t n, uint64_t part, char **data)
{
    mb_url u;
    mb_url_opts o = opts(part);
    FILE *fp = file_of(n, data);
    mb_err rc;
    ck_assert_int_eq(mb_url_parse(text, &u), MB_OK);
    rc = mb_upload(&u, fp, n, &o);
    mb_url_free(&u);
    fclose(fp);
    return rc;
}

/* s3:// at the plain server, anonymous. */
static void s3_anonymous(void)
{
    setenv("AWS_ENDPOINT_URL", plain.url, 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

static void assert_object(const mb_test_server *s, const char *path, const char *want, size_t n)
{
    mb_test_body b;
    ck_assert_int_eq(mb_test_http(s, "GET", path, NULL, 0, &b), 200);
    ck_assert_uint_eq(b.len, n);
    ck_assert_int_eq(memcmp(b.data, want, n), 0);
    free(b.data);
}

START_TEST(single_put_up_to_part_size)
{
    char *data;
    s3_anonymous();
    mb_test_reset(&plain);
    ck_assert_int_eq(upload("s3://bucket/one.bin", 1024, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 1);
    ck_assert_int_eq(mb_test_requests(&plain, "POST"), 0);
    assert_object(&plain, "/bucket/one.bin", data, 1024);
    free(data);
}
END_TEST

START_TEST(plain_http_is_always_one_put)
{
    char url[256], *data;
    mb_test_reset(&plain);
    snprintf(url, sizeof url, "%s/web/big.bin", plain.url);
    ck_assert_int_eq(upload(url, 5000, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 1);
    ck_assert_int_eq(mb_test_requests(&plain, "POST"), 0);
    assert_object(&plain, "/web/big.bin", data, 5000);
    free(data);
}
END_TEST

/* The log line of request i (0-based) into out. */
static void log_line(const mb_test_server *s, int i, char *out, size_t n)
{
    char all[8192], *p = all;
    mb_test_stats_list(s, "log", all, sizeof all);
    while (i-- > 0 && p)
        p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    ck_assert_ptr_nonnull(p);
    snprintf(out, n, "%.*s", (int)strcspn(p, "\n"), p);
}

START_TEST(multipart_round_trip)
{
    char *data, line[512], id[256];
    s3_anonymous();
    mb_test_reset(&plain);
    ck_assert_int_eq(upload("s3://bucket/dir/multi.bin", 2600, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "POST"), 2); /* initiate, complete */
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 3);
    ck_assert_int_eq(mb_test_requests(&plain, "DELETE"), 0);
    assert_object(&plain, "/bucket/dir/multi.bin", data, 2600);
    /* The order and the queries: parts numbered from 1, one upload id. */
    log_line(&plain, 0, line, sizeof line);
    ck_assert_str_eq(line, "POST /bucket/dir/multi.bin?uploads=");
    log_line(&plain, 1, line, sizeof line);
    ck_assert_int_eq(sscanf(line, "PUT /bucket/dir/multi.bin?partNumber=1&uploadId=%255s", id), 1);
    for (int i = 2; i <= 3; i++) {
        char want[512];
        log_line(&plain, i, line, sizeof line);
        snprintf(want, sizeof want, "PUT /bucket/dir/multi.bin?partNumber=%d&uploadId=%s", i, id);
        ck_assert_str_eq(line, want);
    }
    log_line(&plain, 4, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "POST /bucket/dir/multi.bin?uploadId="));
    free(data);
}
END_TEST

START_TEST(multipart_of_whole_parts)
{
    char *data;
    s3_anonymous();
    mb_test_reset(&plain);
    ck_assert_int_eq(upload("s3://bucket/exact.bin", 3072, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 3); /* no empty fourth part */
    assert_object(&plain, "/bucket/exact.bin", data, 3072);
    free(data);
}
END_TEST

/* A part refused with 503 is sent again, its own bytes from its own
 * offset (not the file's start, not where the failed attempt stopped). */
START_TEST(part_retried_from_its_offset)
{
    char *data;
    s3_anonymous();
    mb_test_reset(&plain);
    mb_test_fault(&plain, "503", 1, "PUT");
    ck_assert_int_eq(upload("s3://bucket/retried.bin", 2600, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 4);
    assert_object(&plain, "/bucket/retried.bin", data, 2600);
    free(data);
}
END_TEST

START_TEST(failed_part_aborts_the_upload)
{
    char *data, log[8192];
    s3_anonymous();
    mb_test_reset(&plain);
    mb_test_fault(&plain, "403", 1, "PUT");
    ck_assert_int_eq(upload("s3://bucket/aborted.bin", 2600, 1024, &data), MB_ERR_IO);
    /* The part's error, not the abort's. */
    ck_assert_ptr_nonnull(strstr(mb_error_message(),
                                 "cannot PUT s3://bucket/aborted.bin: HTTP 403: AccessDenied"));
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 1);
    ck_assert_int_eq(mb_test_requests(&plain, "DELETE"), 1);
    mb_test_stats_list(&plain, "log", log, sizeof log);
    ck_assert_ptr_nonnull(strstr(log, "DELETE /bucket/aborted.bin?uploadId="));
    ck_assert_int_eq(mb_test_http(&plain, "GET", "/bucket/aborted.bin", NULL, 0, NULL), 404);
    free(data);
}
END_TEST

START_TEST(too_many_parts)
{
    mb_url u;
    mb_url_opts o = opts(1024);
    char *data;
    FILE *fp = file_of(10, &data);
    s3_anonymous();
    mb_test_reset(&plain);
    ck_assert_int_eq(mb_url_parse("s3://bucket/huge.bin", &u), MB_OK);
    /* 10001 parts: refused before any part is read or sent. */
    ck_assert_int_eq(mb_upload(&u, fp, 10001 * 1024ull, &o), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot upload s3://bucket/huge.bin in 10001 "
                                                     "parts (at most 10000): raise --part-size"));
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 0);
    /* An upload started before the count was known is not left behind. */
    ck_assert_int_eq(mb_test_requests(&plain, "DELETE"), mb_test_requests(&plain, "POST"));
    mb_url_free(&u);
    fclose(fp);
    free(data);
}
END_TEST

/* Fetch url into memory through a signed GET. */
static void assert_signed_object(const char *url, const char *want, size_t n)
{
    mb_url u;
    mb_url_opts o = opts(1 << 20);
    mb_request q = {.u = &u, .o = &o, .method = "GET", .kind = MB_ERR_INPUT};
    ck_assert_int_eq(mb_url_parse(url, &u), MB_OK);
    ck_assert_int_eq(u.auth, MB_AUTH_SIGV4);
    q.h = mb_request_handle();
    ck_assert_int_eq(mb_request_run(&q), MB_OK); /* no sink: the start is in q.text */
    ck_assert_uint_eq(q.text_len, n);
    ck_assert_int_eq(memcmp(q.text, want, n), 0);
    curl_easy_cleanup(q.h);
    mb_url_free(&u);
}

START_TEST(sigv4_multipart_s3)
{
    char *data;
    mb_test_reset(&sigv4);
    setenv("AWS_ENDPOINT_URL", sigv4.url, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDMPIBATCHTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "mpibatch/Secret+Key", 1);
    ck_assert_int_eq(upload("s3://bucket/signed.bin", 2600, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&sigv4, "PUT"), 3);
    ck_assert_int_eq(mb_test_requests(&sigv4, "POST"), 2);
    assert_signed_object("s3://bucket/signed.bin", data, 2600);
    free(data);
    /* A wrong secret stops at the initiation: no part is sent. */
    mb_test_reset(&sigv4);
    setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret", 1);
    ck_assert_int_eq(upload("s3://bucket/signed.bin", 2600, 1024, &data), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot POST s3://bucket/signed.bin: "
                                                     "HTTP 403: SignatureDoesNotMatch"));
    ck_assert_int_eq(mb_test_requests(&sigv4, "PUT"), 0);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    free(data);
}
END_TEST

START_TEST(sigv4_multipart_gcs_hmac)
{
    char *data;
    mb_test_reset(&sigv4);
    setenv("GCS_ENDPOINT_URL", sigv4.url, 1);
    setenv("GS_ACCESS_KEY_ID", "AKIDMPIBATCHTEST", 1);
    setenv("GS_SECRET_ACCESS_KEY", "mpibatch/Secret+Key", 1);
    ck_assert_int_eq(upload("gs://bucket/gcs.bin", 2100, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&sigv4, "PUT"), 3);
    assert_signed_object("gs://bucket/gcs.bin", data, 2100);
    unsetenv("GS_ACCESS_KEY_ID");
    unsetenv("GS_SECRET_ACCESS_KEY");
    free(data);
}
END_TEST

/* Azure (a SAS URL): Put Block for each block with fixed-width ids, then
 * Put Block List naming them in order (the test server stores that list
 * as the object, which is what is checked here). */
START_TEST(azure_blocks)
{
    char url[256], *data, line[512];
    mb_test_body b;
    static const char *const ids[] = {"bXBpYmF0Y2gwMDAwMDAwMDAw", "bXBpYmF0Y2gwMDAwMDAwMDAx",
                                      "bXBpYmF0Y2gwMDAwMDAwMDAy"};
    mb_test_reset(&plain);
    snprintf(url, sizeof url, "%s/container/blob.bin?sv=2021-08-06&sig=c2lnbmF0dXJl", plain.url);
    ck_assert_int_eq(upload(url, 2500, 1024, &data), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 4);
    ck_assert_int_eq(mb_test_requests(&plain, "POST"), 0);
    for (int i = 0; i < 3; i++) {
        char want[512];
        log_line(&plain, i, line, sizeof line);
        snprintf(want, sizeof want, "PUT /container/blob.bin?blockid=%s&comp=block"
                                    "&sv=2021-08-06&sig=c2lnbmF0dXJl", ids[i]);
        ck_assert_str_eq(line, want);
    }
    log_line(&plain, 3, line, sizeof line);
    ck_assert_str_eq(line, "PUT /container/blob.bin?comp=blocklist&sv=2021-08-06&sig=c2lnbmF0dXJl");
    ck_assert_int_eq(mb_test_http(&plain, "GET", "/container/blob.bin", NULL, 0, &b), 200);
    ck_assert_str_eq(b.data, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
                             "<Latest>bXBpYmF0Y2gwMDAwMDAwMDAw</Latest>"
                             "<Latest>bXBpYmF0Y2gwMDAwMDAwMDAx</Latest>"
                             "<Latest>bXBpYmF0Y2gwMDAwMDAwMDAy</Latest></BlockList>");
    free(b.data);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("upload");
    TCase *tc = tcase_create("upload");
    char *sv[] = {"--sigv4", "AKIDMPIBATCHTEST:mpibatch/Secret+Key", NULL};
    int status;
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("GOOGLE_OAUTH_ACCESS_TOKEN");
    setenv("NO_PROXY", "127.0.0.1", 1);
    mb_test_server_start(&plain, NULL);
    mb_test_server_start(&sigv4, sv);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, single_put_up_to_part_size);
    tcase_add_test(tc, plain_http_is_always_one_put);
    tcase_add_test(tc, multipart_round_trip);
    tcase_add_test(tc, multipart_of_whole_parts);
    tcase_add_test(tc, part_retried_from_its_offset);
    tcase_add_test(tc, failed_part_aborts_the_upload);
    tcase_add_test(tc, too_many_parts);
    tcase_add_test(tc, sigv4_multipart_s3);
    tcase_add_test(tc, sigv4_multipart_gcs_hmac);
    tcase_add_test(tc, azure_blocks);
    suite_add_tcase(s, tc);
    status = mb_test_run(s);
    mb_test_servers_stop_all();
    return status;
}
