/* test_progress.c - progress arithmetic and formatting, the status
 * document's fields, its atomic write, and `mpibatch status` reading and
 * rendering it (HTML escaping included). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "mpibatch/job.h"
#include "progress.h"
#include "row.h"
#include "commands/status.h"
#include "wire.h"
#include "unit_dir.h"

static const mb_kernel fake = {.name = "fake"};
enum { RECLEN = 1, ROWLEN = RECLEN + MB_ROW_EXTRA };

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_progress.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove dir and what the tests left in it; returns how many entries. */
static int remove_dir(void)
{
    return mb_test_dir_remove(dir);
}

static int count_entries(void)
{
    return mb_test_dir_entries(dir);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    ck_assert_ptr_nonnull(fp);
    fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    return buf;
}

static cJSON *load_json(const char *path)
{
    char *text = slurp(path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(cJSON_IsNumber(v), "key %s is not a number", k);
    return v->valuedouble;
}

static int is_null(const cJSON *o, const char *k)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Tasks [first, first+count) ran on rank for `seconds` each; fail_task failed. */
static void add(mb_collector *c, uint64_t first, uint64_t count, int rank, double seconds,
                int64_t fail_task)
{
    double rows[64 * ROWLEN];
    mb_buf fails = {0}, msg = {0};
    uint64_t nfail = 0;
    mb_result r;
    size_t pos = 0;
    for (uint64_t i = 0; i < count; i++) {
        double *row = rows + i * ROWLEN;
        int failed = (int64_t)(first + i) == fail_task;
        row[0] = 0;
        row[RECLEN + MB_ROW_RANK] = rank;
        row[RECLEN + MB_ROW_START] = 0;
        row[RECLEN + MB_ROW_SECONDS] = seconds + (double)i / 1000;
        row[RECLEN + MB_ROW_STATUS] = failed ? 3 : 0;
        if (failed) {
            ck_assert_int_eq(mb_wire_pack_failure(&fails, first + i, "broken"), MB_OK);
            nfail++;
        }
    }
    ck_assert_int_eq(mb_wire_put_result(&msg, first, count, ROWLEN, rows, nfail, fails.data,
                                        fails.len), MB_OK);
    ck_assert_int_eq(mb_wire_get_result(msg.data, msg.len, &pos, ROWLEN, &r), MB_OK);
    ck_assert_int_eq(mb_collector_add(c, &r), MB_OK);
    mb_buf_free(&msg);
    mb_buf_free(&fails);
}

static void make_job(mb_job *job, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"kernel\": \"sleep\", \"tasks\": 40%s}", extra);
    ck_assert_msg(mb_job_from_text(text, "test", job) == MB_OK, "%s", mb_error_message());
}

START_TEST(eta_arithmetic)
{
    ck_assert_double_eq_tol(mb_progress_eta(50, 100, 10), 5.0, 1e-12);
    ck_assert_double_eq_tol(mb_progress_eta(1, 4, 0.5), 6.0, 1e-12);
    ck_assert_double_eq(mb_progress_eta(100, 100, 3), 0);
    ck_assert_double_eq(mb_progress_eta(120, 100, 3), 0);  /* never negative */
    ck_assert_double_eq(mb_progress_eta(0, 100, 0), -1);   /* no rate yet */
    ck_assert_double_eq(mb_progress_eta(10, 0, 5), -1);    /* total unknown */
}
END_TEST

