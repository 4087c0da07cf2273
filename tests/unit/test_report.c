/* test_report.c - the JSON report: every key mb_report_build fills in
 * (docs/report.md), the atomic write (nothing under the final name before
 * commit, nothing left after discard or a failed commit), and the human
 * summary. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "report.h"
#include "unit_dir.h"

#define DIR_TEMPLATE "/tmp/mb_test_report_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char path[sizeof DIR_TEMPLATE + 16];

static const mb_kernel kernel = {.name = "testk"};
static const char *const hosts[] = {"n1", "n2", "n1"};
static const mb_rank_stats stats[] = {{4, 1.0}, {3, 2.0}, {3, 3.0}};
static char reason[] = "bad input";
static const mb_failure failures[] = {{5, reason}};

static mb_job job;
static mb_report_run run;

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/report.json", dir);
    job = (mb_job){.kernel = &kernel, .schedule = MB_SCHEDULE_DYNAMIC, .chunk = 7};
    job.spec = cJSON_Parse("{\"kernel\": \"testk\", \"out\": \"out.h5\", "
                           "\"input\": \"https://h/d.jsonl?sig=SECRET&sv=1\"}");
    ck_assert_ptr_nonnull(job.spec);
    run = (mb_report_run){.job = &job, .nranks = 3, .hosts = hosts, .tasks = 10,
                          .failed = 1, .retried = 2, .resumed = 0, .speculated = 1,
                          .wall_seconds = 2.5, .stats = stats, .failures = failures,
                          .nfailures = 1};
}

/* Every test leaves at most report.json (a file or a directory). */
static void teardown(void)
{
    cJSON_Delete(job.spec);
    unlink(path);
    rmdir(path);
    rmdir(dir);
}

static int entries(void)
{
    return mb_test_dir_entries(dir);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", key);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", key);
    return v->valuestring;
}

static cJSON *build_with_result(void)
{
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "pi", 3.141592653589793);
    cJSON_AddStringToObject(result, "note", "not a number");
    cJSON_AddNumberToObject(result, "tenth", 0.1);
    cJSON *r = mb_report_build(&run, result);
    ck_assert_ptr_nonnull(r);
    /* The result is moved in, not copied. */
    ck_assert_ptr_eq(cJSON_GetObjectItemCaseSensitive(r, "result"), result);
    return r;
}

START_TEST(build_fills_every_key)
{
    cJSON *r = build_with_result(), *item;
    ck_assert_str_eq(str(r, "program"), "mpibatch");
    ck_assert_str_eq(str(r, "version"), PACKAGE_VERSION);
    ck_assert_str_eq(str(r, "kernel"), "testk");
    ck_assert_str_eq(str(r, "schedule"), "dynamic");
    ck_assert_double_eq(num(r, "chunk"), 7);
    ck_assert_double_eq(num(r, "ranks"), 3);
    ck_assert_double_eq(num(r, "tasks"), 10);
    ck_assert_double_eq(num(r, "tasks_failed"), 1);
    ck_assert_double_eq(num(r, "tasks_retried"), 2);
    ck_assert_double_eq(num(r, "tasks_resumed"), 0);
    ck_assert_double_eq(num(r, "speculative_runs"), 1);
    ck_assert_double_eq(num(r, "wall_seconds"), 2.5);
    ck_assert_double_eq(num(r, "tasks_per_second"), 4);
    /* Busy 1, 2, 3: max 3 over mean 2, less 1. */
    ck_assert_double_eq(num(r, "load_imbalance"), 0.5);
    /* A rank 0 that only served is left out: busy 2, 3: 3 / 2.5 - 1. */
    run.root_served_only = 1;
    cJSON *served = mb_report_build(&run, NULL);
    run.root_served_only = 0;
    ck_assert_double_eq_tol(num(served, "load_imbalance"), 0.2, 1e-12);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(served, "per_rank")), 3);
    cJSON_Delete(served);
    /* Hosts: distinct, in order of first appearance. */
    item = cJSON_GetObjectItemCaseSensitive(r, "hosts");
    ck_assert_int_eq(cJSON_GetArraySize(item), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(item, 0)->valuestring, "n1");
    ck_assert_str_eq(cJSON_GetArrayItem(item, 1)->valuestring, "n2");
    ck_assert_str_eq(str(r, "output"), "out.h5");
    cJSON_Delete(r);
}
END_TEST

