/* test_classify.c - the classify kernel through the kernel interface, at
 * one rank (an MPI singleton), with a model trained here: records of JSON
 * lines and text documents (id, label and its name, truth, scores equal to
 * the model's own prediction; sub-topics at --levels 2), a malformed
 * record failing only its task with its line and problem, the ordered
 * reduction's counts, accuracy and confusion in the summary, --strict, and
 * setup errors.  The job around it is tests/integration/classify.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "commands/commands.h"
#include "commands/corpus.h"
#include "kernels/kernels.h"
#include "ml/jsonl.h"
#include "ml/model_io.h"
#include "ml/tokenize.h"
#include "mpibatch/job.h"
#include "source_lines.h"
#include "unit_dir.h"
#include "unit_mpi.h"

enum { DOCS = 200, MAX_SLOTS = 128 };

#define DIR_TEMPLATE "/tmp/mb_test_classify_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char corpus[sizeof DIR_TEMPLATE + 16], model_path[sizeof DIR_TEMPLATE + 16];
static char lines[DOCS][4096];   /* the training documents, one per line */
static mb_model model;           /* the trained model, for expected scores */

/* Once for the suite: DOCS generated documents and a model trained on
 * them with the train command. */
static void suite_setup(void)
{
    mb_corpus_params p = {.docs = DOCS, .seed = 3, .first_id = 100, .noise = 0.6};
    char *argv[] = {"train", "--quiet", "--hash-bits", "12", "--subtopic-min-docs", "5",
                    "--input", corpus, "--out", model_path, NULL};
    FILE *fp;
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(corpus, sizeof corpus, "%s/in.jsonl", dir);
    snprintf(model_path, sizeof model_path, "%s/model.h5", dir);
    ck_assert_ptr_nonnull(fp = fopen(corpus, "w"));
    ck_assert_int_eq(mb_corpus_write(fp, &p), MB_OK);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(mb_command_train.main(10, argv, MPI_COMM_WORLD), MB_EXIT_OK);
    ck_assert_ptr_nonnull(fp = fopen(corpus, "r"));
    for (int i = 0; i < DOCS; i++) {
        ck_assert_ptr_nonnull(fgets(lines[i], sizeof lines[i], fp));
        lines[i][strcspn(lines[i], "\n")] = '\0';
    }
    fclose(fp);
    ck_assert_int_eq(mb_model_load(&model, model_path), MB_OK);
}

static void suite_teardown(void)
{
    mb_model_free(&model);
    mb_test_dir_remove(dir);
}

/* A classify job and its kernel state, as the driver sets them up. */
typedef struct kjob {
    mb_job job;
    void *state;
    const mb_field *fields;
    size_t n_fields, reclen;
} kjob;

/* Set up classify with the spec's extra keys (JSON members, may be "");
 * returns setup's result (the job is torn down by finish either way). */
static mb_err start(kjob *k, const char *model_file, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"kernel\": \"classify\", \"model\": \"%s\", \"input\": "
             "\"%s\"%s%s}", model_file, corpus, *extra ? ", " : "", extra);
    memset(k, 0, sizeof *k);
    ck_assert_int_eq(mb_job_from_text(text, "test", &k->job), MB_OK);
    ck_assert_ptr_eq(k->job.kernel, &mb_kernel_classify);
    mb_err rc = k->job.kernel->setup(&k->job, MPI_COMM_WORLD, &k->state);
    if (rc == MB_OK) {
        k->fields = k->job.kernel->fields(k->state, &k->n_fields);
        k->reclen = mb_kernel_record_len(k->fields, k->n_fields);
        ck_assert_uint_le(k->reclen, MAX_SLOTS);
    }
    return rc;
}

static void finish(kjob *k)
{
    if (k->state)
        k->job.kernel->teardown(k->state);
    mb_job_free(&k->job);
}

/* Run task on payload text into rec (zeroed first, as the runner does). */
static mb_err run(kjob *k, uint64_t task, const char *text, double *rec)
{
    mb_payload p = {text, strlen(text)};
    memset(rec, 0, MAX_SLOTS * sizeof *rec);
    return k->job.kernel->run(k->state, task, p, rec);
}

/* Run a text-mode task: the lines source tags each line with its line
 * number (source_lines.h), which names the document. */
