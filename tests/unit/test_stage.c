/* test_stage.c - local temporary files standing in for URL inputs and
 * outputs (stage.c), against a small HTTP server run by the suite on the
 * loopback interface: plain paths pass through untouched and a file://
 * URL is its path; a URL's temporary file is in $TMPDIR, keeps the URL's
 * extension (not its query), is fetched for an input, uploaded by commit
 * for an output, and is gone after release; a bad URL, a missing object,
 * a failed upload and an unusable $TMPDIR fail with a message naming
 * them, and leave no file behind. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage.h"
#include "unit_dir.h"

/* ---- a one-object HTTP server ------------------------------------------ */

/* GET /obj.h5 answers the object; PUT /up/... stores the body as the
 * object last put; anything else is 404.  One request per connection;
 * queries are ignored. */
static struct {
    int fd, port;
    pthread_t thread;
    char object[64];
    char put_path[256], put_body[256];
    size_t put_len;
    int requests;
} srv;

static void answer(int c, const char *status, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, len);
    if (write(c, head, (size_t)n) != n || (len && write(c, body, len) != (ssize_t)len))
        return;
}

static void serve_one(int c)
{
    char req[8192], method[8], path[256];
    size_t n = 0, body_len = 0;
    char *end = NULL, *cl;
    ssize_t got;
    while (n < sizeof req - 1 && (got = read(c, req + n, sizeof req - 1 - n)) > 0) {
        n += (size_t)got;
        req[n] = '\0';
        if ((end = strstr(req, "\r\n\r\n")))
            break;
    }
    if (!end || sscanf(req, "%7s %255s", method, path) != 2)
        return;
    path[strcspn(path, "?")] = '\0'; /* the query plays no part here */
    srv.requests++;
    if ((cl = strstr(req, "Content-Length:")) || (cl = strstr(req, "content-length:")))
        body_len = strtoul(cl + 15, NULL, 10);
    if (strcmp(method, "GET") == 0 && strcmp(path, "/obj.h5") == 0) {
        answer(c, "200 OK", srv.object, strlen(srv.object));
    } else if (strcmp(method, "PUT") == 0 && strncmp(path, "/up/", 4) == 0 &&
               body_len < sizeof srv.put_body) {
        size_t have = n - (size_t)(end + 4 - req);
        if (strstr(req, "100-continue") && have == 0 &&
            write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25)
            return;
        memcpy(srv.put_body, end + 4, have);
        while (have < body_len && (got = read(c, srv.put_body + have, body_len - have)) > 0)
            have += (size_t)got;
        srv.put_len = have;
        snprintf(srv.put_path, sizeof srv.put_path, "%s", path);
        answer(c, "200 OK", "", 0);
    } else {
        answer(c, "404 Not Found", "no such object", 14);
    }
}

static void *serve(void *arg)
{
    int c;
    while ((c = accept(srv.fd, NULL, NULL)) >= 0) {
        serve_one(c);
        close(c);
    }
    return NULL;
}

static void server_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(srv.fd, 0);
    ck_assert_int_eq(bind(srv.fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(srv.fd, 8), 0);
    ck_assert_int_eq(getsockname(srv.fd, (struct sockaddr *)&a, &len), 0);
    srv.port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
    shutdown(srv.fd, SHUT_RDWR); /* accept returns: the thread ends */
    pthread_join(srv.thread, NULL);
    close(srv.fd);
}

/* ---- fixture ------------------------------------------------------------ */

#define DIR_TEMPLATE "/tmp/mb_test_stage_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char *old_tmpdir;
static mb_url_opts opts;

static void setup(void)
{
    const char *t = getenv("TMPDIR");
    old_tmpdir = t ? strdup(t) : NULL;
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("TMPDIR", dir, 1); /* where stage puts its temporary files */
    setenv("no_proxy", "127.0.0.1", 1); /* the server is here, not behind a proxy */
    memset(&srv, 0, sizeof srv);
    strcpy(srv.object, "the object's bytes\n");
    server_start();
    mb_url_opts_default(&opts);
    opts.retries = 0; /* a failure is final: nothing to wait for */
}

