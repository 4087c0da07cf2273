/* test_status.c - `mpibatch status`: loading a status document (good
 * files, and each way a file is refused, naming it), the text and HTML
 * renderings, and the HTML escaping of strings from the document. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands/status.h"
#include "unit.h"

#define DIR_TEMPLATE "/tmp/mb_test_status_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char path[sizeof DIR_TEMPLATE + 16];

/* A document as --status writes it (progress.c), part way through a job. */
static const char good[] =
    "{\"program\": \"mpibatch\", \"version\": \"0.1.0\", \"kernel\": \"classify\",\n"
    " \"state\": \"running\", \"started\": \"2026-11-24T16:00:00Z\",\n"
    " \"elapsed_seconds\": 125, \"total\": 100, \"done\": 40, \"failed\": 2,\n"
    " \"running\": 3, \"pending\": 57, \"retried\": 1, \"speculated\": 0,\n"
    " \"tasks_per_second\": 12.5, \"eta_seconds\": 4.6,\n"
    " \"per_rank\": [{\"rank\": 0, \"host\": \"n1\", \"tasks\": 15, \"busy_seconds\": 10.25},\n"
    "              {\"rank\": 1, \"host\": \"n2\", \"tasks\": 25, \"busy_seconds\": 20.5}],\n"
    " \"slowest\": [{\"task\": 17, \"seconds\": 3.5, \"rank\": 1}]}\n";

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/status.json", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_text(const char *text, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(text, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
}

/* The good document with edit applied, written to path. */
static void write_edited(void (*edit)(cJSON *doc))
{
    cJSON *doc = cJSON_Parse(good);
    ck_assert_ptr_nonnull(doc);
    edit(doc);
    char *text = cJSON_Print(doc);
    write_text(text, strlen(text));
    free(text);
    cJSON_Delete(doc);
}

static cJSON *load_good(void)
{
    cJSON *doc = NULL;
    write_text(good, sizeof good - 1);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_OK);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* Loading path fails with MB_ERR_USAGE, no document, and a message that
 * names the file and contains why. */
static void assert_refused(const char *why)
{
    cJSON sentinel, *doc = &sentinel; /* load must clear it */
    ck_assert_int_eq(mb_status_load(path, &doc), MB_ERR_USAGE);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
    ck_assert_msg(strstr(mb_error_message(), why), "'%s' lacks '%s'", mb_error_message(), why);
}

/* What a printer writes for doc, as one string the caller frees. */
static char *render(void (*printer)(const cJSON *, const char *, FILE *), const cJSON *doc,
                    const char *name)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(fp);
    printer(doc, name, fp);
    fclose(fp);
    return text;
}

START_TEST(good_document_loads)
{
    cJSON *doc = load_good();
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(doc, "kernel")->valuestring, "classify");
    cJSON_Delete(doc);
}
END_TEST

/* Streamed input: no total, pending or ETA yet, and no start time. */
static void unknown_total(cJSON *doc)
{
    static const char *const keys[] = {"total", "pending", "eta_seconds", "started"};
    for (int i = 0; i < 4; i++)
        cJSON_ReplaceItemInObjectCaseSensitive(doc, keys[i], cJSON_CreateNull());
}

START_TEST(nulls_are_allowed_where_documented)
{
    cJSON *doc = NULL;
    write_edited(unknown_total);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_OK);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(missing_empty_and_binary_files_are_refused)
{
    assert_refused("cannot read status file");
    write_text("", 0);
    assert_refused(":1:1: malformed JSON (the file is empty)");
    static const char nul[] = "{\"program\": \"mpibatch\"\0}";
    write_text(nul, sizeof nul - 1);
    assert_refused("NUL byte");
    /* A directory opens but does not read. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    assert_refused("cannot read status file");
    ck_assert_int_eq(rmdir(path), 0);
}
END_TEST

START_TEST(malformed_json_gives_line_and_column)
{
    static const char bad[] = "{\n  \"program\": \"mpibatch\",\n  \"a\":x}\n";
    /* The parser stops at the 'x' on line 3, column 7. */
    write_text(bad, sizeof bad - 1);
    assert_refused("status.json':3:7: malformed JSON");
}
END_TEST

static void report_not_status(cJSON *doc)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "state");
}

static void other_program(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "program", cJSON_CreateString("ior"));
}