static mb_err run_line(kjob *k, uint64_t task, uint64_t line, const char *text, double *rec)
{
    char tagged[512];
    size_t len = strlen(text);
    ck_assert_uint_le(MB_SOURCE_TEXT_TAG + len, sizeof tagged);
    memcpy(tagged, &line, MB_SOURCE_TEXT_TAG);
    memcpy(tagged + MB_SOURCE_TEXT_TAG, text, len);
    mb_payload p = {tagged, MB_SOURCE_TEXT_TAG + len};
    memset(rec, 0, MAX_SLOTS * sizeof *rec);
    return k->job.kernel->run(k->state, task, p, rec);
}

/* The slots of field name in a record, by the layout fields() gives. */
static const double *field(const kjob *k, const double *rec, const char *name, unsigned *count)
{
    size_t at = 0;
    for (size_t i = 0; i < k->n_fields; i++) {
        if (strcmp(k->fields[i].name, name) == 0) {
            if (count)
                *count = k->fields[i].count;
            return rec + at;
        }
        at += k->fields[i].count;
    }
    ck_abort_msg("no field '%s'", name);
    return NULL;
}

static const char *str(const kjob *k, const double *rec, const char *name)
{
    static char out[4][8 * 64 + 1];
    static int next;
    unsigned words;
    const double *slots = field(k, rec, name, &words);
    char *s = out[next++ % 4];
    memcpy(s, slots, 8 * words);
    s[8 * words] = '\0';
    return s;
}

static double num(const kjob *k, const double *rec, const char *name)
{
    return field(k, rec, name, NULL)[0];
}

/* The record of a document holds what the model itself predicts for it. */
static void assert_scored(const kjob *k, const double *rec, const char *title, const char *abstract)
{
    mb_features f;
    double want[MB_MODEL_MAX_LABELS];
    unsigned n;
    int label;
    ck_assert_int_eq(mb_features_init(&f, model.params.hash_bits, model.params.title_weight), MB_OK);
    ck_assert_int_eq(mb_model_predict(&model, &f, title, strlen(title), abstract,
                                      strlen(abstract), want, &label), MB_OK);
    mb_features_free(&f);
    const double *scores = field(k, rec, "scores", &n);
    ck_assert_uint_eq(n, model.n_labels);
    ck_assert_int_eq(memcmp(scores, want, n * sizeof *want), 0);
    ck_assert_double_eq(num(k, rec, "label"), label);
    ck_assert_str_eq(str(k, rec, "label_name"), model.labels[label]);
}

START_TEST(jsonl_records_hold_id_label_truth_and_scores)
{
    kjob k;
    double rec[MAX_SLOTS];
    ck_assert_int_eq(start(&k, model_path, "\"format\": \"jsonl\""), MB_OK);
    /* Level 1: id, label, label_name, true_label, scores. */
    ck_assert_uint_eq(k.n_fields, 5);
    ck_assert_uint_eq(k.reclen, 32 + 1 + 4 + 1 + model.n_labels); /* ids up to 255 bytes */
    for (int i = 0; i < DOCS; i += 37) {
        mb_jsonl_record r;
        ck_assert_int_eq(mb_jsonl_parse(lines[i], strlen(lines[i]), 1, &r), MB_OK);
        ck_assert_int_eq(run(&k, (uint64_t)i, lines[i], rec), MB_OK);
        ck_assert_str_eq(str(&k, rec, "id"), r.id);
        ck_assert_double_eq(num(&k, rec, "true_label"), r.label);
        char title[512], abstract[4096];
        snprintf(title, sizeof title, "%.*s", (int)r.title_len, r.title);
        snprintf(abstract, sizeof abstract, "%.*s", (int)r.abstract_len, r.abstract);
        assert_scored(&k, rec, title, abstract);
        mb_jsonl_record_free(&r);
    }
    /* No categories: no truth, still scored. */
    ck_assert_int_eq(run(&k, 0, "{\"id\": \"u1\", \"title\": \"Groups\", \"abstract\": "
                     "\"Finite groups and their representations.\"}", rec), MB_OK);
    ck_assert_str_eq(str(&k, rec, "id"), "u1");
    ck_assert_double_eq(num(&k, rec, "true_label"), -1);
    assert_scored(&k, rec, "Groups", "Finite groups and their representations.");
    finish(&k);
}
END_TEST