static void teardown(void)
{
    server_stop();
    mb_test_dir_remove(dir);
    if (old_tmpdir)
        setenv("TMPDIR", old_tmpdir, 1);
    else
        unsetenv("TMPDIR");
    free(old_tmpdir);
}

static char *url(const char *path)
{
    static char u[4][256];
    static int next;
    char *s = u[next++ % 4];
    snprintf(s, sizeof u[0], "http://127.0.0.1:%d%s", srv.port, path);
    return s;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_ge(fputs(text, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "r");
    size_t n;
    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

/* A temporary of the stage: in dir, named mpibatch-stage-*, ending in ext. */
static void assert_temporary(const char *local, const char *ext)
{
    size_t n = strlen(dir), len = strlen(local), e = strlen(ext);
    ck_assert_int_eq(strncmp(local, dir, n), 0);
    ck_assert_int_eq(strncmp(local + n, "/mpibatch-stage-", 16), 0);
    ck_assert_uint_eq(len, n + 16 + 6 + e); /* mkstemps' six characters */
    ck_assert_str_eq(local + len - e, ext);
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(plain_paths_pass_through)
{
    char path[sizeof DIR_TEMPLATE + 16], text[64];
    mb_staged s;
    snprintf(path, sizeof path, "%s/out.h5", dir);
    ck_assert_int_eq(mb_stage_output(&s, path), MB_OK);
    ck_assert_int_eq(s.remote, 0);
    ck_assert_str_eq(s.local, path);
    ck_assert_str_eq(s.target, path);
    write_file(s.local, "results\n");
    ck_assert_int_eq(mb_stage_commit(&s, &opts), MB_OK);
    mb_stage_release(&s);
    /* The user's file stays; nothing else was made. */
    read_file(path, text, sizeof text);
    ck_assert_str_eq(text, "results\n");
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
    /* An input is used where it is, even before it exists. */
    snprintf(path, sizeof path, "%s/in.h5", dir);
    ck_assert_int_eq(mb_stage_input(&s, path, &opts), MB_OK);
    ck_assert_int_eq(s.remote, 0);
    ck_assert_str_eq(s.local, path);
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
    ck_assert_int_eq(srv.requests, 0);
}
END_TEST

/* A file:// URL is a local file (docs/storage.md): its path is used. */
START_TEST(file_urls_are_their_paths)
{
    char path[sizeof DIR_TEMPLATE + 16], file_url[sizeof DIR_TEMPLATE + 32], text[64];
    mb_staged s;
    snprintf(path, sizeof path, "%s/out.h5", dir);
    snprintf(file_url, sizeof file_url, "file://%s", path);
    ck_assert_int_eq(mb_stage_output(&s, file_url), MB_OK);
    ck_assert_int_eq(s.remote, 0);
    ck_assert_str_eq(s.local, path);
    ck_assert_str_eq(s.target, file_url);
    write_file(s.local, "results\n");
    ck_assert_int_eq(mb_stage_commit(&s, &opts), MB_OK);
    mb_stage_release(&s);
    ck_assert_int_eq(mb_stage_input(&s, file_url, &opts), MB_OK);
    ck_assert_str_eq(s.local, path);
    read_file(s.local, text, sizeof text);
    ck_assert_str_eq(text, "results\n");
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
    ck_assert_int_eq(srv.requests, 0);
}
END_TEST

START_TEST(url_input_is_fetched_to_a_temporary)
{
    char text[64];
    mb_staged s;
    ck_assert_int_eq(mb_stage_input(&s, url("/obj.h5?sig=secret.txt"), &opts), MB_OK);
    ck_assert_int_eq(s.remote, 1);
    ck_assert_str_eq(s.target, url("/obj.h5?sig=secret.txt"));
    /* The name's extension, not the query's, so format detection works. */
    assert_temporary(s.local, ".h5");
    read_file(s.local, text, sizeof text);
    ck_assert_str_eq(text, "the object's bytes\n");
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
    ck_assert_ptr_null(s.local);
    mb_stage_release(&s); /* a used one is safe */
}
END_TEST

START_TEST(url_output_is_uploaded_by_commit)
{
    mb_staged s;
    ck_assert_int_eq(mb_stage_output(&s, url("/up/results.json")), MB_OK);
    ck_assert_int_eq(s.remote, 1);
    assert_temporary(s.local, ".json");
    /* Writers rename their own temporary onto local: it is not there yet. */
    ck_assert(!exists(s.local));
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
    ck_assert_int_eq(srv.requests, 0);
    write_file(s.local, "{\"done\": true}\n");
    ck_assert_int_eq(mb_stage_commit(&s, &opts), MB_OK);
    ck_assert_str_eq(srv.put_path, "/up/results.json");
    ck_assert_uint_eq(srv.put_len, 15);
    ck_assert_int_eq(memcmp(srv.put_body, "{\"done\": true}\n", 15), 0);
    ck_assert(!exists(s.local));
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
}
END_TEST

/* Only a short extension after the last '/' is kept. */
START_TEST(extensions_of_the_name_only)
{
    static const struct {
        const char *path, *ext;
    } cases[] = {
        {"/up/a.d/file", ""},           /* the dot is a directory's */
        {"/up/file?x=y.txt", ""},        /* the dot is the query's */
        {"/up/file.verylongext", ""},    /* longer than 7 characters */
        {"/up/file.tar.gz#part", ".gz"}, /* the last one; no fragment */
        {"/up/file.jsonl", ".jsonl"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mb_staged s;
        ck_assert_int_eq(mb_stage_output(&s, url(cases[i].path)), MB_OK);
        assert_temporary(s.local, cases[i].ext);
        mb_stage_release(&s);
    }
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
}
END_TEST

START_TEST(errors_name_the_url_and_leave_nothing)
{
    mb_staged s;
    /* An unknown scheme fails before anything is made. */
    ck_assert_int_eq(mb_stage_output(&s, "nosuch://host/out.h5"), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "nosuch://host/out.h5"));
    mb_stage_release(&s);
    ck_assert_int_eq(mb_stage_input(&s, "nosuch://host/in.h5", &opts), MB_ERR_USAGE);
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
    /* A missing object: the server's answer, and no temporary after release. */
    ck_assert_int_eq(mb_stage_input(&s, url("/missing.h5"), &opts), MB_ERR_INPUT);
    ck_assert_msg(strstr(mb_error_message(), "/missing.h5") && strstr(mb_error_message(), "404"),
                  "%s", mb_error_message());
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
    /* A refused upload: an error, and the temporary is removed. */
    ck_assert_int_eq(mb_stage_output(&s, url("/elsewhere/out.h5")), MB_OK);
    write_file(s.local, "results\n");
    ck_assert_int_eq(mb_stage_commit(&s, &opts), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "/elsewhere/out.h5"));
    ck_assert(!exists(s.local));
    mb_stage_release(&s);
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
}
END_TEST

START_TEST(unusable_tmpdir_is_named)
{
    char missing[sizeof DIR_TEMPLATE + 16];
    mb_staged s;
    snprintf(missing, sizeof missing, "%s/none", dir);
    setenv("TMPDIR", missing, 1);
    ck_assert_int_eq(mb_stage_output(&s, url("/up/out.h5")), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "cannot create a temporary file in"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), missing));
    mb_stage_release(&s);
    /* A plain path needs no temporary. */
    ck_assert_int_eq(mb_stage_output(&s, "plain.h5"), MB_OK);
    mb_stage_release(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stage");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plain_paths_pass_through);
    tcase_add_test(tc, file_urls_are_their_paths);
    tcase_add_test(tc, url_input_is_fetched_to_a_temporary);
    tcase_add_test(tc, url_output_is_uploaded_by_commit);
    tcase_add_test(tc, extensions_of_the_name_only);
    tcase_add_test(tc, errors_name_the_url_and_leave_nothing);
    tcase_add_test(tc, unusable_tmpdir_is_named);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