START_TEST(build_per_rank_and_failures)
{
    static const double idle[] = {1.5, 0.5, 0}; /* wall 2.5 less busy, never negative */
    cJSON *r = build_with_result();
    cJSON *ranks = cJSON_GetObjectItemCaseSensitive(r, "per_rank");
    ck_assert_int_eq(cJSON_GetArraySize(ranks), 3);
    for (int i = 0; i < 3; i++) {
        cJSON *o = cJSON_GetArrayItem(ranks, i);
        ck_assert_double_eq(num(o, "rank"), i);
        ck_assert_str_eq(str(o, "host"), hosts[i]);
        ck_assert_double_eq(num(o, "tasks"), (double)stats[i].tasks);
        ck_assert_double_eq(num(o, "busy_seconds"), stats[i].busy_seconds);
        ck_assert_double_eq(num(o, "idle_seconds"), idle[i]);
    }
    cJSON *fails = cJSON_GetObjectItemCaseSensitive(r, "failures");
    ck_assert_int_eq(cJSON_GetArraySize(fails), 1);
    ck_assert_double_eq(num(cJSON_GetArrayItem(fails, 0), "task"), 5);
    ck_assert_str_eq(str(cJSON_GetArrayItem(fails, 0), "reason"), "bad input");
    cJSON_Delete(r);
}
END_TEST

/* The job is a redacted copy: the report shows no secret, and the job's
 * own spec keeps it. */
START_TEST(build_redacts_the_job)
{
    cJSON *r = build_with_result();
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(r, "job");
    ck_assert_ptr_ne(spec, job.spec);
    ck_assert_str_eq(str(spec, "input"), "https://h/d.jsonl?sig=REDACTED&sv=1");
    ck_assert_str_eq(str(spec, "kernel"), "testk");
    ck_assert_str_eq(str(job.spec, "input"), "https://h/d.jsonl?sig=SECRET&sv=1");
    char *text = cJSON_PrintUnformatted(r);
    ck_assert_ptr_null(strstr(text, "SECRET"));
    free(text);
    cJSON_Delete(r);
}
END_TEST

/* No time, no busy ranks, no result, no output, a static schedule, resumed tasks. */
START_TEST(build_degenerate_run)
{
    static const mb_rank_stats idle_stats[] = {{0, 0}, {0, 0}, {0, 0}};
    cJSON_DeleteItemFromObjectCaseSensitive(job.spec, "out");
    job.schedule = MB_SCHEDULE_STATIC;
    run.wall_seconds = 0;
    run.stats = idle_stats;
    run.nfailures = 0;
    cJSON *r = mb_report_build(&run, NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(str(r, "schedule"), "static");
    ck_assert_double_eq(num(r, "tasks_per_second"), 0);
    ck_assert_double_eq(num(r, "load_imbalance"), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "output")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "failures")), 0);
    cJSON *result = cJSON_GetObjectItemCaseSensitive(r, "result");
    ck_assert(cJSON_IsObject(result));
    ck_assert_ptr_null(result->child);
    cJSON_Delete(r);

    /* Tasks replayed from a journal do not count towards the rate. */
    run.wall_seconds = 2;
    run.resumed = 4;
    r = mb_report_build(&run, NULL);
    ck_assert_double_eq(num(r, "tasks_per_second"), 3);
    cJSON_Delete(r);
}
END_TEST

