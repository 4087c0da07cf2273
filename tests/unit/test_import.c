/* test_import.c - `mpibatch import`, run in-process at one rank (an MPI
 * singleton): JSON lines into a document store, bad records skipped and
 * counted with their lines (exit 1), --strict (exit 3, nothing written),
 * the report, and input and usage errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "docstore.h"
#include "commands/commands.h"
#include "unit_dir.h"
#include "unit_mpi.h"

#define DIR_TEMPLATE "/tmp/mb_test_import_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char input[sizeof DIR_TEMPLATE + 16], store[sizeof DIR_TEMPLATE + 16],
    report[sizeof DIR_TEMPLATE + 16];

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(input, sizeof input, "%s/in.jsonl", dir);
    snprintf(store, sizeof store, "%s/docs.h5", dir);
    snprintf(report, sizeof report, "%s/imp.json", dir);
}

static void teardown(void)
{
    mb_test_dir_remove(dir);
}

static int entries(void)
{
    return mb_test_dir_entries(dir);
}

static void write_input(const char *text)
{
    FILE *fp = fopen(input, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_ge(fputs(text, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Run `mpibatch import ARGS...` (NULL-terminated) and return its exit status. */
static int import(const char *first, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    argv[argc++] = strdup("import");
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, 15);
        argv[argc++] = strdup(a);
    }
    va_end(ap);
    argv[argc] = NULL;
    int status = mb_command_import.main(argc, argv, MPI_COMM_WORLD);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return status;
}

static cJSON *load_report(void)
{
    FILE *fp = fopen(report, "r");
    char text[65536];
    size_t n;
    ck_assert_ptr_nonnull(fp);
    n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    cJSON *r = cJSON_Parse(text);
    ck_assert_ptr_nonnull(r);
    return r;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", key);
    return v->valuedouble;
}

/* The store's documents: ids and input lines, in order; returns the count. */
static uint64_t read_store(char ids[][16], int64_t *lines, uint64_t max)
{
    mb_source src;
    mb_batch b = {0};
    ck_assert_int_eq(mb_source_open_docstore(&src, store), MB_OK);
    ck_assert_int_eq(src.read(src.state, max + 1, &b), MB_OK);
    ck_assert_uint_le(b.count, max);
    for (uint64_t i = 0; i < b.count; i++) {
        mb_doc d;
        ck_assert_int_eq(mb_docstore_unpack(b.bytes.data + b.offsets[i],
                                            b.offsets[i + 1] - b.offsets[i], &d), MB_OK);
        if (ids)
            snprintf(ids[i], 16, "%s", d.id);
        lines[i] = d.line;
    }
    uint64_t n = b.count;
    mb_batch_free(&b);
    mb_source_close(&src);
    return n;
}

#define REC(id) "{\"id\": \"" id "\", \"title\": \"T " id "\", \"abstract\": \"About " id \
    ".\", \"categories\": \"cs.LG math.PR\", \"label\": \"cs\"}\n"

/* Lines 2 to 5 are bad: malformed, no abstract, a label given for a
 * category outside the five topics (without the label that is a good,
 * unlabelled record), a label that is not the primary category's. */
static const char mixed[] =
    REC("a")
    "{\"id\": \"broken\"\n"
    "{\"id\": \"no-abstract\"}\n"
    "{\"id\": \"s\", \"abstract\": \"x\", \"categories\": \"stat.ML\", \"label\": \"cs\"}\n"
    "{\"id\": \"l\", \"abstract\": \"x\", \"categories\": \"cs.LG\", \"label\": \"math\"}\n"
    REC("b")
    REC("c");

START_TEST(good_records_are_imported)
{
    char ids[4][16];
    int64_t lines[4];
    write_input(REC("a") REC("b") REC("c"));
    ck_assert_int_eq(import("--input", input, "--out", store, "--report", report, "--quiet",
                            (char *)NULL), MB_EXIT_OK);
    ck_assert_uint_eq(read_store(ids, lines, 4), 3);
    ck_assert_str_eq(ids[0], "a");
    ck_assert_str_eq(ids[2], "c");
    ck_assert_int_eq(lines[0], 1);
    ck_assert_int_eq(lines[2], 3);
    cJSON *r = load_report();
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "command")->valuestring, "import");
    ck_assert_double_eq(num(r, "lines"), 3);
    ck_assert_double_eq(num(r, "documents"), 3);
    ck_assert_double_eq(num(r, "bad_records"), 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "failures")), 0);
    cJSON_Delete(r);
    /* Input, store and report; no temporary file is left. */
    ck_assert_int_eq(entries(), 3);
}
END_TEST

