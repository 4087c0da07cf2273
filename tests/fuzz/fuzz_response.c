/* fuzz_response.c - what object stores send back: header lines (status,
 * ETag, Content-Range), body bytes, XML upload ids and error documents.
 * The input is the response as received: header lines up to the first
 * empty line, then the body, fed to request.c's own libcurl callbacks in
 * pieces whose sizes come from the input.  request.c is included so that
 * its static callbacks run exactly as libcurl calls them. */
#include "../../src/io/request.c"

#include "fuzz.h"

#define SECRET "fuzzsecretfuzzsecretfuzzsecret"

static CURL *handle;
static mb_url url;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIAFUZZ", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    handle = mb_request_handle();
    fuzz_check(handle && mb_url_parse("s3://bucket/key?x-id=1", &url) == MB_OK,
               "cannot set up a request");
    return 0;
}

static size_t sink(void *ctx, const char *data, size_t n)
{
    uint64_t *total = ctx;
    *total += n;
    return n;
}

/* Header lines as libcurl delivers them: one call per line, with its end. */
static const char *feed_headers(mb_request *q, const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char *line = fuzz_text((const uint8_t *)p, n);
        bool blank = n <= 2 && (line[0] == '\n' || line[0] == '\r');
        fuzz_check(on_header(line, 1, n, q) == n, "on_header refused a line");
        free(line);
        p += n;
        if (blank)
            break;
    }
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mb_request q;
    uint64_t sunk = 0;
    const char *p, *end;
    char id[256];
    unsigned piece;
    char *text;
    if (size < 3)
        return 0;
    memset(&q, 0, sizeof q);
    q.h = handle;
    q.u = &url;
    q.method = "PUT";
    q.kind = MB_ERR_IO;
    q.from = data[0] & 1 ? 1000 : 0;
    q.to = data[0] & 2 ? q.from + data[1] : 0;
    q.sink = data[0] & 4 ? sink : NULL;
    q.sink_ctx = &sunk;
    piece = 1 + data[2] % 64;
    p = (const char *)data + 3;
    end = (const char *)data + size;
    p = feed_headers(&q, p, end);
    fuzz_check(strlen(q.etag) < sizeof q.etag, "ETag overflows");
    while (p < end) {
        size_t n = (size_t)(end - p) < piece ? (size_t)(end - p) : piece;
        char *chunk = fuzz_text((const uint8_t *)p, n);
        size_t took = on_body(chunk, 1, n, &q);
        free(chunk);
        p += n;
        if (took != n)
            break;
    }
    fuzz_check(q.text_len < sizeof q.text && q.text[q.text_len] == '\0', "text overflows");
    fuzz_check(!q.to || q.got <= q.to - q.from, "more bytes kept than asked for");
    fuzz_check(sunk == q.got, "the sink got a different byte count");
    mb_request_xml(q.text, "UploadId", id, sizeof id);
    fuzz_check(mb_request_fail(&q, "complete the upload") == MB_ERR_IO, "wrong error code");
    /* Server text is scrubbed: even a body that quotes the key hides it. */
    fuzz_check(!strstr(mb_error_message(), SECRET), "an error message shows the secret");
    /* The XML helper on the whole input, unterminated tags and all. */
    text = fuzz_text(data, size);
    mb_request_xml(text, "Code", id, sizeof id);
    mb_request_xml(text, "ETag", id, 2);
    free(text);
    mb_error_clear();
    return 0;
}