START_TEST(other_documents_are_refused)
{
    /* A report has "program" but no "state". */
    write_edited(report_not_status);
    assert_refused("is not an mpibatch status document");
    write_edited(other_program);
    assert_refused("is not an mpibatch status document");
    write_text("[1, 2]", 6);
    assert_refused("is not an mpibatch status document");
}
END_TEST

static void no_done(cJSON *doc)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "done");
}

static void string_elapsed(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "elapsed_seconds", cJSON_CreateString("125"));
}

static void null_kernel(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "kernel", cJSON_CreateNull());
}

static void rank_without_host(cJSON *doc)
{
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "per_rank"), 1);
    cJSON_DeleteItemFromObjectCaseSensitive(r, "host");
}

static void slowest_not_objects(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "slowest", cJSON_Parse("[17]"));
}

START_TEST(bad_keys_are_named)
{
    write_edited(no_done);
    assert_refused("key 'done' is missing or not a number");
    write_edited(string_elapsed);
    assert_refused("key 'elapsed_seconds' is missing or not a number");
    /* Only the documented keys may be null. */
    write_edited(null_kernel);
    assert_refused("key 'kernel' is missing or not a string");
    write_edited(rank_without_host);
    assert_refused("per_rank[1]: key 'host' is missing or not a string");
    write_edited(slowest_not_objects);
    assert_refused("slowest[0]: is not a JSON object");
}
END_TEST

START_TEST(text_rendering)
{
    cJSON *doc = load_good();
    char *text = render(mb_status_print, doc, "s.json");
    ck_assert_str_eq(text,
        "mpibatch status: s.json\n"
        "  kernel classify, state running, started 2026-11-24T16:00:00Z, elapsed 2m05s\n"
        "  40 done of 100 (40.0%), 3 running, 57 pending, 2 failed, 1 retried, 0 speculated\n"
        "  rate 12.5 tasks/s, ETA 5s\n"
        "\nslowest tasks:\n"
        "          task    seconds   rank\n"
        "            17      3.500      1\n"
        "\nper rank:\n"
        "    rank  host                          tasks     busy s\n"
        "       0  n1                               15     10.250\n"
        "       1  n2                               25     20.500\n");
    free(text);
    cJSON_Delete(doc);
}
END_TEST

static void no_slowest_zero_total(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "slowest", cJSON_CreateArray());
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "total", cJSON_CreateNumber(0));
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "done", cJSON_CreateNumber(0));
}

START_TEST(text_rendering_of_unknowns)
{
    cJSON *doc = NULL;
    char *text;
    write_edited(unknown_total);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_OK);
    text = render(mb_status_print, doc, "s.json");
    /* No total: no percentage, "?" for the unknown counts and times. */
    ck_assert_ptr_nonnull(strstr(text, "started ?, elapsed 2m05s\n"));
    ck_assert_ptr_nonnull(strstr(text, "  40 done of ?, 3 running, ? pending,"));
    ck_assert_ptr_nonnull(strstr(text, "ETA ?\n"));
    free(text);
    cJSON_Delete(doc);

    /* No task at all is all done; an empty slowest list prints no table. */
    write_edited(no_slowest_zero_total);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_OK);
    text = render(mb_status_print, doc, "s.json");
    ck_assert_ptr_nonnull(strstr(text, "  0 done of 0 (100.0%),"));
    ck_assert_ptr_null(strstr(text, "slowest"));
    free(text);
    cJSON_Delete(doc);
}
END_TEST

/* The good document, still "running", written by PID on HOST at UPDATED. */
static cJSON *running_doc(const char *host, double pid, const char *updated)
{
    cJSON *doc = load_good();
    cJSON_AddStringToObject(doc, "host", host);
    cJSON_AddNumberToObject(doc, "pid", pid);
    cJSON_AddStringToObject(doc, "updated", updated);
    return doc;
}