START_TEST(durations_and_rates)
{
    static const struct { double s; const char *text; } cases[] = {
        {0, "0s"}, {7.4, "7s"}, {59.4, "59s"}, {59.6, "1m00s"}, {245, "4m05s"},
        {3599.4, "59m59s"}, {3600, "1h00m"}, {7380, "2h03m"}, {3 * 86400 + 4 * 3600 + 5, "3d04h"},
        {-1, "?"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mb_progress_format_duration(cases[i].s, buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i].text);
    }
    mb_progress_format_rate(0.25, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.25");
    mb_progress_format_rate(35.24, buf, sizeof buf);
    ck_assert_str_eq(buf, "35.2");
    mb_progress_format_rate(1250.4, buf, sizeof buf);
    ck_assert_str_eq(buf, "1250");
}
END_TEST

START_TEST(line_with_and_without_total)
{
    mb_progress_snapshot s = {.elapsed = 12, .total_known = 1, .total = 400, .done = 120,
                              .failed = 2, .running = 3, .rate = 35.2, .eta = 8};
    char buf[256];
    mb_progress_format_line(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "120/400 tasks done (30.0%), 2 failed, 3 running, 35.2 tasks/s, elapsed 12s, ETA 8s");
    s.total_known = 0;
    s.eta = -1;
    mb_progress_format_line(&s, buf, sizeof buf);
    ck_assert_str_eq(buf, "120 tasks done, 2 failed, 3 running, 35.2 tasks/s, elapsed 12s");
    mb_progress_format_line(&s, buf, 10); /* truncated, still a string */
    ck_assert_uint_eq(strlen(buf), 9);
}
END_TEST

START_TEST(document_fields)
{
    const char *hosts[] = {"node-a", "node-b"};
    char extra[512], path[256];
    mb_collector *col;
    mb_progress *p;
    mb_job job;
    make_dir();
    snprintf(path, sizeof path, "%s/st.json", dir);
    snprintf(extra, sizeof extra, ", \"status\": \"%s\", \"status-interval\": 1000, "
             "\"progress\": \"never\", \"report\": \"https://h.example/r.json?sig=SECRET42\"",
             path);
    make_job(&job, extra);
    ck_assert_int_eq(mb_collector_init(&col, &fake, NULL, RECLEN, 2, NULL), MB_OK);
    ck_assert_int_eq(mb_progress_open(&p, &job, col, 2, hosts, 40, stderr), MB_OK);
    ck_assert_ptr_nonnull(p);
    /* The first document is there at once: nothing done, all pending. */
    cJSON *d = load_json(path);
    ck_assert_str_eq(cJSON_GetObjectItem(d, "state")->valuestring, "running");
    ck_assert_str_eq(cJSON_GetObjectItem(d, "kernel")->valuestring, "sleep");
    ck_assert_double_eq(num(d, "total"), 40);
    ck_assert_double_eq(num(d, "done"), 0);
    ck_assert_double_eq(num(d, "pending"), 40);
    ck_assert(is_null(d, "eta_seconds"));
    cJSON_Delete(d);

    add(col, 0, 6, 1, 0.5, 3);
    add(col, 6, 4, 0, 0.25, -1);
    add(col, 10, 1, 1, 2.0, -1);  /* the slowest */
    mb_progress_feed feed = {.dispatched = 15, .retried = 2, .speculated = 1};
    mb_progress_update(p, &feed);
    d = mb_progress_document(p, MB_PROGRESS_RUNNING);
    ck_assert_double_eq(num(d, "done"), 11);
    ck_assert_double_eq(num(d, "failed"), 1);
    ck_assert_double_eq(num(d, "running"), 4);
    ck_assert_double_eq(num(d, "pending"), 25);
    ck_assert_double_eq(num(d, "retried"), 2);
    ck_assert_double_eq(num(d, "speculated"), 1);
    ck_assert_double_eq(num(d, "ranks"), 2);
    ck_assert(num(d, "tasks_per_second") > 0);
    ck_assert_double_eq_tol(num(d, "eta_seconds"), 29.0 / num(d, "tasks_per_second"), 1e-6);
    /* A schedule that knows how many tasks run (2 ranks busy): the others
     * handed out wait in a queue, so they are pending. */
    mb_progress_feed known = {.dispatched = 15, .running_known = 1, .running = 2};
    mb_progress_update(p, &known);
    cJSON *dk = mb_progress_document(p, MB_PROGRESS_RUNNING);
    ck_assert_double_eq(num(dk, "running"), 2);
    ck_assert_double_eq(num(dk, "pending"), 27);
    cJSON_Delete(dk);
    const cJSON *ranks = cJSON_GetObjectItem(d, "per_rank");
    ck_assert_int_eq(cJSON_GetArraySize(ranks), 2);
    ck_assert_double_eq(num(cJSON_GetArrayItem(ranks, 0), "tasks"), 4);
    ck_assert_double_eq(num(cJSON_GetArrayItem(ranks, 1), "tasks"), 7);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ranks, 1), "host")->valuestring,
                     "node-b");
    ck_assert_double_eq_tol(num(cJSON_GetArrayItem(ranks, 0), "busy_seconds"),
                            4 * 0.25 + 0.006, 1e-9);
    const cJSON *slow = cJSON_GetObjectItem(d, "slowest");
    ck_assert_int_eq(cJSON_GetArraySize(slow), 10); /* kept: MB_COLLECTOR_SLOWEST */
    ck_assert_double_eq(num(cJSON_GetArrayItem(slow, 0), "task"), 10);
    ck_assert_double_eq(num(cJSON_GetArrayItem(slow, 0), "seconds"), 2.0);
    ck_assert_double_eq(num(cJSON_GetArrayItem(slow, 0), "rank"), 1);
    ck_assert_double_eq(num(cJSON_GetArrayItem(slow, 1), "task"), 5); /* 0.505 s */
    for (int i = 1; i < 10; i++)
        ck_assert(num(cJSON_GetArrayItem(slow, i - 1), "seconds") >=
                  num(cJSON_GetArrayItem(slow, i), "seconds"));
    /* No secret from a URL reaches the document. */
    char *text = cJSON_Print(d);
    ck_assert_ptr_null(strstr(text, "SECRET42"));
    ck_assert_ptr_nonnull(strstr(text, "r.json"));
    free(text);
    cJSON_Delete(d);

    /* A job that ends before all its tasks ran did not finish. */
    ck_assert_int_eq(mb_progress_close(p, MB_PROGRESS_FINISHED), MB_OK);
    d = load_json(path);
    ck_assert_str_eq(cJSON_GetObjectItem(d, "state")->valuestring, "failed");
    ck_assert_double_eq(num(d, "done"), 11);
    cJSON_Delete(d);
    ck_assert_int_eq(remove_dir(), 1); /* only the document: no temporary file left */
    mb_collector_free(col);
    mb_job_free(&job);
}
END_TEST

