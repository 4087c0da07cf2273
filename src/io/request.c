/* request.c - one signed HTTP request, retried with back-off and resumed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "io/retry.h"
#include "io/sign.h"
#include "request.h"

/* Azure REST version sent with every Azure request. */
#define AZURE_VERSION "2021-08-06"

typedef enum outcome { DONE, RETRY, FAIL } outcome;

CURL *mb_request_handle(void)
{
    static bool ready;
    CURL *h;
    /* libcurl's global state lives as long as the process. */
    if (!ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        mb_error_set(MB_ERR_INTERNAL, "libcurl initialisation failed");
        return NULL;
    }
    ready = true;
    if (!(h = curl_easy_init()))
        mb_error_set(MB_ERR_NOMEM, "out of memory for a libcurl handle");
    return h;
}

/* ---- callbacks ---------------------------------------------------------- */

static void keep_text(mb_request *q, const char *p, size_t n)
{
    size_t room = sizeof q->text - 1 - q->text_len;
    n = n < room ? n : room;
    memcpy(q->text + q->text_len, p, n);
    q->text[q->text_len += n] = '\0';
}

static bool success(long status)
{
    return status >= 200 && status < 300;
}

/* Body bytes: a success goes to the sink from the wanted offset on. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    mb_request *q = ctx;
    size_t n = size * nmemb, k;
    curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
    if (!success(q->status) || !q->sink) {
        keep_text(q, p, n);
        return n;
    }
    k = q->skip < n ? (size_t)q->skip : n; /* a server that ignored Range */
    q->skip -= k;
    p += k;
    n -= k;
    if (q->to && q->from + q->got + n >= q->to) {
        n = (size_t)(q->to - q->from - q->got);
        q->stopped = q->status == 200;
    }
    if (n && q->sink(q->sink_ctx, p, n) != n) {
        q->sink_failed = true;
        return 0;
    }
    q->got += n;
    return q->stopped ? 0 : size * nmemb; /* 0 ends the transfer */
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0)
        return;
    line += k;
    n -= k;
    while (n > 0 && (*line == ' ' || *line == '\t'))
        line++, n--;
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
        n--;
    snprintf(out, cap, "%.*s", (int)n, line);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
    mb_request *q = ctx;
    size_t n = size * nmemb;
    char range[128] = "";
    if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue): forget the last one's. */
        q->etag[0] = '\0';
        q->status = strtol(line + strcspn(line, " "), NULL, 10);
        q->skip = q->status == 200 ? q->from + q->got : 0;
    }
    header_value(line, n, "etag:", q->etag, sizeof q->etag);
    header_value(line, n, "content-range:", range, sizeof range);
    if (range[0] && strchr(range, '/') && strchr(range, '/')[1] != '*')
        q->total = strtoull(strchr(range, '/') + 1, NULL, 10);
    return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
    mb_request *q = ctx;
    size_t n = size * nmemb;
    uint64_t left = q->body_len - q->sent;
    n = n < left ? n : (size_t)left;
    if (q->mem)
        memcpy(buf, q->mem + q->sent, n);
    else if (n && fread(buf, 1, n, q->fp) != n)
        return CURL_READFUNC_ABORT;
    q->sent += n;
    return n;
}

/* libcurl rewinds the body when it must send it again on one attempt. */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    mb_request *q = ctx;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > q->body_len)
        return CURL_SEEKFUNC_CANTSEEK;
    q->sent = (uint64_t)offset;
    if (!q->mem && fseeko(q->fp, (off_t)(q->body_off + q->sent), SEEK_SET) != 0)
        return CURL_SEEKFUNC_FAIL;
    return CURL_SEEKFUNC_OK;
}

/* ---- building the request ----------------------------------------------- */

static char *request_url(const mb_request *q)
{
    const char *a = q->subquery, *b = q->u->query;
    size_t n = strlen(q->u->base) + (a ? strlen(a) : 0) + (b ? strlen(b) : 0) + 3;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%s%s%s%s%s", q->u->base, a || b ? "?" : "", a ? a : "",
                 a && b ? "&" : "", b ? b : "");
    return url;
}

/* Append the header line "<name><value>" (name includes its colon). */
static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 1;
    char *line = malloc(n);
    struct curl_slist *l = NULL;
    if (line) {
        snprintf(line, n, "%s%s", name, value);
        l = curl_slist_append(*list, line);
        free(line);
    }
    if (l)
        *list = l;
    return l != NULL;
}

