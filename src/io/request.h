/* request.h - one HTTP request to a resolved URL, retried until it
 * succeeds, fails for good, or the retry policy is spent (internal to
 * src/io).  Signing, Range requests and resuming are done here so that
 * transfer.c and upload.c only say what to send and where bytes go.
 */
#ifndef MPIBATCH_IO_REQUEST_H
#define MPIBATCH_IO_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <curl/curl.h>

#include "mpibatch/error.h"
#include "io/url.h"
#include "io/transfer.h"

/* Where the bytes of a successful response go; returns what it took. */
typedef size_t (*mb_request_sink)(void *ctx, const char *data, size_t n);

typedef struct mb_request {
    /* set by the caller */
    CURL *h;                   /* mb_request_handle(); reused for keep-alive */
    const mb_url *u;
    const mb_url_opts *o;
    const char *method;        /* GET, PUT, POST, DELETE */
    const char *subquery;      /* operation parameters, sorted, or NULL */
    const char *content_type;  /* of the body, or NULL */
    mb_err kind;               /* MB_ERR_INPUT or MB_ERR_IO for failures */
    FILE *fp;                  /* body: fp[body_off, body_off + body_len) */
    const char *mem;           /* or mem[0, body_len) */
    uint64_t body_off, body_len;
    uint64_t from, to;         /* bytes wanted: [from, to), to 0 = the end */
    mb_request_sink sink;      /* NULL: keep the response in text */
    void *sink_ctx;
    /* results */
    uint64_t got;              /* bytes given to sink, over all attempts */
    uint64_t total;            /* object size from Content-Range, or 0 */
    bool past_end;             /* HTTP 416: nothing at or after from */
    bool stopped;              /* a 200 answer was cut at `to` on purpose */
    long status;
    char etag[256];
    char text[4096];           /* start of the response body (no sink, or errors) */
    size_t text_len;
    /* state of the current attempt */
    uint64_t sent, skip;
    bool sink_failed;
    mb_err failed;             /* the code of the last attempt's error */
    char curl_err[CURL_ERROR_SIZE];
} mb_request;

/* A fresh curl handle (libcurl initialised on first use); NULL and an
 * error set when out of memory. */
CURL *mb_request_handle(void);

/* The text of <tag>...</tag> in xml into out; false if absent. */
bool mb_request_xml(const char *xml, const char *tag, char *out, size_t n);

/* Fail q (MB_ERR_IO) after a 2xx answer whose body is an error document:
 * "cannot WHAT URL: Code: Message". */
mb_err mb_request_fail(const mb_request *q, const char *what);

/* Run q to the end with retries.  On failure the message names the method,
 * the redacted URL and the server's or libcurl's error text. */
mb_err mb_request_run(mb_request *q);

#endif