START_TEST(bad_records_are_skipped_and_counted)
{
    int64_t lines[8];
    static const int bad_lines[] = {2, 3, 4, 5};
    write_input(mixed);
    ck_assert_int_eq(import("--input", input, "--out", store, "--report", report, "--quiet",
                            (char *)NULL), MB_EXIT_TASKS);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "4 bad records skipped"));
    /* The good records keep their own input lines. */
    ck_assert_uint_eq(read_store(NULL, lines, 8), 3);
    ck_assert_int_eq(lines[0], 1);
    ck_assert_int_eq(lines[1], 6);
    ck_assert_int_eq(lines[2], 7);
    cJSON *r = load_report();
    ck_assert_double_eq(num(r, "lines"), 7);
    ck_assert_double_eq(num(r, "documents"), 3);
    ck_assert_double_eq(num(r, "bad_records"), 4);
    cJSON *fails = cJSON_GetObjectItemCaseSensitive(r, "failures");
    ck_assert_int_eq(cJSON_GetArraySize(fails), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *f = cJSON_GetArrayItem(fails, i);
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(f, "reason");
        ck_assert_double_eq(num(f, "line"), bad_lines[i]);
        ck_assert(cJSON_IsString(why) && why->valuestring[0] != '\0');
    }
    cJSON_Delete(r);
}
END_TEST

/* More lines than one read (1024) and more bad records than the report
 * lists (100): every 20th of 2100 lines is bad. */
START_TEST(many_records_across_reads)
{
    enum { N = 2100 };
    static int64_t lines[N];
    FILE *fp = fopen(input, "w");
    ck_assert_ptr_nonnull(fp);
    for (int i = 1; i <= N; i++)
        if (i % 20 == 0)
            fputs("not json\n", fp);
        else
            fprintf(fp, "{\"id\": \"d%d\", \"abstract\": \"text %d\"}\n", i, i);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(import("--input", input, "--out", store, "--report", report, "--quiet",
                            (char *)NULL), MB_EXIT_TASKS);
    ck_assert_uint_eq(read_store(NULL, lines, N), N - N / 20);
    for (int i = 0, want = 1; i < N - N / 20; i++, want++) {
        if (want % 20 == 0)
            want++;
        ck_assert_int_eq(lines[i], want);
    }
    cJSON *r = load_report();
    ck_assert_double_eq(num(r, "lines"), N);
    ck_assert_double_eq(num(r, "bad_records"), N / 20);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "failures")), 100);
    ck_assert_double_eq(num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "failures"),
                                               99), "line"), 2000);
    cJSON_Delete(r);
}
END_TEST

START_TEST(strict_stops_at_the_first_bad_record)
{
    write_input(mixed);
    ck_assert_int_eq(import("--input", input, "--out", store, "--report", report, "--strict",
                            "--quiet", (char *)NULL), MB_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "(--strict)"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "line 2"));
    /* Neither store nor report, nor their temporary files. */
    ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(missing_input_is_named)
{
    ck_assert_int_eq(import("--input", input, "--out", store, "--quiet", (char *)NULL),
                     MB_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), input));
    ck_assert_int_eq(entries(), 0);
}
END_TEST

START_TEST(input_and_out_are_required)
{
    write_input(REC("a"));
    ck_assert_int_eq(import("--input", input, (char *)NULL), MB_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "'input' and 'out' are required"));
    ck_assert_int_eq(import("--out", store, (char *)NULL), MB_EXIT_USAGE);
    ck_assert_int_eq(entries(), 1);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, good_records_are_imported);
    tcase_add_test(tc, bad_records_are_skipped_and_counted);
    tcase_add_test(tc, many_records_across_reads);
    tcase_add_test(tc, strict_stops_at_the_first_bad_record);
    tcase_add_test(tc, missing_input_is_named);
    tcase_add_test(tc, input_and_out_are_required);
    suite_add_tcase(s, tc);
    return mb_test_run_mpi(s, &argc, &argv);
}