START_TEST(streamed_total_is_null_until_the_input_ends)
{
    const char *hosts[] = {"h"};
    char extra[512], path[256];
    mb_collector *col;
    mb_progress *p;
    mb_job job;
    make_dir();
    snprintf(path, sizeof path, "%s/st.json", dir);
    snprintf(extra, sizeof extra, ", \"status\": \"%s\", \"progress\": \"never\"", path);
    make_job(&job, extra);
    ck_assert_int_eq(mb_collector_init(&col, &fake, NULL, RECLEN, 1, NULL), MB_OK);
    ck_assert_int_eq(mb_progress_open(&p, &job, col, 1, hosts, 0, stderr), MB_OK);
    add(col, 0, 3, 0, 0.1, -1);
    mb_progress_feed feed = {.dispatched = 5};
    mb_progress_update(p, &feed);
    cJSON *d = mb_progress_document(p, MB_PROGRESS_RUNNING);
    ck_assert(is_null(d, "total") && is_null(d, "pending") && is_null(d, "eta_seconds"));
    ck_assert_double_eq(num(d, "running"), 2);
    cJSON_Delete(d);
    add(col, 3, 2, 0, 0.1, -1);
    feed.input_done = 1;
    mb_progress_update(p, &feed);
    d = mb_progress_document(p, MB_PROGRESS_RUNNING);
    ck_assert_double_eq(num(d, "total"), 5);
    ck_assert_double_eq(num(d, "pending"), 0);
    ck_assert_double_eq(num(d, "eta_seconds"), 0);
    cJSON_Delete(d);
    ck_assert_int_eq(mb_progress_close(p, MB_PROGRESS_FINISHED), MB_OK);
    d = load_json(path);
    ck_assert_str_eq(cJSON_GetObjectItem(d, "state")->valuestring, "finished");
    ck_assert_double_eq(num(d, "done"), 5);
    cJSON_Delete(d);
    remove_dir();
    mb_collector_free(col);
    mb_job_free(&job);
}
END_TEST