/* The first byte this attempt asks for: where the last one stopped. */
static uint64_t next_byte(const mb_request *q)
{
    return q->from + q->got;
}

/* "bytes=A-B" or "bytes=A-", or "" when the whole object is wanted. */
static void range_text(const mb_request *q, char *out, size_t n)
{
    out[0] = '\0';
    if (next_byte(q) > 0 && !q->to)
        snprintf(out, n, "bytes=%llu-", (unsigned long long)next_byte(q));
    else if (q->to)
        snprintf(out, n, "bytes=%llu-%llu", (unsigned long long)next_byte(q),
                 (unsigned long long)q->to - 1);
}

/* Azure shared key: sign the headers collected so far and add the
 * Authorization header. */
static bool sign_azure(const mb_request *q, struct curl_slist **list, const char *url,
                       const char *const *ms, size_t nms)
{
    const char *path = strstr(url, "://") + 3, *query;
    char sig[MB_SIGN_B64_LEN], auth[512], *sts, *p;
    bool ok;
    path += strcspn(path, "/?");
    query = strchr(path, '?');
    if (!(p = strndup(path, query ? (size_t)(query - path) : strlen(path))))
        return false;
    sts = mb_sign_azure_string(q->method, q->body_len, q->content_type, ms, nms, q->u->account,
                               *p ? p : "/", query ? query + 1 : NULL);
    ok = sts && mb_sign_hmac_b64(q->u->secret, q->u->secret_len, sts, sig) == MB_OK;
    snprintf(auth, sizeof auth, "%s:%s", q->u->account, ok ? sig : "");
    ok = ok &&
         add_header(list, "Authorization: SharedKey ", auth);
    free(sts);
    free(p);
    return ok;
}

static bool azure_headers(const mb_request *q, struct curl_slist **list, const char *url,
                          const char *range)
{
    char date[64], ms[4][128];
    const char *msp[4];
    size_t n = 0;
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    snprintf(ms[n++], sizeof ms[0], "x-ms-date:%s", date);
    snprintf(ms[n++], sizeof ms[0], "x-ms-version:%s", AZURE_VERSION);
    if (range[0])
        snprintf(ms[n++], sizeof ms[0], "x-ms-range:%s", range);
    /* A PUT of the blob itself (no comp=) creates a block blob. */
    if (!strcmp(q->method, "PUT") && !q->subquery)
        snprintf(ms[n++], sizeof ms[0], "x-ms-blob-type:%s", "BlockBlob");
    for (size_t i = 0; i < n; i++) {
        msp[i] = ms[i];
        if (!add_header(list, ms[i], ""))
            return false;
    }
    return q->u->auth != MB_AUTH_SHAREDKEY || sign_azure(q, list, url, msp, n);
}

static bool auth_headers(const mb_request *q, struct curl_slist **list, const char *url)
{
    char range[96];
    const mb_url *u = q->u;
    range_text(q, range, sizeof range);
    if (q->content_type && !add_header(list, "Content-Type: ", q->content_type))
        return false;
    if (u->scheme == MB_URL_AZURE)
        return azure_headers(q, list, url, range);
    if (range[0] && !add_header(list, "Range: ", range))
        return false;
    if (u->auth == MB_AUTH_BEARER)
        return add_header(list, "Authorization: Bearer ", u->secret);
    if (u->auth != MB_AUTH_SIGV4)
        return true;
    /* libcurl signs, but neither adds this header nor hashes a streamed
     * body; S3 rejects a request without it. */
    return add_header(list, "x-amz-content-sha256: ", "UNSIGNED-PAYLOAD") &&
           (!u->token || add_header(list, "x-amz-security-token: ", u->token));
}

static void set_body(mb_request *q)
{
    CURL *h = q->h;
    q->sent = 0;
    if (q->fp)
        fseeko(q->fp, (off_t)q->body_off, SEEK_SET);
    if (!strcmp(q->method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
    } else if (!strcmp(q->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    } else if (strcmp(q->method, "GET"))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, q);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, q);
}

static void set_options(mb_request *q, const char *url, struct curl_slist *headers)
{
    CURL *h = q->h;
    long t = q->o->timeout < 1 ? 1 : (long)q->o->timeout;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->curl_err);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t);
    /* A stalled transfer (less than 1 byte/s for t seconds) is a timeout. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, t);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mpibatch");
    if (q->o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (q->u->auth == MB_AUTH_SIGV4) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, q->u->sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, q->u->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, q->u->secret);
    }
    set_body(q);
}

/* ---- outcome ------------------------------------------------------------ */

