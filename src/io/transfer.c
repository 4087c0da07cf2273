/* transfer.c - download to a file, to memory, or through a ranged reader;
 * upload dispatch; the options of URL transfers. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "io/transfer.h"
#include "request.h"
#include "upload.h"

const mb_option mb_url_options[] = {
    {.name = "url-retries", .type = MB_OPT_INT, .defval = "5", .min = 0, .max = 100, .meta = "N",
     .help = "retries of a URL transfer after a transient failure"},
    {.name = "url-retry-max-seconds", .type = MB_OPT_NUM, .defval = "60", .min = 0, .max = 86400,
     .meta = "S", .help = "bound on the total back-off wait of a URL transfer"},
    {.name = "url-timeout", .type = MB_OPT_NUM, .defval = "60", .min = 1, .max = 86400, .meta = "S",
     .help = "seconds without progress that fail a URL transfer attempt"},
    {.name = "part-size", .type = MB_OPT_INT, .defval = "8388608", .min = 1024,
     .max = 5368709120.0, .meta = "BYTES",
     .help = "upload part (S3, GCS) or block (Azure) size and download range size"},
    {.name = "insecure", .type = MB_OPT_BOOL, .defval = "false",
     .help = "do not verify TLS certificates (never on untrusted networks)"},
    {0}
};

void mb_url_opts_default(mb_url_opts *o)
{
    o->retries = 5;
    o->retry_max_seconds = 60.0;
    o->timeout = 60.0;
    o->part_size = 8388608;
    o->insecure = false;
}

void mb_url_opts_from_spec(const cJSON *spec, mb_url_opts *o)
{
    const cJSON *v;
    mb_url_opts_default(o);
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(spec, "url-retries")))
        o->retries = (unsigned)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(spec, "url-retry-max-seconds")))
        o->retry_max_seconds = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(spec, "url-timeout")))
        o->timeout = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(spec, "part-size")))
        o->part_size = (uint64_t)v->valuedouble;
    o->insecure = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "insecure"));
}

/* ---- local files -------------------------------------------------------- */

static size_t to_file(void *ctx, const char *data, size_t n)
{
    return fwrite(data, 1, n, ctx);
}

/* ---- the reader --------------------------------------------------------- */

struct mb_url_reader {
    mb_url u;
    mb_url_opts o;
    FILE *fp;          /* a local file */
    CURL *h;           /* a remote object */
    char *buf;         /* the current range */
    size_t len, pos;
    uint64_t off;      /* object offset just past buf */
    bool eof;
    bool no_ranges;    /* the server answered a Range request with 200 */
};

