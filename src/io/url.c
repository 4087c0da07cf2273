/* url.c - classify a path, resolve a URL and its credentials, redact. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

#include "io/url.h"

/* Query parameters whose values are safe to show: SAS fields that grant
 * nothing on their own (the signature is `sig`) and the storage APIs' own
 * operation names.  Everything else is presumed secret. */
static const char *const safe_params[] = {
    "sv", "ss", "srt", "sp", "se", "st", "spr", "sr", "comp", "restype",
    "blockid", "partnumber", "uploadid", "uploads", "versionid", NULL
};

static size_t scheme_len(const char *text)
{
    size_t i = 0;
    if (!isalpha((unsigned char)text[0]))
        return 0;
    while (isalnum((unsigned char)text[i]) || (text[i] && strchr("+.-", text[i])))
        i++;
    return strncmp(text + i, "://", 3) == 0 ? i : 0;
}

static bool has_scheme(const char *text, const char *scheme)
{
    size_t n = strlen(scheme);
    return scheme_len(text) == n && strncasecmp(text, scheme, n) == 0;
}

bool mb_url_is_remote(const char *path)
{
    return path && scheme_len(path) > 0 && !has_scheme(path, "file");
}

static bool safe_param(const char *name, size_t len)
{
    for (size_t i = 0; safe_params[i]; i++)
        if (strlen(safe_params[i]) == len && strncasecmp(safe_params[i], name, len) == 0)
            return true;
    return false;
}

/* Appends to buf like a bounded strcat; *len counts what would be written. */
static void put(char *buf, size_t n, size_t *len, const char *s, size_t k)
{
    for (size_t i = 0; i < k; i++, (*len)++)
        if (*len + 1 < n)
            buf[*len] = s[i];
}

/* The query string from q (after '?') up to '#' or the end, redacted. */
static void redact_query(const char *q, char *buf, size_t n, size_t *len)
{
    while (*q && *q != '#') {
        size_t k = strcspn(q, "&#"), name = strcspn(q, "=&#");
        if (name < k && !safe_param(q, name)) {
            put(buf, n, len, q, name + 1);
            put(buf, n, len, "REDACTED", 8);
        } else
            put(buf, n, len, q, k);
        q += k;
        if (*q == '&')
            put(buf, n, len, q++, 1);
    }
    put(buf, n, len, q, strlen(q));
}

size_t mb_url_redact(const char *text, char *buf, size_t n)
{
    size_t len = 0, sl = scheme_len(text);
    const char *p = text, *auth_end, *at, *colon, *q;
    if (sl > 0) {
        /* user:password@host: keep the user, hide the password. */
        p = text + sl + 3;
        auth_end = p + strcspn(p, "/?#");
        at = memchr(p, '@', (size_t)(auth_end - p));
        colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
        if (colon) {
            put(buf, n, &len, text, (size_t)(colon + 1 - text));
            put(buf, n, &len, "REDACTED", 8);
            p = at;
        } else
            p = text;
        q = strchr(p, '?');
        put(buf, n, &len, p, q ? (size_t)(q + 1 - p) : strlen(p));
        if (q)
            redact_query(q + 1, buf, n, &len);
    } else
        put(buf, n, &len, text, strlen(text));
    if (n > 0)
        buf[len < n ? len : n - 1] = '\0';
    return len;
}

char *mb_url_redacted(const char *text)
{
    size_t n = mb_url_redact(text, NULL, 0) + 1;
    char *buf = malloc(n);
    if (buf)
        mb_url_redact(text, buf, n);
    return buf;
}

mb_err mb_url_redact_json(cJSON *item)
{
    for (; item; item = item->next) {
        mb_err rc;
        if (cJSON_IsString(item) && mb_url_is_remote(item->valuestring)) {
            char *r = mb_url_redacted(item->valuestring);
            bool ok = r && cJSON_SetValuestring(item, r);
            free(r);
            if (!ok)
                return mb_error_set(MB_ERR_NOMEM, "out of memory redacting the job spec");
        }
        if ((rc = mb_url_redact_json(item->child)) != MB_OK)
            return rc;
    }
    return MB_OK;
}

char *mb_url_encode(const char *text, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(text) + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (isalnum(*s) || strchr("-._~", *s) || (keep_slash && *s == '/'))
            *o++ = (char)*s;
        else {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 15];
        }
    }
    *o = '\0';
    return out;
}

static bool sig_char(char c)
{
    /* '%' too: a signature may be percent-encoded. */
    return isalnum((unsigned char)c) || c == '+' || c == '/' || c == '=' || c == '%';
}

/* Length of a credential of u that starts at s, or 0. */
static size_t secret_at(const mb_url *u, const char *s)
{
    const char *secrets[] = {u->secret, u->token, u->query, u->user};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
        size_t k = secrets[i] ? strlen(secrets[i]) : 0;
        /* The decoded Azure key is binary; short values would hide words. */
        if (k >= 8 && strncmp(s, secrets[i], k) == 0)
            return k;
    }
    return 0;
}

