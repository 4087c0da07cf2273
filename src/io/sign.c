/* sign.c - the Azure shared-key string to sign and its HMAC. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "io/sign.h"

/* A growable string; on allocation failure it stays failed (buf NULL). */
typedef struct sbuf {
    char *buf;
    size_t len, cap;
} sbuf;

static void add(sbuf *s, const char *text, size_t n)
{
    if (!s->buf)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = 2 * (s->len + n + 1);
        char *nb = realloc(s->buf, cap);
        if (!nb) {
            free(s->buf);
            s->buf = NULL;
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, n);
    s->buf[s->len += n] = '\0';
}

static void adds(sbuf *s, const char *text)
{
    add(s, text, strlen(text));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Decode %XX in place (Azure signs decoded query values). */
static void pct_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], '\0'};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else
            *o++ = *s;
    }
    *o = '\0';
}

/* "\nname:value" for each query parameter, names lowercased, sorted. */
static void add_query(sbuf *s, const char *query)
{
    char *copy = strdup(query), *save = NULL, **params;
    size_t n = 0;
    params = calloc(strlen(query) / 2 + 2, sizeof *params);
    if (!copy || !params) {
        free(s->buf);
        s->buf = NULL;
        goto out;
    }
    for (char *p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        for (char *c = p; *c && c != eq; c++)
            *c = (char)tolower((unsigned char)*c);
        if (eq)
            *eq = ':';
        pct_decode(p);
        params[n++] = p;
    }
    qsort(params, n, sizeof *params, cmp_str);
    for (size_t i = 0; i < n; i++) {
        adds(s, "\n");
        adds(s, params[i]);
        if (!strchr(params[i], ':'))
            adds(s, ":");
    }
out:
    free(params);
    free(copy);
}

char *mb_sign_azure_string(const char *verb, uint64_t content_length, const char *content_type,
                           const char *const *ms_headers, size_t nheaders,
                           const char *account, const char *path, const char *query)
{
    sbuf s = {malloc(256), 0, 256};
    const char **sorted = malloc((nheaders + 1) * sizeof *sorted);
    char length[32] = "";
    if (s.buf)
        s.buf[0] = '\0';
    if (!sorted) {
        free(s.buf);
        return NULL;
    }
    if (content_length > 0)
        snprintf(length, sizeof length, "%llu", (unsigned long long)content_length);
    adds(&s, verb);
    adds(&s, "\n\n\n"); /* Content-Encoding, Content-Language */
    adds(&s, length);
    adds(&s, "\n\n"); /* Content-MD5 */
    adds(&s, content_type ? content_type : "");
    /* Date (x-ms-date is used), If-*, Range (x-ms-range is used): empty. */
    adds(&s, "\n\n\n\n\n\n\n");
    if (nheaders > 0) { /* ms_headers may be NULL when there are none */
        memcpy(sorted, ms_headers, nheaders * sizeof *sorted);
        qsort(sorted, nheaders, sizeof *sorted, cmp_str);
    }
    for (size_t i = 0; i < nheaders; i++) {
        adds(&s, sorted[i]);
        adds(&s, "\n");
    }
    adds(&s, "/");
    adds(&s, account);
    adds(&s, path);
    if (query && *query)
        add_query(&s, query);
    free(sorted);
    return s.buf;
}

mb_err mb_sign_hmac_b64(const void *key, size_t keylen, const char *text,
                        char out[MB_SIGN_B64_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)text, strlen(text),
              mac, &maclen) || maclen != 32)
        return mb_error_set(MB_ERR_INTERNAL, "HMAC-SHA256 failed");
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
    return MB_OK;
}
