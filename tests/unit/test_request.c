/* test_request.c - one HTTP request (src/io/request.c) against
 * tests/io/objserver.py: whole and ranged GETs, a server that ignores
 * Range, a GET past the end, retries of transient statuses and dropped or
 * cut connections (resumed from the byte reached), giving up with the
 * status and the count of retries in the message, failures that are not
 * retried, PUT bodies from memory and from a slice of a file (sent whole
 * again on a retry), a sink that fails, AWS SigV4 and bearer tokens where
 * the server checks them, and the XML error text of an answer. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/request.h"
#include "unit_objserver.h"

static mb_test_server plain, norange, sigv4, bearer;

enum { OBJ = 100000 };

/* A resolved URL, options and a request to it that a test fills in. */
typedef struct fixture {
    mb_url u;
    mb_url_opts o;
    mb_request q;
    mb_test_body got;   /* what the sink received */
} fixture;

static size_t to_body(void *ctx, const char *data, size_t n)
{
    return mb_test_body_add(data, 1, n, ctx);
}

/* f for method at server s's path (or the URL text when s is NULL), with
 * retries that wait briefly. */
static void setup_req(fixture *f, const mb_test_server *s, const char *path, const char *method)
{
    char text[1024];
    memset(f, 0, sizeof *f);
    if (s)
        snprintf(text, sizeof text, "%s%s", s->url, path);
    else
        snprintf(text, sizeof text, "%s", path);
    ck_assert_int_eq(mb_url_parse(text, &f->u), MB_OK);
    mb_url_opts_default(&f->o);
    f->o.timeout = 10;
    f->q = (mb_request){.u = &f->u, .o = &f->o, .method = method, .kind = MB_ERR_INPUT,
                        .sink = to_body, .sink_ctx = &f->got};
    f->q.h = mb_request_handle();
    ck_assert_ptr_nonnull(f->q.h);
}

static void teardown_req(fixture *f)
{
    curl_easy_cleanup(f->q.h);
    mb_url_free(&f->u);
    free(f->got.data);
}

/* /_reset forgets objects too, so seeding happens after it. */
static char *fresh(const mb_test_server *s, const char *path)
{
    char *data = mb_test_pattern(OBJ, 7);
    mb_test_reset(s);
    ck_assert_int_eq(mb_test_http(s, "PUT", path, data, OBJ, NULL), 200);
    return data;
}

static void assert_bytes(const mb_test_body *b, const char *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    ck_assert_int_eq(memcmp(b->data, want, n), 0);
}

