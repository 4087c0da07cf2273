/* urlio.h - reading and writing objects at URLs through libcurl.
 *
 * Every function takes a path or URL (url.h): a local path is read or
 * written as a file, so callers need no second code path.  Transfers are
 * made by the calling process alone; in an MPI job rank 0 calls them and
 * shares what the other ranks need over MPI, so the rank count never
 * multiplies the downloads.  Transient failures are retried with back-off
 * (retry.h); a download resumes from the byte it reached with a Range
 * request.  Errors are MB_ERR_INPUT (reading) or MB_ERR_IO (writing) with
 * a message naming the redacted URL and the server's own error text;
 * secrets never appear in a message.
 */
#ifndef MPIBATCH_URLIO_H
#define MPIBATCH_URLIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"
#include "mpibatch/options.h"

typedef struct mb_url_opts {
    unsigned retries;          /* retries after a transient failure */
    double retry_max_seconds;  /* bound on the total back-off wait */
    double timeout;            /* seconds without progress that fail an attempt */
    uint64_t part_size;        /* upload part, block and download range size */
    bool insecure;             /* skip TLS certificate verification */
} mb_url_opts;

/* The options of URL transfers (url-retries, url-retry-max-seconds, timeout,
 * part-size, insecure): a table for the job's common tables. */
extern const mb_option mb_url_options[];

/* The defaults of mb_url_options. */
void mb_url_opts_default(mb_url_opts *o);

/* Read the options from a spec validated against mb_url_options; keys
 * that are absent keep their defaults. */
void mb_url_opts_from_spec(const cJSON *spec, mb_url_opts *o);

/* Download src (URL or path) into the file dst, written under a temporary
 * name next to it and renamed when complete.  *bytes (may be NULL) gets
 * the size. */
mb_err mb_url_fetch(const char *src, const char *dst, const mb_url_opts *o, uint64_t *bytes);

/* Upload the file src to dst (URL or path).  Files larger than part_size
 * go to S3 and GCS as a multipart upload and to Azure as blocks and a
 * block list; other files, and plain HTTP, as one PUT. */
mb_err mb_url_put(const char *src, const char *dst, const mb_url_opts *o);


/* A sequential reader that holds at most part_size bytes of the object:
 * remote objects are read by Range requests of part_size bytes. */
typedef struct mb_url_reader mb_url_reader;

/* Open src (URL or path).  The caller owns *r (mb_url_reader_close).
 * Nothing is transferred until the first read. */
mb_err mb_url_reader_open(mb_url_reader **r, const char *src, const mb_url_opts *o);

/* Read up to n bytes into buf; *got is 0 only at the end of the object. */
mb_err mb_url_reader_read(mb_url_reader *r, void *buf, size_t n, size_t *got);

/* Release r (NULL is fine). */
void mb_url_reader_close(mb_url_reader *r);

#endif
