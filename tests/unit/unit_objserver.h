/* unit_objserver.h - tests/io/objserver.py for the Check suites of src/io.
 *
 * A suite starts its servers in main() before the tests run and stops
 * them after; each server binds 127.0.0.1 on a free port that it writes to
 * a port file, and every wait here is bounded.  A server cannot outlive
 * its suite: the servers are stopped at exit (only by the process that
 * started them, not by Check's forked test processes), and each is told
 * by the kernel to die with its parent (PR_SET_PDEATHSIG), so a crash or
 * a kill -9 of the suite leaves nothing running.  Without python3 the
 * suite is skipped (exit 77).  Needs _GNU_SOURCE (mkdtemp, prctl) before
 * the first include.
 */
#ifndef MPIBATCH_TESTS_UNIT_OBJSERVER_H
#define MPIBATCH_TESTS_UNIT_OBJSERVER_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "unit.h"

#ifndef MB_TEST_SRCDIR
#define MB_TEST_SRCDIR "."
#endif

enum { MB_TEST_MAX_SERVERS = 4 };

typedef struct mb_test_server {
    pid_t pid;
    int port;
    char url[64];      /* http://127.0.0.1:PORT */
    char dir[256];     /* the port file and the server's log */
} mb_test_server;

static mb_test_server *mb_test_servers[MB_TEST_MAX_SERVERS];
static pid_t mb_test_server_owner;

static inline void mb_test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Stop s (SIGTERM, then SIGKILL after 5 s) and remove its files. */
static inline void mb_test_server_stop(mb_test_server *s)
{
    char path[512];
    int status;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        for (int i = 0; i < 500 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
            mb_test_sleep_ms(10);
        if (kill(s->pid, 0) == 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        s->pid = 0;
    }
    if (s->dir[0]) {
        snprintf(path, sizeof path, "%s/port", s->dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/log", s->dir);
        unlink(path);
        rmdir(s->dir);
        s->dir[0] = '\0';
    }
}

static inline void mb_test_servers_stop_all(void)
{
    if (getpid() != mb_test_server_owner) /* a forked test process exiting */
        return;
    for (int i = 0; i < MB_TEST_MAX_SERVERS; i++)
        if (mb_test_servers[i])
            mb_test_server_stop(mb_test_servers[i]);
}

/* The path of python3 on PATH into out; 0 if there is none. */
static inline int mb_test_python(char *out, size_t n)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, n, "%s/python3", d);
        if (access(out, X_OK) == 0)
            return 1;
    }
    return 0;
}