static void now_iso(char *buf, size_t n, time_t back)
{
    time_t t = time(NULL) - back;
    struct tm tm;
    ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
    ck_assert_uint_gt(strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
}

START_TEST(a_killed_writer_on_this_host_is_gone)
{
    char me[256], when[32], *text;
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, NULL, 0), child); /* reaped: that PID is free */
    ck_assert_int_eq(gethostname(me, sizeof me), 0);
    now_iso(when, sizeof when, 0);
    cJSON *doc = running_doc(me, (double)child, when);
    mb_status_judge_writer(doc);
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "state")->valuestring, "gone");
    text = render(mb_status_print, doc, "s.json");
    ck_assert_msg(strstr(text, "state gone") && strstr(text, "is gone without saying how"), "%s",
                  text);
    free(text);
    text = render(mb_status_html, doc, "s.json");
    ck_assert_msg(strstr(text, "state-failed") && !strstr(text, "http-equiv=\"refresh\""), "%s",
                  text);
    free(text);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(a_zombie_writer_is_gone)
{
    char me[256], when[32];
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    /* Not reaped yet: a zombie, as a killed rank 0 whose parent is stuck. */
    siginfo_t info = {0};
    ck_assert_int_eq(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(gethostname(me, sizeof me), 0);
    now_iso(when, sizeof when, 0);
    cJSON *doc = running_doc(me, (double)child, when);
    mb_status_judge_writer(doc);
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "state")->valuestring, "gone");
    cJSON_Delete(doc);
    ck_assert_int_eq(waitpid(child, NULL, 0), child);
}
END_TEST

START_TEST(a_live_writer_stays_running)
{
    char me[256], when[32];
    ck_assert_int_eq(gethostname(me, sizeof me), 0);
    now_iso(when, sizeof when, 0);
    cJSON *doc = running_doc(me, (double)getpid(), when);
    mb_status_judge_writer(doc);
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "state")->valuestring, "running");
    ck_assert_ptr_null(cJSON_GetObjectItem(doc, "stale_seconds"));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(an_old_document_from_another_host_is_stale)
{
    char when[32], *text;
    now_iso(when, sizeof when, 3600);
    cJSON *doc = running_doc("no-such-host.invalid", 1, when);
    mb_status_judge_writer(doc);
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "state")->valuestring, "running");
    ck_assert_double_ge(cJSON_GetObjectItem(doc, "stale_seconds")->valuedouble, 3600);
    text = render(mb_status_print, doc, "s.json");
    ck_assert_msg(strstr(text, "no update for 1h") && strstr(text, "without a last word"), "%s",
                  text);
    free(text);
    cJSON_Delete(doc);
    /* Fresh from another host: nothing to say. */
    now_iso(when, sizeof when, 10);
    doc = running_doc("no-such-host.invalid", 1, when);
    mb_status_judge_writer(doc);
    ck_assert_ptr_null(cJSON_GetObjectItem(doc, "stale_seconds"));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(escape_html_replaces_the_five)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(fp);
    mb_status_escape_html("a<b>&\"c'd caf\xc3\xa9 &amp;", fp);
    fputc('|', fp);
    mb_status_escape_html("", fp);
    fclose(fp);
    ck_assert_str_eq(text, "a&lt;b&gt;&amp;&quot;c&#39;d caf\xc3\xa9 &amp;amp;|");
    free(text);
}
END_TEST

static void hostile_strings(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "kernel",
                                           cJSON_CreateString("<script>alert(1)</script>"));
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "state", cJSON_CreateString("failed"));
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "started", cJSON_CreateString("\"><img>"));
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "per_rank"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(r, "host", cJSON_CreateString("h&'x"));
    cJSON *f = cJSON_CreateObject(), *list = cJSON_CreateArray();
    cJSON_AddNumberToObject(f, "task", 7);
    cJSON_AddStringToObject(f, "reason", "line 8: <b>bad</b>");
    cJSON_AddItemToArray(list, f);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "failures");
    cJSON_AddItemToObject(doc, "failures", list);
}

