/* test_train.c - `mpibatch train`, run in-process at one rank (an MPI
 * singleton) on generated documents: the model file holds the five
 * topics, the document counts and the options given; the sub-topic plan
 * keeps the codes with enough documents, by name, then "other"; the fit
 * separates the topics it was trained on; training twice gives the same
 * model; bad records are skipped with their line as the reason; and input
 * and usage errors name what is wrong.  Several ranks (the same model at
 * any rank count) are covered by tests/integration. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "commands/commands.h"
#include "commands/corpus.h"
#include "ml/jsonl.h"
#include "ml/model_io.h"
#include "ml/tokenize.h"
#include "unit_dir.h"
#include "unit_mpi.h"

/* At seed 7, codes of 4 to 17 documents in physics, math and cs (8 is
 * kept, 7 is "other"); none of 8 in q-bio and q-fin, which get no
 * sub-model. */
enum { DOCS = 200 };
#define MIN_DOCS 8
#define TEXT(x) TEXT_(x)
#define TEXT_(x) #x

#define DIR_TEMPLATE "/tmp/mb_test_train_XXXXXX"
#define PATH_OF(name) char name[sizeof DIR_TEMPLATE + 16]
static char dir[sizeof DIR_TEMPLATE], suite_dir[sizeof DIR_TEMPLATE];
static PATH_OF(input);
static PATH_OF(model);
static PATH_OF(report);
/* The suite's model: trained once on DOCS documents, read by the tests. */
static PATH_OF(corpus);
static PATH_OF(trained);
static PATH_OF(trained_report);

/* Each test's own directory, for what it writes. */
static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(input, sizeof input, "%s/in.jsonl", dir);
    snprintf(model, sizeof model, "%s/model.h5", dir);
    snprintf(report, sizeof report, "%s/train.json", dir);
}

static void teardown(void)
{
    mb_test_dir_remove(dir);
}

/* DOCS generated documents, then extra (may be NULL) appended. */
static void write_input(const char *path, const char *extra)
{
    mb_corpus_params p = {.docs = DOCS, .seed = 7, .first_id = 0, .noise = 0.6};
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(mb_corpus_write(fp, &p), MB_OK);
    if (extra)
        ck_assert_int_ge(fputs(extra, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Run `mpibatch train --input IN --quiet ARGS...` (NULL-terminated) and
 * return its exit status. */
static int train(const char *first, ...)
{
    char *argv[24];
    int argc = 0;
    va_list ap;
    argv[argc++] = strdup("train");
    argv[argc++] = strdup("--quiet");
    argv[argc++] = strdup("--hash-bits");
    argv[argc++] = strdup("12");
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, 23);
        argv[argc++] = strdup(a);
    }
    va_end(ap);
    argv[argc] = NULL;
    int status = mb_command_train.main(argc, argv, MPI_COMM_WORLD);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return status;
}

/* The options of the suite's model (none of them the defaults). */
#define OPTIONS "--title-weight", "3", "--l2", "0.5", "--max-iter", "40", \
    "--subtopic-min-docs", TEXT(MIN_DOCS)

static void suite_setup(void)
{
    strcpy(suite_dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(suite_dir));
    snprintf(corpus, sizeof corpus, "%s/in.jsonl", suite_dir);
    snprintf(trained, sizeof trained, "%s/model.h5", suite_dir);
    snprintf(trained_report, sizeof trained_report, "%s/train.json", suite_dir);
    write_input(corpus, NULL);
    ck_assert_int_eq(train("--input", corpus, "--out", trained, "--report", trained_report,
                           OPTIONS, (char *)NULL), MB_EXIT_OK);
}

static void suite_teardown(void)
{
    mb_test_dir_remove(suite_dir);
}

static cJSON *load_report(const char *path)
{
    FILE *fp = fopen(path, "r");
    static char text[65536];
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

/* What the input says, counted here from its records: documents per
 * topic and, per topic, how many have each primary category code. */
typedef struct code_count {
    char code[MB_JSONL_MAX_CATEGORY + 1];
    long n;
} code_count;

static struct {
    long per_topic[MB_TOPIC_COUNT];
    code_count codes[MB_TOPIC_COUNT][64];
    size_t n_codes[MB_TOPIC_COUNT];
    long docs;
} truth;

static void count_input(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[8192];
    memset(&truth, 0, sizeof truth);
    ck_assert_ptr_nonnull(fp);
    for (unsigned long no = 1; fgets(line, sizeof line, fp); no++) {
        mb_jsonl_record r;
        size_t i;
        if (mb_jsonl_parse(line, strlen(line), no, &r) != MB_OK)
            continue;
        if (r.label >= 0) {
            code_count *c = truth.codes[r.label];
            size_t *n = &truth.n_codes[r.label];
            for (i = 0; i < *n && strcmp(c[i].code, r.subtopic) != 0; i++)
                ;
            ck_assert_uint_lt(i, 64);
            if (i == *n)
                strcpy(c[(*n)++].code, r.subtopic);
            c[i].n++;
            truth.per_topic[r.label]++;
            truth.docs++;
        }
        mb_jsonl_record_free(&r);
    }
    fclose(fp);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const code_count *)a)->code, ((const code_count *)b)->code);
}