void mb_url_scrub(const mb_url *u, const char *src, char *dst, size_t n)
{
    size_t len = 0;
    while (*src) {
        size_t k = secret_at(u, src), run = 0;
        while (sig_char(src[run]))
            run++;
        if (k == 0 && run >= 40)
            k = run;
        if (k > 0) {
            put(dst, n, &len, "REDACTED", 8);
            src += k;
        } else {
            /* One byte at a time: a credential may start inside a word
             * ("key=SECRET"), and no suffix of a word shorter than 40 bytes
             * is a long run, so none is redacted by halves. */
            put(dst, n, &len, src, 1);
            src++;
        }
    }
    if (n > 0)
        dst[len < n ? len : n - 1] = '\0';
}

/* ---- resolving ---------------------------------------------------------- */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* malloc'd "a" "b" "c" (NULL parts count as ""). */
static char *concat3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b ? b : "") + strlen(c ? c : "") + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b ? b : "", c ? c : "");
    return s;
}

/* Split "first/rest" after a scheme: first must be non-empty, rest too. */
static mb_err split_name(const mb_url *u, const char *after, char **first, char **rest)
{
    const char *slash = strchr(after, '/');
    if (!slash || slash == after || slash[1] == '\0')
        return mb_error_set(MB_ERR_USAGE, "'%s': expected %s", u->display,
                            u->scheme == MB_URL_S3 ? "s3://BUCKET/KEY"
                            : u->scheme == MB_URL_GCS ? "gs://BUCKET/OBJECT"
                                                      : "az://ACCOUNT/CONTAINER/BLOB");
    *first = strndup(after, (size_t)(slash - after));
    *rest = mb_url_encode(slash + 1, true);
    return *first && *rest ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory");
}

static mb_err nomem_unless(bool ok)
{
    return ok ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory resolving a URL");
}

/* endpoint without its trailing slashes, malloc'd. */
static char *trimmed(const char *endpoint)
{
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    return strndup(endpoint, n);
}

static mb_err sigv4_creds(mb_url *u, const char *id, const char *key, const char *region)
{
    size_t n = strlen(region) + 16;
    u->auth = MB_AUTH_SIGV4;
    u->user = strdup(id);
    u->secret = strdup(key);
    u->secret_len = strlen(key);
    if ((u->sigv4 = malloc(n)))
        snprintf(u->sigv4, n, "aws:amz:%s:s3", region);
    return nomem_unless(u->user && u->secret && u->sigv4);
}

/* s3://bucket/key: path-style at AWS_ENDPOINT_URL, else AWS's own host. */
static mb_err parse_s3(const char *after, mb_url *u)
{
    const char *region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
    const char *endpoint = env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3")
                                                      : env("AWS_ENDPOINT_URL");
    char *bucket = NULL, *key = NULL, *host = NULL;
    mb_err rc = split_name(u, after, &bucket, &key);
    region = region ? region : "us-east-1";
    if (rc != MB_OK)
        goto out;
    if (endpoint)
        host = trimmed(endpoint);
    else if (strchr(bucket, '.')) /* dots break the wildcard certificate */
        host = concat3("https://s3.", region, ".amazonaws.com");
    else {
        char *sub = concat3("https://", bucket, ".s3.");
        host = sub ? concat3(sub, region, ".amazonaws.com") : NULL;
        free(sub);
        free(bucket);
        bucket = NULL;
    }
    if ((rc = nomem_unless(host != NULL)) != MB_OK)
        goto out;
    if (bucket) {
        char *b = concat3(host, "/", bucket);
        u->base = b ? concat3(b, "/", key) : NULL;
        free(b);
    } else
        u->base = concat3(host, "/", key);
    if ((rc = nomem_unless(u->base != NULL)) == MB_OK && env("AWS_ACCESS_KEY_ID") &&
        env("AWS_SECRET_ACCESS_KEY")) {
        rc = sigv4_creds(u, env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), region);
        if (rc == MB_OK && env("AWS_SESSION_TOKEN"))
            rc = nomem_unless((u->token = strdup(env("AWS_SESSION_TOKEN"))) != NULL);
    }
out:
    free(bucket);
    free(key);
    free(host);
    return rc;
}

static mb_err azure_key(mb_url *u, const char *b64)
{
    size_t len = strlen(b64);
    unsigned char *key = malloc(len + 1);
    int n;
    if (!key)
        return nomem_unless(false);
    n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)len);
    if (n < 0 || len % 4 != 0) {
        free(key);
        return mb_error_set(MB_ERR_USAGE, "AZURE_STORAGE_KEY is not base64 (for '%s')", u->display);
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
        n--;
    u->auth = MB_AUTH_SHAREDKEY;
    u->secret = (char *)key;
    u->secret_len = (size_t)n;
    return MB_OK;
}

/* az://account/container/blob at AZURE_STORAGE_BLOB_ENDPOINT (emulators,
 * sovereign clouds) or https://ACCOUNT.blob.core.windows.net. */