START_TEST(lines_live_plain_and_quiet)
{
    const char *hosts[] = {"h"};
    mb_collector *col;
    mb_progress *p;
    mb_job job;
    char *out = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&out, &len);
    ck_assert_int_eq(mb_collector_init(&col, &fake, NULL, RECLEN, 1, NULL), MB_OK);
    /* Live: redrawn in place with \r, ended with a newline once all is done. */
    make_job(&job, ", \"progress\": \"live\"");
    ck_assert_int_eq(mb_progress_open(&p, &job, col, 1, hosts, 4, err), MB_OK);
    mb_progress_feed feed = {.dispatched = 4};
    mb_progress_update(p, &feed);
    add(col, 0, 4, 0, 0.1, -1);
    feed.input_done = 1;
    mb_progress_update(p, &feed);
    ck_assert_int_eq(mb_progress_close(p, MB_PROGRESS_FINISHED), MB_OK);
    fclose(err);
    ck_assert_msg(strncmp(out, "\rmpibatch: 0/4 tasks done (0.0%)", 32) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\rmpibatch: 4/4 tasks done (100.0%), 0 failed"));
    ck_assert(out[len - 1] == '\n' && !strchr(out, '\n')[1]); /* one newline, at the end */
    free(out);
    mb_job_free(&job);
    /* Plain, asked for: a line per interval, and a last one at the end. */
    err = open_memstream(&out, &len);
    make_job(&job, ", \"progress\": \"plain\", \"progress-interval\": 0.01");
    ck_assert_int_eq(mb_progress_open(&p, &job, col, 1, hosts, 8, err), MB_OK);
    nanosleep(&(struct timespec){0, 20000000}, NULL); /* past the 0.01 s interval */
    feed = (mb_progress_feed){.dispatched = 6};
    mb_progress_update(p, &feed);
    ck_assert_int_eq(mb_progress_close(p, MB_PROGRESS_FINISHED), MB_OK);
    fclose(err);
    ck_assert_msg(!strncmp(out, "mpibatch: 4/8 tasks done (50.0%), 0 failed", 42) &&
                  strstr(out, "\nmpibatch: 4/8 tasks done") && !strchr(out, '\r') &&
                  out[len - 1] == '\n', "%s", out);
    free(out);
    mb_job_free(&job);
    /* --quiet silences the line; with no status file there is no object. */
    make_job(&job, ", \"progress\": \"live\", \"quiet\": true");
    ck_assert_int_eq(mb_progress_open(&p, &job, col, 1, hosts, 4, stderr), MB_OK);
    ck_assert_ptr_null(p);
    mb_job_free(&job);
    mb_collector_free(col);
}
END_TEST

START_TEST(atomic_write_replaces_whole_files)
{
    char path[256], bad[300];
    make_dir();
    snprintf(path, sizeof path, "%s/doc.json", dir);
    ck_assert_int_eq(mb_progress_write_file(path, "one\n", "status file"), MB_OK);
    ck_assert_int_eq(mb_progress_write_file(path, "two\n", "status file"), MB_OK);
    char *text = slurp(path);
    ck_assert_str_eq(text, "two\n");
    free(text);
    ck_assert_int_eq(count_entries(), 1); /* no temporary file beside it */
    snprintf(bad, sizeof bad, "%s/missing/doc.json", dir);
    ck_assert_int_eq(mb_progress_write_file(bad, "x", "status file"), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), bad));
    ck_assert_int_eq(remove_dir(), 1);
}
END_TEST

START_TEST(html_escapes_every_string)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    mb_status_escape_html("<a href=\"x\">&'</a>", fp);
    fclose(fp);
    ck_assert_str_eq(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    free(out);
}
END_TEST

static const char good_doc[] =
    "{\"program\": \"mpibatch\", \"kernel\": \"sleep\", \"state\": \"running\","
    " \"started\": \"2026-01-02T03:04:05Z\", \"elapsed_seconds\": 65, \"total\": 40,"
    " \"done\": 10, \"failed\": 1, \"running\": 4, \"pending\": 26, \"retried\": 0,"
    " \"speculated\": 0, \"tasks_per_second\": 2.5, \"eta_seconds\": 12,"
    " \"per_rank\": [{\"rank\": 0, \"host\": \"<script>alert(1)</script>\", \"tasks\": 4,"
    " \"busy_seconds\": 1}, {\"rank\": 1, \"host\": \"b&b\", \"tasks\": 6, \"busy_seconds\": 1.5}],"
    " \"slowest\": [{\"task\": 7, \"seconds\": 0.75, \"rank\": 1}]}";

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