/* The sub-labels train must plan for topic k (fewer than 64 codes per
 * topic here): the codes with at least MIN_DOCS documents by name, then
 * "other" if a code was left out; joined by spaces. */
static void planned(int k, char *out, size_t cap)
{
    code_count kept[64];
    size_t n = 0, len = 0;
    for (size_t i = 0; i < truth.n_codes[k]; i++)
        if (truth.codes[k][i].n >= MIN_DOCS)
            kept[n++] = truth.codes[k][i];
    qsort(kept, n, sizeof *kept, by_name);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s ", kept[i].code);
    if (n < truth.n_codes[k])
        snprintf(out + len, cap - len, "other ");
}

static void labels_of(const mb_model *m, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->n_labels; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s ", m->labels[i]);
}

START_TEST(model_holds_topics_counts_and_options)
{
    mb_model m;
    count_input(corpus);
    ck_assert_int_eq(mb_model_load(&m, trained), MB_OK);
    ck_assert_uint_eq(m.n_labels, MB_TOPIC_COUNT);
    for (int k = 0; k < MB_TOPIC_COUNT; k++)
        ck_assert_str_eq(m.labels[k], mb_jsonl_topic_name(k));
    ck_assert_int_eq(m.n_train_docs, DOCS);
    ck_assert_int_eq(truth.docs, DOCS);
    ck_assert_uint_eq(m.params.hash_bits, 12);
    ck_assert_uint_eq(m.params.title_weight, 3);
    ck_assert_double_eq(m.params.l2, 0.5);
    ck_assert_uint_eq(m.params.max_iter, 40);
    ck_assert_uint_gt(m.n_active, 0);
    ck_assert_uint_le(m.n_active, (size_t)1 << 12);
    /* Sub-topic models: where a topic has two or more sub-labels, one
     * trained on that topic's documents, with the planned labels. */
    ck_assert_ptr_nonnull(m.sub);
    int subs = 0;
    for (int k = 0; k < MB_TOPIC_COUNT; k++) {
        char want[1024], got[1024];
        planned(k, want, sizeof want);
        labels_of(&m.sub[k], got, sizeof got);
        if (m.sub[k].n_labels == 0) {
            /* One sub-label or none: nothing to tell apart. */
            ck_assert_msg(strchr(want, ' ') == strrchr(want, ' '), "%s: '%s' but no sub-model",
                          m.labels[k], want);
            continue;
        }
        subs++;
        ck_assert_msg(strcmp(got, want) == 0, "%s: sub-labels '%s', planned '%s'", m.labels[k],
                      got, want);
        ck_assert_int_eq(m.sub[k].n_train_docs, truth.per_topic[k]);
        ck_assert_uint_le(m.sub[k].params.hash_bits, m.params.hash_bits);
    }
    ck_assert_int_ge(subs, 2);
    /* The report counts what was read and fitted. */
    cJSON *r = load_report(trained_report);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "command")->valuestring, "train");
    ck_assert_double_eq(num(r, "documents"), DOCS);
    ck_assert_double_eq(num(r, "bad_records"), 0);
    ck_assert_double_eq(num(r, "features"), (double)m.n_active);
    ck_assert_double_eq(num(r, "levels"), 2);
    ck_assert(num(r, "iterations") >= 1 && num(r, "iterations") <= 40);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "failures")), 0);
    cJSON_Delete(r);
    mb_model_free(&m);
    /* Input, model and report; no temporary file was left. */
    ck_assert_int_eq(mb_test_dir_entries(suite_dir), 3);
}
END_TEST

/* The fit learnt the topics: it labels most of its own training documents
 * right, where a model that learnt nothing gets about one in five. */
START_TEST(fit_separates_the_training_topics)
{
    FILE *fp;
    char line[8192];
    mb_model m;
    mb_features f;
    long right = 0, total = 0;
    ck_assert_int_eq(mb_model_load(&m, trained), MB_OK);
    ck_assert_int_eq(mb_features_init(&f, m.params.hash_bits, m.params.title_weight), MB_OK);
    ck_assert_ptr_nonnull(fp = fopen(corpus, "r"));
    for (unsigned long no = 1; fgets(line, sizeof line, fp); no++) {
        mb_jsonl_record r;
        double scores[MB_TOPIC_COUNT], sum = 0;
        int label;
        ck_assert_int_eq(mb_jsonl_parse(line, strlen(line), no, &r), MB_OK);
        ck_assert_int_eq(mb_model_predict(&m, &f, r.title, r.title_len, r.abstract,
                                          r.abstract_len, scores, &label), MB_OK);
        for (int k = 0; k < MB_TOPIC_COUNT; k++)
            sum += scores[k];
        if (sum < 0.999 || sum > 1.001)
            ck_abort_msg("line %lu: scores sum to %g", no, sum);
        right += label == r.label;
        total++;
        mb_jsonl_record_free(&r);
    }
    fclose(fp);
    ck_assert_int_eq(total, DOCS);
    ck_assert_msg(right * 10 >= total * 8, "%ld of %ld right", right, total);
    mb_features_free(&f);
    mb_model_free(&m);
}
END_TEST