START_TEST(get_whole_object)
{
    fixture f;
    char *data = fresh(&plain, "/b/whole");
    setup_req(&f, &plain, "/b/whole", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(f.q.status, 200);
    ck_assert_uint_eq(f.q.got, OBJ);
    assert_bytes(&f.got, data, OBJ);
    /* The ETag header, quoted as the server sent it. */
    ck_assert_uint_eq(strlen(f.q.etag), 34);
    ck_assert_int_eq(f.q.etag[0], '"');
    ck_assert(!f.q.past_end && !f.q.stopped);
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(get_range)
{
    fixture f;
    char ranges[256];
    char *data = fresh(&plain, "/b/range");
    setup_req(&f, &plain, "/b/range", "GET");
    f.q.from = 1000;
    f.q.to = 5000;
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(f.q.status, 206);
    ck_assert_uint_eq(f.q.total, OBJ); /* from Content-Range */
    assert_bytes(&f.got, data + 1000, 4000);
    mb_test_stats_list(&plain, "ranges", ranges, sizeof ranges);
    ck_assert_str_eq(ranges, "bytes=1000-4999\n");
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(get_from_offset_to_end)
{
    fixture f;
    char ranges[256];
    char *data = fresh(&plain, "/b/tail");
    setup_req(&f, &plain, "/b/tail", "GET");
    f.q.from = OBJ - 10;
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    assert_bytes(&f.got, data + OBJ - 10, 10);
    mb_test_stats_list(&plain, "ranges", ranges, sizeof ranges);
    ck_assert_str_eq(ranges, "bytes=99990-\n");
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(get_past_end)
{
    fixture f;
    char *data = fresh(&plain, "/b/short");
    setup_req(&f, &plain, "/b/short", "GET");
    f.q.from = OBJ;
    f.q.to = OBJ + 100;
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK); /* 416: nothing there, not an error */
    ck_assert(f.q.past_end);
    ck_assert_uint_eq(f.q.got, 0);
    ck_assert_uint_eq(f.got.len, 0);
    teardown_req(&f);
    free(data);
}
END_TEST

/* A server that answers a Range request with the whole object: the bytes
 * before `from` are skipped and the answer is cut at `to`. */
START_TEST(server_ignoring_range)
{
    fixture f;
    char *data = fresh(&norange, "/b/all");
    setup_req(&f, &norange, "/b/all", "GET");
    f.q.from = 3000;
    f.q.to = 7000;
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(f.q.status, 200);
    ck_assert(f.q.stopped);
    ck_assert_uint_eq(f.q.got, 4000);
    assert_bytes(&f.got, data + 3000, 4000);
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(transient_status_is_retried)
{
    fixture f;
    char *data = fresh(&plain, "/b/retry");
    mb_test_fault(&plain, "503", 2, "GET");
    setup_req(&f, &plain, "/b/retry", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 3);
    /* Nothing of the error answers reached the sink. */
    assert_bytes(&f.got, data, OBJ);
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(gives_up_with_the_status)
{
    fixture f;
    const char *msg;
    char *data = fresh(&plain, "/b/busy");
    mb_test_fault(&plain, "503", 10, "GET");
    setup_req(&f, &plain, "/b/busy", "GET");
    f.o.retries = 2;
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_INPUT); /* the request's kind */
    msg = mb_error_message();
    ck_assert_ptr_nonnull(strstr(msg, "cannot GET http://127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(msg, "/b/busy: HTTP 503: SlowDown: injected fault"));
    ck_assert_ptr_nonnull(strstr(msg, "(gave up after 2 retries)"));
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 3);
    ck_assert_uint_eq(f.got.len, 0);
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(permanent_status_is_not_retried)
{
    fixture f;
    char *data = fresh(&plain, "/b/denied");
    mb_test_fault(&plain, "403", 1, "GET");
    setup_req(&f, &plain, "/b/denied", "GET");
    f.q.kind = MB_ERR_IO;
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "HTTP 403: AccessDenied: injected fault"));
    ck_assert_ptr_null(strstr(mb_error_message(), "gave up"));
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 1);
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(missing_object)
{
    fixture f;
    mb_test_reset(&plain);
    setup_req(&f, &plain, "/b/none", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_INPUT);
    ck_assert_int_eq(f.q.status, 404);
    ck_assert_ptr_nonnull(
        strstr(mb_error_message(), "/b/none: HTTP 404: NoSuchKey: The specified key does not exist."));
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 1);
    teardown_req(&f);
}
END_TEST

/* A connection cut half-way through the body: the next attempt asks for
 * the rest only, and the bytes come out whole and once. */
START_TEST(cut_transfer_resumes)
{
    fixture f;
    char ranges[256];
    char *data = fresh(&plain, "/b/cut");
    mb_test_fault(&plain, "cut", 1, "GET");
    setup_req(&f, &plain, "/b/cut", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 2);
    assert_bytes(&f.got, data, OBJ);
    mb_test_stats_list(&plain, "ranges", ranges, sizeof ranges);
    ck_assert_str_eq(ranges, "bytes=50000-\n");
    teardown_req(&f);
    free(data);
}
END_TEST

START_TEST(dropped_connection_is_retried)
{
    fixture f;
    char *data = fresh(&plain, "/b/drop");
    mb_test_fault(&plain, "drop", 1, "GET");
    setup_req(&f, &plain, "/b/drop", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 2);
    assert_bytes(&f.got, data, OBJ);
    teardown_req(&f);
    free(data);
}
END_TEST

/* Read back path from s (plain HTTP) and compare. */
static void assert_object(const mb_test_server *s, const char *path, const char *want, size_t n)
{
    mb_test_body b;
    ck_assert_int_eq(mb_test_http(s, "GET", path, NULL, 0, &b), 200);
    assert_bytes(&b, want, n);
    free(b.data);
}

START_TEST(put_from_memory)
{
    fixture f;
    const char body[] = "hello, object store";
    mb_test_reset(&plain);
    setup_req(&f, &plain, "/b/mem", "PUT");
    f.q.kind = MB_ERR_IO;
    f.q.mem = body;
    f.q.body_len = strlen(body);
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(f.q.status, 200);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 1);
    assert_object(&plain, "/b/mem", body, strlen(body));
    teardown_req(&f);
}
END_TEST

/* A slice of a file as the body; the retry after a 503 sends the same
 * slice again from its start. */
START_TEST(put_file_slice_retried)
{
    fixture f;
    char *data = mb_test_pattern(OBJ, 3);
    FILE *fp = tmpfile();
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, OBJ, fp), OBJ);
    mb_test_reset(&plain);
    mb_test_fault(&plain, "503", 1, "PUT");
    setup_req(&f, &plain, "/b/slice", "PUT");
    f.q.kind = MB_ERR_IO;
    f.q.fp = fp;
    f.q.body_off = 12345;
    f.q.body_len = 40000;
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    ck_assert_int_eq(mb_test_requests(&plain, "PUT"), 2);
    assert_object(&plain, "/b/slice", data + 12345, 40000);
    fclose(fp);
    teardown_req(&f);
    free(data);
}
END_TEST