bool mb_request_xml(const char *xml, const char *tag, char *out, size_t n)
{
    char open[64], close[64];
    const char *a, *b;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    if (!(a = strstr(xml, open)) || !(b = strstr(a += strlen(open), close)))
        return false;
    snprintf(out, n, "%.*s", (int)(b - a), a);
    return true;
}

/* The server's explanation: Code and Message of an XML error, else the
 * first line of the body; printable characters only, secrets scrubbed. */
static void server_text(const mb_request *q, char *out, size_t n)
{
    char code[128] = "", msg[512] = "", raw[700];
    mb_request_xml(q->text, "Code", code, sizeof code);
    mb_request_xml(q->text, "Message", msg, sizeof msg);
    if (code[0] || msg[0])
        snprintf(raw, sizeof raw, ": %s%s%s", code, code[0] && msg[0] ? ": " : "", msg);
    else if (q->text_len)
        snprintf(raw, sizeof raw, ": %.*s", (int)strcspn(q->text, "\r\n"), q->text);
    else
        raw[0] = '\0';
    for (char *c = raw; *c; c++)
        if ((unsigned char)*c < ' ')
            *c = ' ';
    mb_url_scrub(q->u, raw, out, n);
}

mb_err mb_request_fail(const mb_request *q, const char *what)
{
    char text[600];
    server_text(q, text, sizeof text);
    return mb_error_set(MB_ERR_IO, "cannot %s at %s%s", what, q->u->display, text);
}

static bool curl_transient(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2: case CURLE_HTTP2_STREAM: case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

static outcome judge(mb_request *q, CURLcode cc)
{
    char text[600], curl_text[CURL_ERROR_SIZE + 2];
    if (q->stopped)
        return DONE;
    if (q->sink_failed) {
        q->failed = mb_error_set(MB_ERR_IO, "cannot store the bytes of %s: %s", q->u->display,
                                 errno ? strerror(errno) : "write failed");
        return FAIL;
    }
    if (cc != CURLE_OK) {
        mb_url_scrub(q->u, q->curl_err[0] ? q->curl_err : curl_easy_strerror(cc),
                     curl_text, sizeof curl_text);
        q->failed = mb_error_set(q->kind, "cannot %s %s: %s", q->method, q->u->display,
                                 curl_text);
        return curl_transient(cc) ? RETRY : FAIL;
    }
    curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
    if (q->status == 416 && (q->to || next_byte(q) > 0)) {
        q->past_end = true;
        return DONE;
    }
    if (success(q->status))
        return DONE;
    server_text(q, text, sizeof text);
    q->failed = mb_error_set(q->kind, "cannot %s %s: HTTP %ld%s", q->method, q->u->display,
                             q->status, text);
    return mb_retry_http_transient(q->status) ? RETRY : FAIL;
}

static outcome attempt(mb_request *q)
{
    struct curl_slist *headers = NULL;
    char *url = request_url(q);
    outcome out = FAIL;
    CURLcode cc;
    q->status = 0;
    q->text_len = 0;
    q->text[0] = q->curl_err[0] = '\0';
    q->skip = 0;
    q->sink_failed = q->stopped = false;
    if (!url || !auth_headers(q, &headers, url)) {
        q->failed = mb_error_set(MB_ERR_NOMEM, "out of memory building a request for %s",
                                 q->u->display);
        goto out;
    }
    set_options(q, url, headers);
    errno = 0;
    cc = curl_easy_perform(q->h);
    out = judge(q, cc);
out:
    curl_slist_free_all(headers);
    free(url);
    return out;
}

static void wait_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

mb_err mb_request_run(mb_request *q)
{
    mb_retry r;
    double delay;
    outcome out;
    mb_retry_init(&r, q->o->retries, q->o->retry_max_seconds,
                  (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20));
    while ((out = attempt(q)) == RETRY && mb_retry_next(&r, &delay))
        wait_seconds(delay);
    if (out == DONE)
        return MB_OK;
    if (out == RETRY && r.done > 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", mb_error_message());
        return mb_error_set(q->failed, "%s (gave up after %u retries)", msg, r.done);
    }
    return q->failed;
}
