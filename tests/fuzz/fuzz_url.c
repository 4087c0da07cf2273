/* fuzz_url.c - path and URL resolution, redaction, encoding, scrubbing.
 * Credentials are set so that every signing branch runs; no secret may
 * ever appear in a redacted or scrubbed text, and redaction into a short
 * buffer gives a prefix of the full result. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "io/url.h"
#include "fuzz.h"

#define SECRET "wJalrXUtnFEMIK7MDENGbPxRfiCYzzzSECRET"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIAFUZZ", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEFUZZTOKEN", 1);
    /* base64 of an account key, decoded by the shared-key path */
    setenv("AZURE_STORAGE_KEY", "ZnV6emluZy1henVyZS1rZXktZnV6emluZy1henVyZS1rZXk=", 1);
    setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.FUZZBEARERTOKEN", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), *red = mb_url_redacted(text), *enc;
    char small[24], scrubbed[512];
    mb_url u;
    size_t full;
    fuzz_check(red != NULL, "mb_url_redacted failed");
    full = mb_url_redact(text, small, sizeof small);
    fuzz_check(full == strlen(red), "mb_url_redact's length differs from the full text");
    fuzz_check(strncmp(small, red, sizeof small - 1) == 0, "a truncated redaction is no prefix");
    (void)mb_url_is_remote(text);
    if ((enc = mb_url_encode(text, data[0 % (size ? size : 1)] & 1)) != NULL) {
        fuzz_check(strlen(enc) >= strlen(text), "encoding shortened the text");
        free(enc);
    }
    if (mb_url_parse(text, &u) == MB_OK) {
        fuzz_check(u.display != NULL, "a parsed URL without its display form");
        /* The secret may be shown only where the user typed it. */
        fuzz_check(strstr(text, SECRET) || !strstr(u.display, SECRET),
                   "the display form shows the secret");
        mb_url_scrub(&u, text, scrubbed, sizeof scrubbed);
        fuzz_check(!u.secret || strcmp(u.secret, SECRET) != 0 || !strstr(scrubbed, SECRET),
                   "scrubbed text shows the secret");
        mb_url_free(&u);
    }
    mb_error_clear();
    free(red);
    free(text);
    return 0;
}