static size_t refuse(void *ctx, const char *data, size_t n)
{
    return n / 2;
}

START_TEST(sink_failure_is_an_io_error)
{
    fixture f;
    char *data = fresh(&plain, "/b/sink");
    setup_req(&f, &plain, "/b/sink", "GET");
    f.q.sink = refuse;
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot store the bytes of http://127.0.0.1:"));
    ck_assert_int_eq(mb_test_requests(&plain, "GET"), 1); /* not retried */
    teardown_req(&f);
    free(data);
}
END_TEST

static void s3_env(const char *secret)
{
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "%s/", sigv4.url); /* a trailing slash is trimmed */
    setenv("AWS_ENDPOINT_URL", endpoint, 1);
    setenv("AWS_REGION", "eu-central-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDMPIBATCHTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
}

/* The server recomputes the signature of every request. */
START_TEST(sigv4_signed_round_trip)
{
    fixture f;
    const char body[] = "signed bytes";
    mb_test_reset(&sigv4);
    s3_env("mpibatch/Secret+Key");
    setup_req(&f, NULL, "s3://bucket/dir/a b+c.txt", "PUT");
    ck_assert_int_eq(f.u.auth, MB_AUTH_SIGV4);
    f.q.kind = MB_ERR_IO;
    f.q.mem = body;
    f.q.body_len = strlen(body);
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    teardown_req(&f);
    setup_req(&f, NULL, "s3://bucket/dir/a b+c.txt", "GET");
    f.q.from = 7;
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK); /* a signed Range request */
    assert_bytes(&f.got, "bytes", 5);
    teardown_req(&f);
    ck_assert_int_eq(mb_test_requests(&sigv4, "PUT"), 1);
    ck_assert_int_eq(mb_test_requests(&sigv4, "GET"), 1);
}
END_TEST

START_TEST(sigv4_wrong_secret_fails_at_once)
{
    fixture f;
    mb_test_reset(&sigv4);
    s3_env("not-the-secret-but-long-enough");
    setup_req(&f, NULL, "s3://bucket/x.bin", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot GET s3://bucket/x.bin: HTTP 403: "
                                                     "SignatureDoesNotMatch"));
    ck_assert_ptr_null(strstr(mb_error_message(), "not-the-secret"));
    ck_assert_int_eq(mb_test_requests(&sigv4, "GET"), 1);
    teardown_req(&f);
    /* Without credentials the request goes unsigned and is refused. */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setup_req(&f, NULL, "s3://bucket/x.bin", "GET");
    ck_assert_int_eq(f.u.auth, MB_AUTH_NONE);
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "HTTP 403: AccessDenied"));
    teardown_req(&f);
}
END_TEST

