/* test_url.c - classifying paths, resolving URLs, redacting secrets. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "io/url.h"
#include "unit.h"

/* The variables mb_url_parse reads, cleared before each test. */
static const char *const vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_KEY", "AZURE_STORAGE_BLOB_ENDPOINT", "GCS_ENDPOINT_URL",
    "GOOGLE_OAUTH_ACCESS_TOKEN", "GS_ACCESS_KEY_ID", "GS_SECRET_ACCESS_KEY", NULL
};

static void clear_env(void)
{
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
}

START_TEST(classifies_paths)
{
    ck_assert(!mb_url_is_remote("docs.h5"));
    ck_assert(!mb_url_is_remote("/data/a?b=c"));
    ck_assert(!mb_url_is_remote("file:///data/docs.h5"));
    ck_assert(!mb_url_is_remote("C:x"));
    ck_assert(!mb_url_is_remote(NULL));
    ck_assert(mb_url_is_remote("https://example.org/m.h5"));
    ck_assert(mb_url_is_remote("s3://b/k"));
    ck_assert(mb_url_is_remote("az://a/c/b"));
    ck_assert(mb_url_is_remote("gs://b/o"));
    ck_assert(mb_url_is_remote("ftp://x/y")); /* so that parsing rejects it */
}
END_TEST

static const struct { const char *in, *out; } redactions[] = {
    {"https://acct.blob.core.windows.net/data/docs.jsonl?sv=2021-08-06&se=2030&sp=r&sig=abc%2Bdef",
     "https://acct.blob.core.windows.net/data/docs.jsonl?sv=2021-08-06&se=2030&sp=r&sig=REDACTED"},
    {"https://u:pa55@host/x?token=t0k&x=1#frag", "https://u:REDACTED@host/x?token=REDACTED&x=REDACTED#frag"},
    {"https://host/p?X-Amz-Signature=ff&X-Amz-Credential=AKIA", "https://host/p?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED"},
    {"https://host/p?uploads&partNumber=2", "https://host/p?uploads&partNumber=2"},
    {"s3://bucket/key", "s3://bucket/key"},
    {"/local/file?sig=notaurl", "/local/file?sig=notaurl"},
    {"https://user@host/p", "https://user@host/p"},
};

START_TEST(redacts)
{
    char buf[256];
    size_t n = mb_url_redact(redactions[_i].in, buf, sizeof buf);
    ck_assert_str_eq(buf, redactions[_i].out);
    ck_assert_uint_eq(n, strlen(redactions[_i].out));
}
END_TEST

START_TEST(redact_truncates_safely)
{
    char buf[12];
    size_t n = mb_url_redact("https://h/p?sig=secretvalue", buf, sizeof buf);
    ck_assert_uint_eq(strlen(buf), sizeof buf - 1);
    ck_assert_uint_eq(n, strlen("https://h/p?sig=REDACTED"));
    ck_assert_ptr_null(strstr(buf, "secret"));
}
END_TEST

START_TEST(redacts_json)
{
    cJSON *spec = cJSON_Parse("{\"input\":\"https://h/d?sig=s3cr3t\",\"out\":\"o.h5\","
                              "\"list\":[\"gs://b/o\",\"http://u:pw@h/\"]}");
    char *text;
    ck_assert_int_eq(mb_url_redact_json(spec), MB_OK);
    text = cJSON_PrintUnformatted(spec);
    ck_assert_str_eq(text, "{\"input\":\"https://h/d?sig=REDACTED\",\"out\":\"o.h5\","
                           "\"list\":[\"gs://b/o\",\"http://u:REDACTED@h/\"]}");
    free(text);
    cJSON_Delete(spec);
}
END_TEST

START_TEST(s3_aws_hosts)
{
    mb_url u;
    clear_env();
    setenv("AWS_REGION", "eu-west-1", 1);
    ck_assert_int_eq(mb_url_parse("s3://my-bucket/arxiv/docs 1.h5", &u), MB_OK);
    ck_assert_int_eq(u.scheme, MB_URL_S3);
    ck_assert_int_eq(u.auth, MB_AUTH_NONE);
    ck_assert_str_eq(u.base, "https://my-bucket.s3.eu-west-1.amazonaws.com/arxiv/docs%201.h5");
    mb_url_free(&u);
    /* Dotted buckets go path-style: the wildcard certificate has one level. */
    ck_assert_int_eq(mb_url_parse("s3://my.bucket/k", &u), MB_OK);
    ck_assert_str_eq(u.base, "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
    mb_url_free(&u);
}
END_TEST

START_TEST(s3_endpoint_and_keys)
{
    mb_url u;
    clear_env();
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4568/", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_SESSION_TOKEN", "session-token-value", 1);
    ck_assert_int_eq(mb_url_parse("s3://bkt/a/b.h5", &u), MB_OK);
    ck_assert_str_eq(u.base, "http://127.0.0.1:4568/bkt/a/b.h5");
    ck_assert_int_eq(u.auth, MB_AUTH_SIGV4);
    ck_assert_str_eq(u.sigv4, "aws:amz:us-east-1:s3");
    ck_assert_str_eq(u.user, "AKIDEXAMPLE");
    ck_assert_str_eq(u.token, "session-token-value");
    ck_assert_str_eq(u.display, "s3://bkt/a/b.h5");
    mb_url_free(&u);
}
END_TEST

