/* url.h - what a path option names: a local file or an object at a URL.
 *
 * Every path option (--input, --model, --out, --report, job files) accepts
 * a URL as well as a file.  This module is pure text work: it classifies a
 * path, resolves a URL into the http(s) address that is requested plus the
 * credentials from the environment (docs/storage.md), and produces the
 * redacted form that is the only one ever shown to users.  The transfers
 * themselves are in urlio.h.
 *
 *   http://... https://...       plain HTTP(S); an https URL carrying a SAS
 *                                (sv= and sig=) or on *.blob.core.windows.net
 *                                is an Azure blob
 *   s3://bucket/key              Amazon S3 or an S3-compatible store, SigV4
 *   az://account/container/blob  Azure Blob, SAS token or shared key
 *   gs://bucket/object           Google Cloud Storage XML API
 *   file:///path, anything else  a local file
 */
#ifndef MPIBATCH_URL_H
#define MPIBATCH_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"

typedef enum mb_url_scheme {
    MB_URL_FILE,
    MB_URL_HTTP,   /* http or https, no storage API */
    MB_URL_S3,
    MB_URL_AZURE,
    MB_URL_GCS
} mb_url_scheme;

typedef enum mb_url_auth {
    MB_AUTH_NONE,     /* anonymous, or credentials already in the URL (SAS) */
    MB_AUTH_SIGV4,    /* AWS Signature V4 by libcurl (S3, GCS HMAC keys) */
    MB_AUTH_SHAREDKEY,/* Azure shared key, HMAC-SHA256 of the request */
    MB_AUTH_BEARER    /* OAuth 2 bearer token (GCS) */
} mb_url_auth;

/* A resolved URL.  Every string is owned by the struct (mb_url_free). */
typedef struct mb_url {
    mb_url_scheme scheme;
    mb_url_auth auth;
    char *path;      /* MB_URL_FILE: the local path */
    char *base;      /* the address requested, without query */
    char *query;     /* query added to every request (a SAS), or NULL */
    char *display;   /* the redacted text, for every message */
    char *account;   /* Azure: the storage account (shared key) */
    char *user;      /* SigV4 access key id */
    char *secret;    /* SigV4 secret, decoded Azure key, or bearer token */
    size_t secret_len;
    char *token;     /* AWS session token, or NULL */
    char *sigv4;     /* libcurl's CURLOPT_AWS_SIGV4, "aws:amz:REGION:s3" */
} mb_url;

/* True when path names a remote object: any "scheme://" except file://.
 * Unknown schemes count as remote so that mb_url_parse() rejects them
 * instead of reading a file named "ftp:". */
bool mb_url_is_remote(const char *path);

/* Resolve text into u, reading the credential and endpoint variables of
 * its scheme.  On success the caller owns u (mb_url_free); on failure u
 * holds nothing.  Errors (MB_ERR_USAGE) name the redacted URL. */
mb_err mb_url_parse(const char *text, mb_url *u);

void mb_url_free(mb_url *u);

/* Write the redacted form of text into buf (always NUL-terminated when
 * n > 0): query values other than a few harmless names (sv, comp, ...)
 * and the password of user:password@ become REDACTED.  Text that is not a
 * URL is copied unchanged.  Returns the length of the full redacted text,
 * as snprintf does. */
size_t mb_url_redact(const char *text, char *buf, size_t n);

/* The redacted form as a malloc'd string the caller frees; NULL when out
 * of memory. */
char *mb_url_redacted(const char *text);

/* Redact, in place, every string value of a JSON tree that is a remote
 * URL (the job spec before it is stored or reported). */
mb_err mb_url_redact_json(cJSON *item);

/* Percent-encode text for a URL path: everything except A-Z a-z 0-9 - . _ ~
 * and, when keep_slash, '/'.  The caller frees the result; NULL when out
 * of memory. */
char *mb_url_encode(const char *text, bool keep_slash);

/* Copy src into dst (size n, NUL-terminated), replacing every credential
 * of u and every run of 40 or more base64 or hex characters (signatures)
 * by REDACTED: for server error text quoted in messages. */
void mb_url_scrub(const mb_url *u, const char *src, char *dst, size_t n);

#endif