static mb_err parse_az(const char *after, mb_url *u)
{
    const char *endpoint = env("AZURE_STORAGE_BLOB_ENDPOINT"), *sas = env("AZURE_STORAGE_SAS_TOKEN");
    char *blob = NULL, *host = NULL;
    mb_err rc = split_name(u, after, &u->account, &blob);
    if (rc != MB_OK)
        goto out;
    if (!strchr(blob, '/') || blob[0] == '/' || blob[strlen(blob) - 1] == '/') {
        rc = mb_error_set(MB_ERR_USAGE, "'%s': expected az://ACCOUNT/CONTAINER/BLOB", u->display);
        goto out;
    }
    host = endpoint ? trimmed(endpoint) : concat3("https://", u->account, ".blob.core.windows.net");
    if ((rc = nomem_unless(host && (u->base = concat3(host, "/", blob)))) != MB_OK)
        goto out;
    if (sas)
        rc = nomem_unless((u->query = strdup(sas + (sas[0] == '?'))) != NULL);
    else if (env("AZURE_STORAGE_KEY"))
        rc = azure_key(u, env("AZURE_STORAGE_KEY"));
out:
    free(blob);
    free(host);
    return rc;
}

/* gs://bucket/object through the XML API at GCS_ENDPOINT_URL or Google's. */
static mb_err parse_gs(const char *after, mb_url *u)
{
    const char *endpoint = env("GCS_ENDPOINT_URL");
    char *bucket = NULL, *object = NULL, *host = NULL, *b = NULL;
    mb_err rc = split_name(u, after, &bucket, &object);
    if (rc != MB_OK)
        goto out;
    host = trimmed(endpoint ? endpoint : "https://storage.googleapis.com");
    b = host ? concat3(host, "/", bucket) : NULL;
    if ((rc = nomem_unless(b && (u->base = concat3(b, "/", object)))) != MB_OK)
        goto out;
    if (env("GOOGLE_OAUTH_ACCESS_TOKEN")) {
        u->auth = MB_AUTH_BEARER;
        u->secret = strdup(env("GOOGLE_OAUTH_ACCESS_TOKEN"));
        u->secret_len = u->secret ? strlen(u->secret) : 0;
        rc = nomem_unless(u->secret != NULL);
    } else if (env("GS_ACCESS_KEY_ID") && env("GS_SECRET_ACCESS_KEY"))
        /* GCS accepts AWS SigV4 with HMAC keys and the region "auto". */
        rc = sigv4_creds(u, env("GS_ACCESS_KEY_ID"), env("GS_SECRET_ACCESS_KEY"), "auto");
out:
    free(bucket);
    free(object);
    free(host);
    free(b);
    return rc;
}

/* Does the query q carry parameter name (any value)? */
static bool has_param(const char *q, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = q; p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return true;
    return false;
}

static mb_err parse_http(const char *text, mb_url *u)
{
    const char *q = strchr(text, '?'), *host = strstr(text, "://") + 3;
    size_t hl = strcspn(host, "/?#:");
    u->base = strndup(text, q ? (size_t)(q - text) : strcspn(text, "#"));
    if (q)
        u->query = strndup(q + 1, strcspn(q + 1, "#"));
    if (!u->base || (q && !u->query))
        return nomem_unless(false);
    if ((hl > 22 && strncasecmp(host + hl - 22, ".blob.core.windows.net", 22) == 0) ||
        (u->query && has_param(u->query, "sv") && has_param(u->query, "sig")))
        u->scheme = MB_URL_AZURE;
    if (u->query && !*u->query) {
        free(u->query);
        u->query = NULL;
    }
    return MB_OK;
}

mb_err mb_url_parse(const char *text, mb_url *u)
{
    size_t sl = scheme_len(text);
    mb_err rc;
    memset(u, 0, sizeof *u);
    if (!(u->display = mb_url_redacted(text)))
        return nomem_unless(false);
    if (sl == 0 || has_scheme(text, "file")) {
        u->scheme = MB_URL_FILE;
        rc = nomem_unless((u->path = strdup(sl ? text + sl + 3 : text)) != NULL);
    } else if (has_scheme(text, "http") || has_scheme(text, "https")) {
        u->scheme = MB_URL_HTTP;
        rc = parse_http(text, u);
    } else if (has_scheme(text, "s3")) {
        u->scheme = MB_URL_S3;
        rc = parse_s3(text + sl + 3, u);
    } else if (has_scheme(text, "az")) {
        u->scheme = MB_URL_AZURE;
        rc = parse_az(text + sl + 3, u);
    } else if (has_scheme(text, "gs")) {
        u->scheme = MB_URL_GCS;
        rc = parse_gs(text + sl + 3, u);
    } else
        rc = mb_error_set(MB_ERR_USAGE, "'%s': unsupported URL scheme (use http, https, s3, "
                          "az, gs or a file path)", u->display);
    if (rc != MB_OK)
        mb_url_free(u);
    return rc;
}

void mb_url_free(mb_url *u)
{
    if (u->secret)
        memset(u->secret, 0, u->secret_len); /* no key outlives its use */
    free(u->path);
    free(u->base);
    free(u->query);
    free(u->display);
    free(u->account);
    free(u->user);
    free(u->secret);
    free(u->token);
    free(u->sigv4);
    memset(u, 0, sizeof *u);
}