START_TEST(status_reads_prints_and_renders)
{
    char path[256], *out = NULL;
    size_t len = 0;
    cJSON *doc;
    FILE *fp;
    make_dir();
    snprintf(path, sizeof path, "%s/st<1>.json", dir);
    write_text(path, good_doc);
    ck_assert_msg(mb_status_load(path, &doc) == MB_OK, "%s", mb_error_message());
    fp = open_memstream(&out, &len);
    mb_status_print(doc, path, fp);
    fclose(fp);
    ck_assert_ptr_nonnull(strstr(out, "10 done of 40 (25.0%), 4 running, 26 pending, 1 failed"));
    ck_assert_ptr_nonnull(strstr(out, "rate 2.50 tasks/s, ETA 12s"));
    ck_assert_ptr_nonnull(strstr(out, "elapsed 1m05s"));
    ck_assert_ptr_nonnull(strstr(out, "           7      0.750      1"));
    free(out);
    fp = open_memstream(&out, &len);
    mb_status_html(doc, path, fp);
    fclose(fp);
    ck_assert(strncmp(out, "<!DOCTYPE html>", 15) == 0);
    ck_assert_ptr_null(strstr(out, "<script>"));
    ck_assert_ptr_nonnull(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(out, "b&amp;b"));
    ck_assert_ptr_nonnull(strstr(out, "st&lt;1&gt;.json"));
    /* Self-contained: nothing is fetched from elsewhere. */
    ck_assert_ptr_null(strstr(out, "src="));
    ck_assert_ptr_null(strstr(out, "href="));
    ck_assert_ptr_null(strstr(out, "@import"));
    /* Bars: the whole job at 25%, rank 1 (busiest) full, rank 0 at 4/6. */
    ck_assert_ptr_nonnull(strstr(out, "class=\"bar big\"><div style=\"width: 25.0%\">"));
    ck_assert_ptr_nonnull(strstr(out, "width: 100.0%"));
    ck_assert_ptr_nonnull(strstr(out, "width: 66.7%"));
    free(out);
    cJSON_Delete(doc);
    remove_dir();
}
END_TEST

/* A bad status file is refused with a message naming it and the problem. */
static void expect_refused(const char *content, const char *needle)
{
    char path[256];
    cJSON *doc = NULL;
    snprintf(path, sizeof path, "%s/bad.json", dir);
    if (content)
        write_text(path, content);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_ERR_USAGE);
    ck_assert_ptr_null(doc);
    ck_assert_msg(strstr(mb_error_message(), path) && strstr(mb_error_message(), needle),
                  "message '%s' lacks '%s'", mb_error_message(), needle);
    unlink(path);
}

START_TEST(status_refuses_bad_files)
{
    make_dir();
    expect_refused(NULL, "No such file");
    expect_refused("", "the file is empty");
    expect_refused("{\"program\": \"mpibatch\",\n \"done\": }", ":2:");
    expect_refused("{\"program\": \"mpibatch\", \"tasks\": 3}", "not an mpibatch status");
    expect_refused("{\"program\": \"mpibatch\", \"state\": 3}", "key 'kernel' is missing");
    expect_refused("[1, 2]", "not an mpibatch status document");
    char *doc = strdup(good_doc), *host = strstr(doc, "\"host\": \"b&b\"");
    memcpy(host, "\"hush\"", 6);
    expect_refused(doc, "per_rank[1]: key 'host' is missing or not a string");
    free(doc);
    ck_assert_int_eq(remove_dir(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, eta_arithmetic);
    tcase_add_test(tc, durations_and_rates);
    tcase_add_test(tc, line_with_and_without_total);
    tcase_add_test(tc, document_fields);
    tcase_add_test(tc, streamed_total_is_null_until_the_input_ends);
    tcase_add_test(tc, lines_live_plain_and_quiet);
    tcase_add_test(tc, atomic_write_replaces_whole_files);
    tcase_add_test(tc, html_escapes_every_string);
    tcase_add_test(tc, status_reads_prints_and_renders);
    tcase_add_test(tc, status_refuses_bad_files);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