START_TEST(commit_is_atomic)
{
    mb_report_file *f;
    cJSON *r = build_with_result(), *back;
    char *text;
    FILE *fp;
    long n;
    ck_assert_int_eq(mb_report_open(&f, path), MB_OK);
    /* The temporary file exists from open on; the report does not. */
    ck_assert_int_eq(entries(), 1);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_eq(mb_report_commit(f, r), MB_OK);
    ck_assert_int_eq(entries(), 1);
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    text = calloc(1, (size_t)n + 1);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    ck_assert_int_eq(text[n - 1], '\n');
    back = cJSON_Parse(text);
    ck_assert(cJSON_Compare(back, r, 1));
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(r);
}
END_TEST

START_TEST(discard_leaves_nothing)
{
    mb_report_file *f;
    ck_assert_int_eq(mb_report_open(&f, path), MB_OK);
    ck_assert_int_eq(entries(), 1);
    mb_report_discard(f);
    ck_assert_int_eq(entries(), 0);
    mb_report_discard(NULL);
}
END_TEST

START_TEST(open_in_missing_directory_names_the_path)
{
    char bad[sizeof dir + 32];
    mb_report_file *f = NULL;
    snprintf(bad, sizeof bad, "%s/no/such/report.json", dir);
    ck_assert_int_eq(mb_report_open(&f, bad), MB_ERR_IO);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), bad));
    ck_assert_int_eq(entries(), 0);
}
END_TEST

/* A directory in the report's place makes the rename fail: the error names
 * the path and the temporary file goes. */
START_TEST(failed_commit_names_the_path_and_cleans_up)
{
    mb_report_file *f;
    cJSON *r = build_with_result();
    ck_assert_int_eq(mb_report_open(&f, path), MB_OK);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(mb_report_commit(f, r), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), path));
    ck_assert_int_eq(entries(), 1); /* only the directory */
    cJSON_Delete(r);
}
END_TEST

/* The summary of r as one string (the caller frees it). */
static char *summary(const cJSON *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(fp);
    mb_report_print_summary(r, fp);
    fclose(fp);
    return text;
}

START_TEST(summary_lines)
{
    cJSON *r = build_with_result();
    char *text = summary(r);
    /* pi needs 17 digits to read back, a tenth 15; strings are left out. */
    ck_assert_str_eq(text,
        "mpibatch " PACKAGE_VERSION ": testk, 10 tasks on 3 ranks (2 hosts), dynamic schedule, "
        "chunk 7\n"
        "  wall 2.500 s, 4 tasks/s, load imbalance 50.0%, 1 failed\n"
        "  2 re-runs of failed tasks, 0 tasks resumed from the journal, 1 speculative runs\n"
        "  result: pi=3.1415926535897931 tenth=0.1\n"
        "  output: out.h5\n");
    free(text);
    cJSON_Delete(r);
}
END_TEST

/* Without re-runs, resumes or speculation, and without output, those lines go. */
START_TEST(summary_omits_empty_lines)
{
    cJSON_DeleteItemFromObjectCaseSensitive(job.spec, "out");
    run.retried = run.speculated = 0;
    cJSON *r = mb_report_build(&run, NULL);
    char *text = summary(r);
    ck_assert_ptr_null(strstr(text, "re-runs"));
    ck_assert_ptr_null(strstr(text, "output:"));
    ck_assert_ptr_nonnull(strstr(text, "\n  result:\n"));
    free(text);
    cJSON_Delete(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, build_fills_every_key);
    tcase_add_test(tc, build_per_rank_and_failures);
    tcase_add_test(tc, build_redacts_the_job);
    tcase_add_test(tc, build_degenerate_run);
    tcase_add_test(tc, commit_is_atomic);
    tcase_add_test(tc, discard_leaves_nothing);
    tcase_add_test(tc, open_in_missing_directory_names_the_path);
    tcase_add_test(tc, failed_commit_names_the_path_and_cleans_up);
    tcase_add_test(tc, summary_lines);
    tcase_add_test(tc, summary_omits_empty_lines);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