START_TEST(html_escapes_every_document_string)
{
    cJSON *doc = NULL;
    char *page;
    write_edited(hostile_strings);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_OK);
    page = render(mb_status_html, doc, "a<b>.json");
    ck_assert_ptr_null(strstr(page, "<script"));
    ck_assert_ptr_null(strstr(page, "<img"));
    ck_assert_ptr_null(strstr(page, "a<b>"));
    ck_assert_ptr_nonnull(strstr(page, "<title>mpibatch status: &lt;script&gt;alert(1)"
                                       "&lt;/script&gt; failed</title>"));
    ck_assert_ptr_nonnull(strstr(page, "&quot;&gt;&lt;img&gt;"));
    ck_assert_ptr_nonnull(strstr(page, "a&lt;b&gt;.json"));
    ck_assert_ptr_nonnull(strstr(page, ">h&amp;&#39;x</td>"));
    ck_assert_ptr_nonnull(strstr(page, "<span id=\"state\" class=\"state-failed\">failed</span>"));
    /* The failed tasks' reasons, escaped; a failed job's page does not reload. */
    ck_assert_ptr_nonnull(strstr(page, "<tr><td>7</td><td class=\"reason\">line 8: "
                                       "&lt;b&gt;bad&lt;/b&gt;</td></tr>"));
    ck_assert_ptr_null(strstr(page, "http-equiv"));
    free(page);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(html_page_content)
{
    cJSON *doc = load_good();
    char *page = render(mb_status_html, doc, "s.json");
    ck_assert_int_eq(strncmp(page, "<!DOCTYPE html>\n", 16), 0);
    ck_assert_ptr_nonnull(strstr(page, "</body>\n</html>\n"));
    /* Self-contained: nothing is fetched from elsewhere. */
    ck_assert_ptr_null(strstr(page, "src="));
    ck_assert_ptr_null(strstr(page, "href="));
    ck_assert_ptr_nonnull(strstr(page, "<span id=\"state\" class=\"state-running\">running</span>"));
    ck_assert_ptr_nonnull(strstr(page, "<meta http-equiv=\"refresh\""));
    /* 40 of 100 done; rank bars against the busiest rank (25 tasks). */
    ck_assert_ptr_nonnull(strstr(page, "<div class=\"bar big\"><div style=\"width: 40.0%\">"));
    ck_assert_ptr_nonnull(strstr(page, "<td>15</td><td>10.250</td><td class=\"host\">"
                                       "<div class=\"bar\"><div style=\"width: 60.0%\">"));
    ck_assert_ptr_nonnull(strstr(page, "<td>25</td><td>20.500</td><td class=\"host\">"
                                       "<div class=\"bar\"><div style=\"width: 100.0%\">"));
    ck_assert_ptr_nonnull(strstr(page, "<tr><th class=\"host\">done</th><td class=\"host\">"
                                       "40 of 100</td></tr>"));
    ck_assert_ptr_nonnull(strstr(page, "<tr><th class=\"host\">failed</th><td class=\"host\">"
                                       "2 (1 retried, 0 speculated)</td></tr>"));
    ck_assert_ptr_nonnull(strstr(page, "<h2>Slowest tasks</h2>"));
    ck_assert_ptr_nonnull(strstr(page, "<tr><td>17</td><td>3.500</td><td>1</td></tr>"));
    free(page);
    cJSON_Delete(doc);
}
END_TEST

static void overdone(cJSON *doc)
{
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "done", cJSON_CreateNumber(150));
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "slowest", cJSON_CreateArray());
}

START_TEST(html_bar_is_clamped_and_slowest_optional)
{
    cJSON *doc = NULL;
    char *page;
    write_edited(overdone);
    ck_assert_int_eq(mb_status_load(path, &doc), MB_OK);
    page = render(mb_status_html, doc, "s.json");
    ck_assert_ptr_nonnull(strstr(page, "<div class=\"bar big\"><div style=\"width: 100.0%\">"));
    ck_assert_ptr_null(strstr(page, "Slowest"));
    free(page);
    cJSON_Delete(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, good_document_loads);
    tcase_add_test(tc, nulls_are_allowed_where_documented);
    tcase_add_test(tc, missing_empty_and_binary_files_are_refused);
    tcase_add_test(tc, malformed_json_gives_line_and_column);
    tcase_add_test(tc, other_documents_are_refused);
    tcase_add_test(tc, bad_keys_are_named);
    tcase_add_test(tc, text_rendering);
    tcase_add_test(tc, text_rendering_of_unknowns);
    tcase_add_test(tc, a_killed_writer_on_this_host_is_gone);
    tcase_add_test(tc, a_zombie_writer_is_gone);
    tcase_add_test(tc, a_live_writer_stays_running);
    tcase_add_test(tc, an_old_document_from_another_host_is_stale);
    tcase_add_test(tc, escape_html_replaces_the_five);
    tcase_add_test(tc, html_escapes_every_document_string);
    tcase_add_test(tc, html_page_content);
    tcase_add_test(tc, html_bar_is_clamped_and_slowest_optional);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