mb_err mb_url_reader_open(mb_url_reader **r, const char *src, const mb_url_opts *o)
{
    mb_url_reader *rd = calloc(1, sizeof *rd);
    mb_err rc;
    *r = NULL;
    if (!rd)
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    rd->o = *o;
    if ((rc = mb_url_parse(src, &rd->u)) != MB_OK) {
        free(rd);
        return rc;
    }
    if (rd->u.scheme == MB_URL_FILE) {
        if (!(rd->fp = fopen(rd->u.path, "rb")))
            rc = mb_error_set(MB_ERR_INPUT, "cannot read '%s': %s", rd->u.path, strerror(errno));
    } else if (!(rd->buf = malloc(o->part_size)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for a %llu-byte range",
                          (unsigned long long)o->part_size);
    else if (!(rd->h = mb_request_handle()))
        rc = MB_ERR_NOMEM;
    if (rc != MB_OK)
        mb_url_reader_close(rd);
    else
        *r = rd;
    return rc;
}

static size_t to_buffer(void *ctx, const char *data, size_t n)
{
    mb_url_reader *rd = ctx;
    memcpy(rd->buf + rd->len, data, n); /* the request stops at part_size */
    rd->len += n;
    return n;
}

/* The next range of the object into buf. */
static mb_err fill(mb_url_reader *rd)
{
    mb_request q = {.h = rd->h, .u = &rd->u, .o = &rd->o, .method = "GET", .kind = MB_ERR_INPUT,
                    .from = rd->off, .to = rd->off + rd->o.part_size, .sink = to_buffer,
                    .sink_ctx = rd};
    mb_err rc;
    rd->len = rd->pos = 0;
    if ((rc = mb_request_run(&q)) != MB_OK)
        return rc;
    rd->off += rd->len;
    rd->no_ranges = q.status == 200 && q.stopped;
    /* Short, past the end, or a whole-object answer that was not cut. */
    rd->eof = q.past_end || rd->len < rd->o.part_size || (q.status == 200 && !q.stopped) ||
              (q.total && rd->off >= q.total);
    return MB_OK;
}

mb_err mb_url_reader_read(mb_url_reader *rd, void *buf, size_t n, size_t *got)
{
    mb_err rc;
    *got = 0;
    if (rd->fp) {
        *got = fread(buf, 1, n, rd->fp);
        return ferror(rd->fp) ? mb_error_set(MB_ERR_INPUT, "cannot read '%s': %s", rd->u.path,
                                             strerror(errno))
                              : MB_OK;
    }
    if (rd->pos == rd->len && !rd->eof && (rc = fill(rd)) != MB_OK)
        return rc;
    *got = rd->len - rd->pos < n ? rd->len - rd->pos : n;
    memcpy(buf, rd->buf + rd->pos, *got);
    rd->pos += *got;
    return MB_OK;
}

void mb_url_reader_close(mb_url_reader *rd)
{
    if (!rd)
        return;
    if (rd->fp)
        fclose(rd->fp);
    if (rd->h)
        curl_easy_cleanup(rd->h);
    free(rd->buf);
    mb_url_free(&rd->u);
    free(rd);
}

/* ---- whole objects ------------------------------------------------------ */

/* Copy what r yields into fp until the end, or until the server shows
 * it ignores Range (then nothing of that answer is written). */
static mb_err pump(mb_url_reader *r, FILE *fp, const char *dst, uint64_t *bytes)
{
    char buf[65536];
    size_t got;
    mb_err rc;
    while ((rc = mb_url_reader_read(r, buf, sizeof buf, &got)) == MB_OK && got > 0 &&
           !r->no_ranges) {
        if (fwrite(buf, 1, got, fp) != got)
            return mb_error_set(MB_ERR_IO, "cannot write '%s': %s", dst, strerror(errno));
        *bytes += got;
    }
    return rc;
}

/* One GET of the whole object, resumed from the byte reached: for
 * servers without Range support, where range by range would read the
 * object again from its start for every range. */
static mb_err download(const mb_url *u, FILE *fp, const mb_url_opts *o, uint64_t *bytes)
{
    mb_request q = {.u = u, .o = o, .method = "GET", .kind = MB_ERR_INPUT, .sink = to_file,
                    .sink_ctx = fp};
    mb_err rc;
    if (!(q.h = mb_request_handle()))
        return MB_ERR_NOMEM;
    rc = mb_request_run(&q);
    *bytes = q.got;
    curl_easy_cleanup(q.h);
    return rc;
}

static mb_err fetch_into(mb_url_reader *r, FILE *fp, const char *dst, const mb_url_opts *o,
                         uint64_t *bytes)
{
    mb_err rc = pump(r, fp, dst, bytes);
    if (rc == MB_OK && r->no_ranges)
        rc = download(&r->u, fp, o, bytes);
    return rc;
}

mb_err mb_url_fetch(const char *src, const char *dst, const mb_url_opts *o, uint64_t *bytes)
{
    uint64_t n = 0;
    mb_url_reader *r = NULL;
    FILE *fp = NULL;
    mb_atomic out = {0};
    mb_err rc = mb_url_reader_open(&r, src, o);
    if (rc == MB_OK && (rc = mb_atomic_begin(&out, dst)) == MB_OK &&
        (rc = mb_atomic_fopen(&out, NULL, &fp)) == MB_OK)
        rc = fetch_into(r, fp, dst, o, &n);
    if (out.tmp)
        rc = mb_atomic_finish(&out, rc, fp, 0, NULL);
    mb_url_reader_close(r);
    if (bytes)
        *bytes = n;
    return rc;
}

mb_err mb_url_put(const char *src, const char *dst, const mb_url_opts *o)
{
    struct stat st;
    mb_url u;
    FILE *fp = NULL;
    mb_err rc = mb_url_parse(dst, &u);
    if (rc != MB_OK)
        return rc;
    if (u.scheme == MB_URL_FILE) {
        mb_url_free(&u);
        return mb_url_fetch(src, dst, o, NULL); /* a local copy */
    }
    if (!(fp = fopen(src, "rb")) || fstat(fileno(fp), &st) != 0)
        rc = mb_error_set(MB_ERR_INPUT, "cannot read '%s': %s", src, strerror(errno));
    else
        rc = mb_upload(&u, fp, (uint64_t)st.st_size, o);
    if (fp)
        fclose(fp);
    mb_url_free(&u);
    return rc;
}