START_TEST(azure_forms)
{
    mb_url u;
    clear_env();
    ck_assert_int_eq(mb_url_parse("https://acct.blob.core.windows.net/c/b?sv=1&sig=x", &u), MB_OK);
    ck_assert_int_eq(u.scheme, MB_URL_AZURE);
    ck_assert_str_eq(u.base, "https://acct.blob.core.windows.net/c/b");
    ck_assert_str_eq(u.query, "sv=1&sig=x");
    ck_assert_str_eq(u.display, "https://acct.blob.core.windows.net/c/b?sv=1&sig=REDACTED");
    mb_url_free(&u);
    /* An emulator's address is an Azure blob by its SAS. */
    ck_assert_int_eq(mb_url_parse("http://127.0.0.1:10000/dev/c/b?sv=1&sp=r&sig=x", &u), MB_OK);
    ck_assert_int_eq(u.scheme, MB_URL_AZURE);
    mb_url_free(&u);
    setenv("AZURE_STORAGE_SAS_TOKEN", "?sv=2&sig=y", 1);
    ck_assert_int_eq(mb_url_parse("az://acct/results/labels.h5", &u), MB_OK);
    ck_assert_str_eq(u.base, "https://acct.blob.core.windows.net/results/labels.h5");
    ck_assert_str_eq(u.query, "sv=2&sig=y");
    ck_assert_str_eq(u.account, "acct");
    mb_url_free(&u);
    unsetenv("AZURE_STORAGE_SAS_TOKEN");
    setenv("AZURE_STORAGE_KEY", "a2V5a2V5", 1); /* "keykey" */
    setenv("AZURE_STORAGE_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1", 1);
    ck_assert_int_eq(mb_url_parse("az://devstoreaccount1/c/d/e", &u), MB_OK);
    ck_assert_str_eq(u.base, "http://127.0.0.1:10000/devstoreaccount1/c/d/e");
    ck_assert_int_eq(u.auth, MB_AUTH_SHAREDKEY);
    ck_assert_uint_eq(u.secret_len, 6);
    ck_assert(memcmp(u.secret, "keykey", 6) == 0);
    mb_url_free(&u);
    setenv("AZURE_STORAGE_KEY", "not base64!", 1);
    ck_assert_int_eq(mb_url_parse("az://a/c/b", &u), MB_ERR_USAGE);
    ck_assert_ptr_null(strstr(mb_error_message(), "not base64!"));
}
END_TEST

START_TEST(gcs_forms)
{
    mb_url u;
    clear_env();
    setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.token", 1);
    ck_assert_int_eq(mb_url_parse("gs://my-bucket/reports/euler.json", &u), MB_OK);
    ck_assert_str_eq(u.base, "https://storage.googleapis.com/my-bucket/reports/euler.json");
    ck_assert_int_eq(u.auth, MB_AUTH_BEARER);
    mb_url_free(&u);
    unsetenv("GOOGLE_OAUTH_ACCESS_TOKEN");
    setenv("GS_ACCESS_KEY_ID", "GOOG1E", 1);
    setenv("GS_SECRET_ACCESS_KEY", "hmac-secret", 1);
    ck_assert_int_eq(mb_url_parse("gs://b/o", &u), MB_OK);
    ck_assert_int_eq(u.auth, MB_AUTH_SIGV4);
    ck_assert_str_eq(u.sigv4, "aws:amz:auto:s3");
    mb_url_free(&u);
}
END_TEST

static const char *const bad_urls[] = {
    "s3://bucket", "s3:///key", "s3://bucket/", "az://acct/container", "az://acct//b",
    "gs://bucket", "ftp://host/file?sig=hidden",
};

START_TEST(rejects)
{
    mb_url u;
    clear_env();
    ck_assert_int_eq(mb_url_parse(bad_urls[_i], &u), MB_ERR_USAGE);
    ck_assert_ptr_null(strstr(mb_error_message(), "hidden"));
}
END_TEST

START_TEST(local_paths)
{
    mb_url u;
    ck_assert_int_eq(mb_url_parse("file:///data/x.h5", &u), MB_OK);
    ck_assert_int_eq(u.scheme, MB_URL_FILE);
    ck_assert_str_eq(u.path, "/data/x.h5");
    mb_url_free(&u);
    ck_assert_int_eq(mb_url_parse("rel/x.h5", &u), MB_OK);
    ck_assert_str_eq(u.path, "rel/x.h5");
    mb_url_free(&u);
}
END_TEST

START_TEST(scrubs_server_text)
{
    mb_url u;
    char out[256];
    clear_env();
    setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.secret-token", 1);
    ck_assert_int_eq(mb_url_parse("gs://b/o", &u), MB_OK);
    mb_url_scrub(&u, "bad token ya29.secret-token; MAC "
                 "'q2Qk9hQy3mJ0S0b2o0mZlq0tV4Qw6bq8Zg1xQ6a2f9E=' differs", out, sizeof out);
    ck_assert_str_eq(out, "bad token REDACTED; MAC 'REDACTED' differs");
    mb_url_free(&u);
}
END_TEST

START_TEST(encodes)
{
    char *e = mb_url_encode("a b/c~d+e=", true);
    ck_assert_str_eq(e, "a%20b/c~d%2Be%3D");
    free(e);
    e = mb_url_encode("x/y", false);
    ck_assert_str_eq(e, "x%2Fy");
    free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("url");
    tcase_add_test(tc, classifies_paths);
    tcase_add_loop_test(tc, redacts, 0, sizeof redactions / sizeof *redactions);
    tcase_add_test(tc, redact_truncates_safely);
    tcase_add_test(tc, redacts_json);
    tcase_add_test(tc, s3_aws_hosts);
    tcase_add_test(tc, s3_endpoint_and_keys);
    tcase_add_test(tc, azure_forms);
    tcase_add_test(tc, gcs_forms);
    tcase_add_loop_test(tc, rejects, 0, sizeof bad_urls / sizeof *bad_urls);
    tcase_add_test(tc, local_paths);
    tcase_add_test(tc, scrubs_server_text);
    tcase_add_test(tc, encodes);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
