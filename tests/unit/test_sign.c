/* test_sign.c - the Azure shared-key string to sign and HMAC-SHA256. */
#include <stdlib.h>
#include <string.h>

#include "io/sign.h"
#include "unit.h"

/* RFC 4231, test case 2, in base64. */
START_TEST(hmac_rfc4231)
{
    char out[MB_SIGN_B64_LEN];
    ck_assert_int_eq(mb_sign_hmac_b64("Jefe", 4, "what do ya want for nothing?", out), MB_OK);
    ck_assert_str_eq(out, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}
END_TEST

/* Put Block on the emulator's path-style address: headers sorted, the
 * account named twice in the resource, query names lowercased, values
 * decoded, parameters sorted. */
START_TEST(put_block_string)
{
    const char *ms[] = {"x-ms-version:2021-08-06", "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT"};
    char *s = mb_sign_azure_string("PUT", 1024, NULL, ms, 2, "devstoreaccount1",
                                   "/devstoreaccount1/c/b%20x", "comp=block&blockID=bWI%3D");
    ck_assert_str_eq(s, "PUT\n\n\n1024\n\n\n\n\n\n\n\n\n"
                        "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-version:2021-08-06\n"
                        "/devstoreaccount1/devstoreaccount1/c/b%20x\nblockid:bWI=\ncomp:block");
    free(s);
}
END_TEST

/* A GET has an empty Content-Length line; the content type has its own. */
START_TEST(get_and_content_type)
{
    const char *ms[] = {"x-ms-range:bytes=0-9"};
    char *s = mb_sign_azure_string("GET", 0, NULL, ms, 1, "acct", "/c/b", NULL);
    ck_assert_str_eq(s, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-range:bytes=0-9\n/acct/c/b");
    free(s);
    s = mb_sign_azure_string("PUT", 5, "application/xml", NULL, 0, "acct", "/c/b",
                             "comp=blocklist");
    ck_assert_str_eq(s, "PUT\n\n\n5\n\napplication/xml\n\n\n\n\n\n\n/acct/c/b\ncomp:blocklist");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tcase_create("sign");
    tcase_add_test(tc, hmac_rfc4231);
    tcase_add_test(tc, put_block_string);
    tcase_add_test(tc, get_and_content_type);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