static inline void mb_test_server_exec(char *python, const char *dir, char *const *args)
{
    char script[1024], portfile[512], logfile[512], opt[] = "--port-file";
    char *argv[16];
    int k = 0, fd;
    snprintf(script, sizeof script, "%s/tests/io/objserver.py",
             getenv("top_srcdir") ? getenv("top_srcdir") : MB_TEST_SRCDIR);
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(logfile, sizeof logfile, "%s/log", dir);
    argv[k++] = python;
    argv[k++] = script;
    argv[k++] = opt;
    argv[k++] = portfile;
    for (int i = 0; args && args[i] && k < 15; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    if ((fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execv(python, argv);
    _exit(127);
}

/* Start objserver.py with args (NULL-terminated, may be NULL) into s; exits
 * the suite with 77 without python3 and 99 if the server does not come up
 * within 10 s. */
static inline void mb_test_server_start(mb_test_server *s, char *const *args)
{
    char python[1024], portfile[512], logtext[600] = "";
    const char *tmp = getenv("TMPDIR");
    pid_t parent = getpid();
    FILE *fp;
    int slot = 0;
    memset(s, 0, sizeof *s);
    if (!mb_test_python(python, sizeof python)) {
        fprintf(stderr, "SKIP: python3 is not installed; the I/O suites need tests/io/objserver.py\n");
        exit(77);
    }
    while (slot < MB_TEST_MAX_SERVERS && mb_test_servers[slot])
        slot++;
    if (slot == MB_TEST_MAX_SERVERS) {
        fprintf(stderr, "too many test servers\n");
        exit(99);
    }
    if (!mb_test_server_owner) {
        mb_test_server_owner = parent;
        atexit(mb_test_servers_stop_all);
    }
    mb_test_servers[slot] = s;
    snprintf(s->dir, sizeof s->dir, "%s/mb-objserver.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", s->dir, strerror(errno));
        s->dir[0] = '\0';
        exit(99);
    }
    if ((s->pid = fork()) < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        exit(99);
    }
    if (s->pid == 0) {
        /* Die with the suite, even when it is killed outright. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        mb_test_server_exec(python, s->dir, args);
    }
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    for (int i = 0; i < 1000; i++) {
        int status;
        if ((fp = fopen(portfile, "r"))) {
            int ok = fscanf(fp, "%d", &s->port) == 1;
            fclose(fp);
            if (ok && s->port > 0) {
                snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
                return;
            }
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        mb_test_sleep_ms(10);
    }
    snprintf(portfile, sizeof portfile, "%s/log", s->dir);
    if ((fp = fopen(portfile, "r"))) {
        logtext[fread(logtext, 1, sizeof logtext - 1, fp)] = '\0';
        fclose(fp);
    }
    fprintf(stderr, "objserver did not start: %s\n", logtext);
    exit(99);
}

/* ---- plain HTTP to a server (control requests, seeding, reading back) --- */

typedef struct mb_test_body {
    char *data;
    size_t len;
} mb_test_body;

static inline size_t mb_test_body_add(const char *p, size_t size, size_t n, void *ctx)
{
    mb_test_body *b = ctx;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, size * n);
    b->data = d;
    b->len += size * n;
    d[b->len] = '\0';
    return size * n;
}

/* METHOD s->url + path with body data[0..len) (NULL: none); returns the
 * HTTP status and the answer in *out (freed by the caller; may be NULL). */
static inline long mb_test_http(const mb_test_server *s, const char *method, const char *path,
                                const void *data, size_t len, mb_test_body *out)
{
    char url[1024];
    long status = 0;
    mb_test_body ignored = {0};
    CURL *h = curl_easy_init();
    ck_assert_ptr_nonnull(h);
    snprintf(url, sizeof url, "%s%s", s->url, path);
    if (out)
        *out = (mb_test_body){0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mb_test_body_add);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out ? out : &ignored);
    if (data) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    free(ignored.data);
    return status;
}

/* Forget the server's objects, faults and counts. */
static inline void mb_test_reset(const mb_test_server *s)
{
    ck_assert_int_eq(mb_test_http(s, "POST", "/_reset", "", 0, NULL), 204);
}

/* The next count requests (of method, or any when NULL) fail with mode
 * ("503", "403", "drop", "cut", ...). */
static inline void mb_test_fault(const mb_test_server *s, const char *mode, int count,
                                 const char *method)
{
    char doc[256];
    int n = snprintf(doc, sizeof doc, "{\"mode\": \"%s\", \"count\": %d%s%s%s}", mode, count,
                     method ? ", \"method\": \"" : "", method ? method : "", method ? "\"" : "");
    ck_assert_int_eq(mb_test_http(s, "POST", "/_faults", doc, (size_t)n, NULL), 204);
}

/* The server's /_stats document (cJSON_Delete it). */
static inline cJSON *mb_test_stats(const mb_test_server *s)
{
    mb_test_body b;
    cJSON *doc;
    ck_assert_int_eq(mb_test_http(s, "GET", "/_stats", NULL, 0, &b), 200);
    doc = cJSON_Parse(b.data);
    free(b.data);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* How many method requests the server has answered since its reset. */
static inline int mb_test_requests(const mb_test_server *s, const char *method)
{
    cJSON *doc = mb_test_stats(s);
    const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "requests"), method);
    int count = cJSON_IsNumber(n) ? n->valueint : 0;
    cJSON_Delete(doc);
    return count;
}

/* Entries of the stats list `list` ("ranges" or "log"), joined by '\n',
 * into out. */
static inline void mb_test_stats_list(const mb_test_server *s, const char *list, char *out,
                                      size_t n)
{
    cJSON *doc = mb_test_stats(s);
    const cJSON *e;
    size_t len = 0;
    out[0] = '\0';
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, list))
        if (cJSON_IsString(e) && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s\n", e->valuestring);
    cJSON_Delete(doc);
}

/* len bytes of a fixed pseudo-random pattern (no two parts alike). */
static inline char *mb_test_pattern(size_t len, unsigned seed)
{
    char *p = malloc(len ? len : 1);
    uint64_t x = 0x9E3779B97F4A7C15u ^ seed;
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (char)(x >> 32);
    }
    return p;
}

#endif
