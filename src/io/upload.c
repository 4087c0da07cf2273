/* upload.c - one PUT, an S3/GCS multipart upload, or Azure blocks. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "io/transfer.h"
#include "request.h"
#include "upload.h"

/* S3's and GCS's limit on the parts of one upload (Azure allows 50000). */
#define MAX_PARTS 10000

/* A part's request: PUT fp[off, off + len) with the operation's query. */
static mb_err put_part(CURL *h, const mb_url *u, const mb_url_opts *o, const char *subquery,
                       FILE *fp, uint64_t off, uint64_t len, char *etag, size_t etag_len)
{
    mb_request q = {.h = h, .u = u, .o = o, .method = "PUT", .subquery = subquery,
                    .kind = MB_ERR_IO, .fp = fp, .body_off = off, .body_len = len};
    mb_err rc = mb_request_run(&q);
    if (rc == MB_OK && etag && !q.etag[0])
        rc = mb_error_set(MB_ERR_IO, "cannot PUT %s: the server sent no ETag for a part",
                          u->display);
    if (rc == MB_OK && etag)
        snprintf(etag, etag_len, "%s", q.etag);
    return rc;
}

/* A request whose body is in memory; q->text keeps the answer. */
static mb_err send_text(mb_request *q, const char *method, const char *subquery,
                        const char *body)
{
    q->method = method;
    q->subquery = subquery;
    q->kind = MB_ERR_IO;
    q->mem = body;
    q->body_len = strlen(body);
    q->content_type = body[0] ? "application/xml" : NULL;
    return mb_request_run(q);
}

static mb_err part_count(const mb_url *u, uint64_t size, uint64_t part, unsigned *n)
{
    uint64_t parts = (size + part - 1) / part;
    if (parts > MAX_PARTS)
        return mb_error_set(MB_ERR_IO, "cannot upload %s in %llu parts (at most %d): "
                            "raise --part-size", u->display, (unsigned long long)parts,
                            MAX_PARTS);
    *n = (unsigned)parts;
    return MB_OK;
}

/* Upload every part and write the completion document into xml. */
static mb_err s3_parts(CURL *h, const mb_url *u, FILE *fp, uint64_t size,
                       const mb_url_opts *o, const char *id, FILE *xml)
{
    unsigned n = 0;
    mb_err rc = part_count(u, size, o->part_size, &n);
    fputs("<CompleteMultipartUpload>", xml);
    for (unsigned i = 0; rc == MB_OK && i < n; i++) {
        char query[1024], etag[256];
        uint64_t off = (uint64_t)i * o->part_size;
        uint64_t len = size - off < o->part_size ? size - off : o->part_size;
        /* Parameters sorted by name: libcurl signs the query as given. */
        snprintf(query, sizeof query, "partNumber=%u&uploadId=%s", i + 1, id);
        rc = put_part(h, u, o, query, fp, off, len, etag, sizeof etag);
        if (rc == MB_OK)
            fprintf(xml, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1, etag);
    }
    fputs("</CompleteMultipartUpload>", xml);
    return rc;
}

/* Abandon an upload whose parts failed, keeping the first error. */
static void s3_abort(CURL *h, const mb_url *u, const mb_url_opts *o, const char *query,
                     mb_err rc)
{
    char saved[1024];
    mb_url_opts once = *o;
    mb_request q = {.h = h, .u = u, .o = &once};
    snprintf(saved, sizeof saved, "%s", mb_error_message());
    once.retries = 1;
    send_text(&q, "DELETE", query, "");
    mb_error_set(rc, "%s", saved);
}

/* Initiate, upload parts, complete (S3 and the GCS XML API alike). */
static mb_err s3_multipart(CURL *h, const mb_url *u, FILE *fp, uint64_t size,
                           const mb_url_opts *o)
{
    char raw_id[1024] = "", query[1100], *id = NULL, *doc = NULL;
    size_t doclen = 0;
    mb_request q = {.h = h, .u = u, .o = o};
    FILE *xml = NULL;
    mb_err rc = send_text(&q, "POST", "uploads=", "");
    if (rc == MB_OK && !mb_request_xml(q.text, "UploadId", raw_id, sizeof raw_id))
        rc = mb_error_set(MB_ERR_IO, "cannot start a multipart upload to %s: no UploadId "
                          "in the answer", u->display);
    if (rc != MB_OK)
        return rc;
    if (!(id = mb_url_encode(raw_id, false)) || !(xml = open_memstream(&doc, &doclen))) {
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(query, sizeof query, "uploadId=%s", id);
    rc = s3_parts(h, u, fp, size, o, id, xml);
    if (fclose(xml) != 0 && rc == MB_OK)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (rc == MB_OK && (rc = send_text(&q, "POST", query, doc)) == MB_OK &&
        strstr(q.text, "<Error>"))
        /* Completion can fail after a 200: the error is in the body. */
        rc = mb_request_fail(&q, "complete the multipart upload");
    if (rc != MB_OK)
        s3_abort(h, u, o, query, rc);
out:
    free(doc);
    free(id);
    return rc;
}

/* Azure block ids: base64 of a fixed-width name, all the same length (10
 * digits hold any unsigned, so the width never changes; 18 bytes encode
 * to 24 characters). */
static void block_id(unsigned i, char out[32])
{
    char name[24];
    snprintf(name, sizeof name, "mpibatch%010u", i);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)name, (int)strlen(name));
}

/* Put Block for every block, then Put Block List to commit them. */
static mb_err azure_blocks(CURL *h, const mb_url *u, FILE *fp, uint64_t size,
                           const mb_url_opts *o)
{
    char *doc = NULL;
    size_t doclen = 0;
    unsigned n = 0;
    mb_request q = {.h = h, .u = u, .o = o};
    FILE *xml = open_memstream(&doc, &doclen);
    mb_err rc = xml ? part_count(u, size, o->part_size, &n) : mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (xml)
        fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>", xml);
    for (unsigned i = 0; rc == MB_OK && i < n; i++) {
        char id[32], *enc, query[128];
        uint64_t off = (uint64_t)i * o->part_size;
        uint64_t len = size - off < o->part_size ? size - off : o->part_size;
        block_id(i, id);
        if (!(enc = mb_url_encode(id, false))) {
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(query, sizeof query, "blockid=%s&comp=block", enc);
        free(enc);
        if ((rc = put_part(h, u, o, query, fp, off, len, NULL, 0)) == MB_OK)
            fprintf(xml, "<Latest>%s</Latest>", id);
    }
    if (xml) {
        fputs("</BlockList>", xml);
        if (fclose(xml) != 0 && rc == MB_OK)
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    }
    if (rc == MB_OK)
        rc = send_text(&q, "PUT", "comp=blocklist", doc);
    free(doc);
    return rc;
}

mb_err mb_upload(const mb_url *u, FILE *fp, uint64_t size, const mb_url_opts *o)
{
    CURL *h = mb_request_handle();
    mb_err rc;
    if (!h)
        return MB_ERR_NOMEM;
    if (size <= o->part_size || u->scheme == MB_URL_HTTP)
        rc = put_part(h, u, o, NULL, fp, 0, size, NULL, 0);
    else if (u->scheme == MB_URL_AZURE)
        rc = azure_blocks(h, u, fp, size, o);
    else
        rc = s3_multipart(h, u, fp, size, o);
    curl_easy_cleanup(h);
    return rc;
}