/* A bad record fails its own task with the line and the problem; the
 * next task runs as before. */
START_TEST(bad_records_fail_only_their_task)
{
    kjob k;
    double rec[MAX_SLOTS];
    char long_id[400];
    ck_assert_int_eq(start(&k, model_path, "\"format\": \"jsonl\""), MB_OK);
    ck_assert_int_eq(run(&k, 4, "{\"id\": \"broken\"", rec), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "line 5"));
    ck_assert_int_eq(run(&k, 6, "{\"id\": \"n\", \"title\": \"t\"}", rec), MB_ERR_INPUT);
    ck_assert_msg(strstr(mb_error_message(), "line 7") && strstr(mb_error_message(), "abstract"),
                  "%s", mb_error_message());
    /* A DOI-length id fits; one past 255 bytes fails its record. */
    snprintf(long_id, sizeof long_id, "{\"id\": \"%0255d\", \"abstract\": \"Some text.\"}", 7);
    ck_assert_int_eq(run(&k, 8, long_id, rec), MB_OK);
    ck_assert_uint_eq(strlen(str(&k, rec, "id")), 255);
    snprintf(long_id, sizeof long_id, "{\"id\": \"%0256d\", \"abstract\": \"Some text.\"}", 7);
    ck_assert_int_eq(run(&k, 8, long_id, rec), MB_ERR_INPUT);
    ck_assert_msg(strstr(mb_error_message(), "line 9: id '0000") &&
                  strstr(mb_error_message(), "256 bytes, longer than 255"), "%s", mb_error_message());
    ck_assert_int_eq(run(&k, 9, lines[0], rec), MB_OK);
    ck_assert_str_eq(str(&k, rec, "id"), "gen.100");
    finish(&k);
}
END_TEST

START_TEST(text_lines_are_documents_named_by_line)
{
    kjob k;
    double rec[MAX_SLOTS];
    const char *doc = "We prove a bound on the number of primes in arithmetic progressions.";
    char padded[256];
    ck_assert_int_eq(start(&k, model_path, "\"format\": \"text\""), MB_OK);
    snprintf(padded, sizeof padded, "%s \t\r", doc);
    /* Task 2 on line 5 (the source skipped blank lines): the line names it. */
    ck_assert_int_eq(run_line(&k, 2, 5, padded, rec), MB_OK);
    ck_assert_str_eq(str(&k, rec, "id"), "5");
    ck_assert_double_eq(num(&k, rec, "true_label"), -1);
    /* The trailing blanks are not part of the document. */
    assert_scored(&k, rec, "", doc);
    /* (A line of blanks never reaches the kernel: the lines source skips
     * it, test_source_lines.) */
    finish(&k);
}
END_TEST

/* Level 2: the sub-topic comes from the predicted topic's sub-model and
 * the true one is the primary category. */
START_TEST(level_two_adds_the_subtopic)
{
    kjob k;
    double rec[MAX_SLOTS];
    int with_sub = 0;
    ck_assert_int_eq(start(&k, model_path, "\"format\": \"jsonl\", \"levels\": 2"), MB_OK);
    ck_assert_uint_eq(k.n_fields, 8);
    for (int i = 0; i < DOCS; i += 13) {
        mb_jsonl_record r;
        ck_assert_int_eq(mb_jsonl_parse(lines[i], strlen(lines[i]), 1, &r), MB_OK);
        ck_assert_int_eq(run(&k, (uint64_t)i, lines[i], rec), MB_OK);
        ck_assert_str_eq(str(&k, rec, "true_subtopic"), r.subtopic);
        const mb_model *sub = &model.sub[(int)num(&k, rec, "label")];
        const char *got = str(&k, rec, "subtopic");
        double p = num(&k, rec, "subtopic_score");
        if (sub->n_labels == 0) {
            ck_assert_str_eq(got, "");
            ck_assert_double_eq(p, 0);
        } else {
            size_t j = 0;
            while (j < sub->n_labels && strcmp(sub->labels[j], got) != 0)
                j++;
            ck_assert_msg(j < sub->n_labels, "sub-topic '%s' is not the sub-model's", got);
            ck_assert(p > 1.0 / (double)sub->n_labels - 1e-9 && p <= 1.0);
            with_sub++;
        }
        mb_jsonl_record_free(&r);
    }
    ck_assert_int_gt(with_sub, 0);
    finish(&k);
}
END_TEST