START_TEST(bearer_token)
{
    fixture f;
    const char body[] = "for gcs";
    mb_test_reset(&bearer);
    setenv("GCS_ENDPOINT_URL", bearer.url, 1);
    setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.unit-bearer-token", 1);
    setup_req(&f, NULL, "gs://bucket/obj", "PUT");
    ck_assert_int_eq(f.u.auth, MB_AUTH_BEARER);
    f.q.mem = body;
    f.q.body_len = strlen(body);
    ck_assert_int_eq(mb_request_run(&f.q), MB_OK);
    teardown_req(&f);
    setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.expired-token", 1);
    setup_req(&f, NULL, "gs://bucket/obj", "GET");
    ck_assert_int_eq(mb_request_run(&f.q), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot GET gs://bucket/obj: HTTP 401: "
                                                     "AuthenticationRequired: bad bearer token"));
    ck_assert_ptr_null(strstr(mb_error_message(), "ya29"));
    teardown_req(&f);
    unsetenv("GOOGLE_OAUTH_ACCESS_TOKEN");
}
END_TEST

START_TEST(xml_and_failure_text)
{
    fixture f;
    char out[16];
    ck_assert(mb_request_xml("<A><UploadId>u-1</UploadId></A>", "UploadId", out, sizeof out));
    ck_assert_str_eq(out, "u-1");
    ck_assert(!mb_request_xml("<A><UploadId>u-1</A>", "UploadId", out, sizeof out));
    ck_assert(!mb_request_xml("<A/>", "Code", out, sizeof out));
    ck_assert(mb_request_xml("<Code>a-much-longer-code</Code>", "Code", out, sizeof out));
    ck_assert_str_eq(out, "a-much-longer-c"); /* truncated to fit */
    setup_req(&f, &plain, "/b/done", "POST");
    snprintf(f.q.text, sizeof f.q.text, "<Error><Code>InvalidPart</Code>"
                                        "<Message>part\nmismatch</Message></Error>");
    f.q.text_len = strlen(f.q.text);
    ck_assert_int_eq(mb_request_fail(&f.q, "complete the upload"), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot complete the upload at http://"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "/b/done: InvalidPart: part mismatch"));
    teardown_req(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("request");
    char *nr[] = {"--ignore-range", NULL};
    char *sv[] = {"--sigv4", "AKIDMPIBATCHTEST:mpibatch/Secret+Key", NULL};
    char *br[] = {"--bearer", "ya29.unit-bearer-token", NULL};
    int status;
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("GS_ACCESS_KEY_ID");
    unsetenv("GS_SECRET_ACCESS_KEY");
    /* Requests to 127.0.0.1 never go through a proxy. */
    setenv("NO_PROXY", "127.0.0.1", 1);
    mb_test_server_start(&plain, NULL);
    mb_test_server_start(&norange, nr);
    mb_test_server_start(&sigv4, sv);
    mb_test_server_start(&bearer, br);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_whole_object);
    tcase_add_test(tc, get_range);
    tcase_add_test(tc, get_from_offset_to_end);
    tcase_add_test(tc, get_past_end);
    tcase_add_test(tc, server_ignoring_range);
    tcase_add_test(tc, transient_status_is_retried);
    tcase_add_test(tc, gives_up_with_the_status);
    tcase_add_test(tc, permanent_status_is_not_retried);
    tcase_add_test(tc, missing_object);
    tcase_add_test(tc, cut_transfer_resumes);
    tcase_add_test(tc, dropped_connection_is_retried);
    tcase_add_test(tc, put_from_memory);
    tcase_add_test(tc, put_file_slice_retried);
    tcase_add_test(tc, sink_failure_is_an_io_error);
    tcase_add_test(tc, sigv4_signed_round_trip);
    tcase_add_test(tc, sigv4_wrong_secret_fails_at_once);
    tcase_add_test(tc, bearer_token);
    tcase_add_test(tc, xml_and_failure_text);
    suite_add_tcase(s, tc);
    status = mb_test_run(s);
    mb_test_servers_stop_all();
    return status;
}