/* Two bitwise comparisons of a model's arrays (one assertion each). */
static void assert_same(const mb_model *a, const mb_model *b)
{
    ck_assert_uint_eq(a->n_labels, b->n_labels);
    ck_assert_uint_eq(a->n_buckets, b->n_buckets);
    ck_assert_uint_eq(a->n_active, b->n_active);
    ck_assert_int_eq(memcmp(a->table, b->table,
                            a->n_buckets * (a->n_labels + 1) * sizeof *a->table), 0);
    ck_assert_int_eq(memcmp(a->bias, b->bias, sizeof a->bias), 0);
    ck_assert_int_eq(memcmp(a->labels, b->labels, sizeof a->labels), 0);
}

START_TEST(training_twice_gives_the_same_model)
{
    mb_model a, b;
    ck_assert_int_eq(train("--input", corpus, "--out", model, OPTIONS, (char *)NULL), MB_EXIT_OK);
    ck_assert_int_eq(mb_model_load(&a, trained), MB_OK);
    ck_assert_int_eq(mb_model_load(&b, model), MB_OK);
    assert_same(&a, &b);
    for (int k = 0; k < MB_TOPIC_COUNT; k++)
        if (a.sub[k].n_labels || b.sub[k].n_labels)
            assert_same(&a.sub[k], &b.sub[k]);
    mb_model_free(&a);
    mb_model_free(&b);
}
END_TEST

/* Lines DOCS+1 and DOCS+3 are bad (not JSON; no categories), the others
 * train: each bad line is a failure whose reason names it. */
START_TEST(bad_records_are_skipped_with_their_line)
{
    char line1[32], line3[32];
    mb_model m;
    write_input(input, "not json\n"
                "{\"id\": \"x1\", \"title\": \"Spin\", \"abstract\": \"Spin chains.\", "
                "\"categories\": \"cond-mat.str-el\"}\n"
                "{\"id\": \"x2\", \"title\": \"No label\", \"abstract\": \"Nothing.\"}\n");
    ck_assert_int_eq(train("--input", input, "--out", model, "--report", report, "--max-iter",
                           "5", (char *)NULL), MB_EXIT_OK);
    ck_assert_int_eq(mb_model_load(&m, model), MB_OK);
    ck_assert_int_eq(m.n_train_docs, DOCS + 1);
    mb_model_free(&m);
    cJSON *r = load_report(report);
    ck_assert_double_eq(num(r, "documents"), DOCS + 1);
    ck_assert_double_eq(num(r, "bad_records"), 2);
    cJSON *fails = cJSON_GetObjectItemCaseSensitive(r, "failures");
    ck_assert_int_eq(cJSON_GetArraySize(fails), 2);
    snprintf(line1, sizeof line1, "line %d", DOCS + 1);
    snprintf(line3, sizeof line3, "line %d: no categories", DOCS + 3);
    const cJSON *f0 = cJSON_GetArrayItem(fails, 0), *f1 = cJSON_GetArrayItem(fails, 1);
    ck_assert_double_eq(num(f0, "task"), DOCS);
    ck_assert_double_eq(num(f1, "task"), DOCS + 2);
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItemCaseSensitive(f0, "reason")->valuestring,
                                 line1));
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItemCaseSensitive(f1, "reason")->valuestring,
                                 line3));
    cJSON_Delete(r);
}
END_TEST

START_TEST(nothing_to_train_on_is_an_input_error)
{
    FILE *fp = fopen(input, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("{\"id\": \"a\", \"abstract\": \"Unlabelled.\"}\n"
          "{\"id\": \"b\", \"abstract\": \"Also unlabelled.\"}\n", fp);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(train("--input", input, "--out", model, (char *)NULL), MB_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "no labelled documents to train on"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), input));
    /* No model, and no temporary file. */
    ck_assert_int_eq(mb_test_dir_entries(dir), 1);
}
END_TEST

START_TEST(missing_input_is_named)
{
    ck_assert_int_eq(train("--input", input, "--out", model, (char *)NULL), MB_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), input));
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
}
END_TEST

START_TEST(input_and_out_are_required)
{
    ck_assert_int_eq(train("--out", model, (char *)NULL), MB_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "'input' is required"));
    ck_assert_int_eq(train("--input", input, (char *)NULL), MB_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "'out' is required"));
    ck_assert_int_eq(train("--input", input, "--out", model, "--hash-bits", "40", (char *)NULL),
                     MB_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "hash-bits"));
    ck_assert_int_eq(mb_test_dir_entries(dir), 0);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, model_holds_topics_counts_and_options);
    tcase_add_test(tc, fit_separates_the_training_topics);
    tcase_add_test(tc, training_twice_gives_the_same_model);
    tcase_add_test(tc, bad_records_are_skipped_with_their_line);
    tcase_add_test(tc, nothing_to_train_on_is_an_input_error);
    tcase_add_test(tc, missing_input_is_named);
    tcase_add_test(tc, input_and_out_are_required);
    suite_add_tcase(s, tc);
    return mb_test_run_mpi(s, &argc, &argv);
}
