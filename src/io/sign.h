/* sign.h - Azure Blob shared-key signatures.
 *
 * S3 and GCS HMAC requests are signed by libcurl (CURLOPT_AWS_SIGV4); the
 * Azure shared-key scheme is computed here: HMAC-SHA256, keyed with the
 * decoded account key, of a string built from the request, sent as
 * "Authorization: SharedKey ACCOUNT:SIGNATURE" (docs/storage.md).
 */
#ifndef MPIBATCH_SIGN_H
#define MPIBATCH_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

/* Length of a base64 HMAC-SHA256 plus its NUL. */
#define MB_SIGN_B64_LEN 45

/* The string to sign (API version 2015-02-21 and later) for a request:
 * verb, body length (0 leaves the line empty), content type (or NULL),
 * the x-ms-* headers as "name:value" in any order, the account, the
 * request's URI path as sent (percent-encoded) and its query as sent
 * (or NULL).  The caller frees the result; NULL when out of memory. */
char *mb_sign_azure_string(const char *verb, uint64_t content_length, const char *content_type,
                           const char *const *ms_headers, size_t nheaders,
                           const char *account, const char *path, const char *query);

/* base64(HMAC-SHA256(key, text)) into out. */
mb_err mb_sign_hmac_b64(const void *key, size_t keylen, const char *text,
                        char out[MB_SIGN_B64_LEN]);

#endif