/* The reduction in task order: documents, failures, the confusion of
 * truth and prediction, accuracy; --strict stops at the first failure. */
START_TEST(reduction_counts_and_summarizes)
{
    kjob k;
    double rec[MAX_SLOTS];
    long right = 0, labelled = 0;
    ck_assert_int_eq(start(&k, model_path, "\"format\": \"jsonl\""), MB_OK);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(run(&k, (uint64_t)i, lines[i], rec), MB_OK);
        ck_assert_int_eq(k.job.kernel->reduce(k.state, (uint64_t)i, NULL, rec), MB_OK);
        right += num(&k, rec, "label") == num(&k, rec, "true_label");
        labelled++;
    }
    ck_assert_int_eq(k.job.kernel->reduce(k.state, 20, "line 21: broken", rec), MB_OK);
    cJSON *result = cJSON_CreateObject();
    ck_assert_int_eq(k.job.kernel->summarize(k.state, result), MB_OK);
    ck_assert_double_eq(cJSON_GetObjectItem(result, "documents")->valuedouble, 20);
    ck_assert_double_eq(cJSON_GetObjectItem(result, "bad_records")->valuedouble, 1);
    ck_assert_double_eq(cJSON_GetObjectItem(result, "labelled")->valuedouble, labelled);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(result, "accuracy")->valuedouble,
                            (double)right / (double)labelled, 1e-12);
    cJSON *labels = cJSON_GetObjectItem(result, "labels");
    ck_assert_int_eq(cJSON_GetArraySize(labels), (int)model.n_labels);
    ck_assert_str_eq(cJSON_GetArrayItem(labels, 2)->valuestring, model.labels[2]);
    /* The confusion matrix holds every labelled document once. */
    cJSON *conf = cJSON_GetObjectItem(result, "confusion"), *row;
    double sum = 0, diag = 0;
    int i = 0;
    cJSON_ArrayForEach(row, conf) {
        int j = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, row) {
            sum += c->valuedouble;
            diag += i == j ? c->valuedouble : 0;
            j++;
        }
        i++;
    }
    ck_assert_double_eq(sum, labelled);
    ck_assert_double_eq(diag, right);
    cJSON_Delete(result);
    finish(&k);

    ck_assert_int_eq(start(&k, model_path, "\"format\": \"jsonl\", \"strict\": true"), MB_OK);
    ck_assert_int_eq(k.job.kernel->reduce(k.state, 0, "line 1: broken", rec), MB_ERR_INPUT);
    ck_assert_str_eq(mb_error_message(), "line 1: broken (--strict)");
    finish(&k);
}
END_TEST

START_TEST(setup_errors_name_the_problem)
{
    kjob k;
    char missing[sizeof DIR_TEMPLATE + 16], one_level[sizeof DIR_TEMPLATE + 16];
    mb_model m;
    snprintf(missing, sizeof missing, "%s/none.h5", dir);
    ck_assert_int_eq(start(&k, missing, ""), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "model file"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), missing));
    finish(&k);
    /* A model without sub-models cannot give sub-topics. */
    snprintf(one_level, sizeof one_level, "%s/one.h5", dir);
    ck_assert_int_eq(mb_model_load_levels(&m, model_path, 1), MB_OK);
    ck_assert_int_eq(mb_model_save(&m, one_level, NULL), MB_OK);
    mb_model_free(&m);
    ck_assert_int_eq(start(&k, one_level, "\"levels\": 2"), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "has no sub-topic models"));
    finish(&k);
    ck_assert_int_eq(start(&k, one_level, "\"levels\": 1"), MB_OK);
    finish(&k);
    remove(one_level);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("classify");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_test(tc, jsonl_records_hold_id_label_truth_and_scores);
    tcase_add_test(tc, bad_records_fail_only_their_task);
    tcase_add_test(tc, text_lines_are_documents_named_by_line);
    tcase_add_test(tc, level_two_adds_the_subtopic);
    tcase_add_test(tc, reduction_counts_and_summarizes);
    tcase_add_test(tc, setup_errors_name_the_problem);
    suite_add_tcase(s, tc);
    return mb_test_run_mpi(s, &argc, &argv);
}
