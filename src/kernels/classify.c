/* classify.c - the document topic classifier: one task per document.
 *
 * Rank 0 loads the model once and broadcasts it; every rank scores the
 * documents it is sent.  Input is JSON lines (arXiv metadata: id, title,
 * abstract, optional categories) or plain text (one document per line).
 * Bad records fail only their own task, with the line number as reason;
 * --strict makes the first one fatal.  --levels 2 adds the sub-topic
 * (primary category such as cs.LG) from the model's per-topic sub-model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/transfer.h"
#include "kernels/kernels.h"
#include "comm.h"
#include "docstore.h"
#include "mpibatch/job.h"
#include "ml/jsonl.h"
#include "ml/model_io.h"
#include "shm.h"
#include "mpibatch/source.h"
#include "source_lines.h"
#include "stage.h"
#include "io/url.h"

/* Ids up to 255 bytes (DOIs and URLs fit; arXiv ids are about 10),
 * label and category names up to 31. */
enum { ID_WORDS = 32, NAME_WORDS = 4 };
/* true_label of a record whose primary category is outside the topics. */
enum { TRUE_NONE = -1, TRUE_UNKNOWN = -2 };
enum { F_ID, F_LABEL, F_NAME, F_TRUE, F_SCORES, F_SUB, F_SUB_SCORE, F_TRUE_SUB, NFIELDS };
/* Slot offsets of the fields in a record; the level-2 fields follow the
 * n_labels scores, at sub_at. */
enum { O_ID = 0, O_LABEL = ID_WORDS, O_NAME, O_TRUE = O_NAME + NAME_WORDS, O_SCORES };
enum { O_SUB = 0, O_SUB_SCORE = NAME_WORDS, O_TRUE_SUB };

typedef struct classify_state {
    mb_model model;
    int have_model;
    mb_shm shm;              /* the model's table, one copy per node */
    mb_features scratch;
    mb_features folded;      /* --levels 2: features for the sub-model */
    int levels;
    size_t sub_at;           /* offset of the level-2 fields */
    enum { IN_JSONL, IN_TEXT, IN_STORE } input;
    int strict;
    mb_url_opts url;
    mb_staged store;         /* rank 0: a document store fetched from a URL */
    mb_field fields[NFIELDS];
    /* rank 0, in task order */
    uint64_t docs, bad, labelled, unknown;
    uint64_t confusion[MB_MODEL_MAX_LABELS][MB_MODEL_MAX_LABELS];
    uint64_t sub_labelled, sub_right, sub_right_in_topic, sub_in_topic;
} classify_state;

static const mb_option classify_options[] = {
    {.name = "model", .type = MB_OPT_STR, .meta = "FILE", .help = "trained model (mpibatch train)"},
    {.name = "input", .type = MB_OPT_STR, .meta = "FILE",
     .help = "documents: arXiv JSON lines, an mpibatch import store, or plain text"},
    {.name = "format", .type = MB_OPT_ENUM, .defval = "auto", .choices = "auto|jsonl|text|store",
     .help = "input format; auto: from the content (a URL: its name)"},
    {.name = "strict", .type = MB_OPT_BOOL, .defval = "false",
     .help = "stop at the first bad record (exit 3) instead of counting it"},
    {.name = "levels", .type = MB_OPT_INT, .min = 1, .max = 2, .defval = "1", .meta = "L",
     .help = "2: also give the sub-topic (needs a model from format 2, which train writes)"},
    {0}
};

/* Fetch (if it is a URL) and load the model file, its table at at. */
static mb_err load_model(classify_state *s, const char *path, int levels,
                         const mb_model_table_at *at)
{
    mb_staged local;
    mb_err rc = mb_stage_input(&local, path, &s->url);
    if (rc == MB_OK)
        rc = mb_model_load_into(&s->model, local.local, levels, at);
    mb_stage_release(&local);
    return rc;
}

/* Rank 0, while loading: the table's size is the other ranks' cue to map
 * the node-shared segment with it, and rank 0 builds the table in it. */
typedef struct table_share {
    mb_shm *shm;
    MPI_Comm comm;
    int asked;
} table_share;

static mb_err shared_table(void *ctx, size_t n, float **table)
{
    table_share *t = ctx;
    unsigned long long bytes = n * sizeof **table;
    mb_err rc = mb_mpi_check(MPI_Bcast(&bytes, 1, MPI_UNSIGNED_LONG_LONG, 0, t->comm),
                             "MPI_Bcast");
    t->asked = 1;
    if (rc == MB_OK && (rc = mb_shm_alloc(t->shm, (size_t)bytes, t->comm)) == MB_OK)
        *table = t->shm->base;
    return rc;
}

/* Rank 0 loads the model into a segment every rank on its node maps
 * (mpibatch/shm.h); the first rank of each other node receives the table
 * into its own, and everyone gets the rest (labels, parameters, level-2
 * sub-models) as one small broadcast.  So a node holds one copy, and no
 * rank unpacks the table: at 2 ranks this took 0.034 s of a 0.53 s job. */
static mb_err share_model(classify_state *s, const char *path, int levels, MPI_Comm comm)
{
    int rank, nranks;
    unsigned long long bytes = 0, len = 0;
    table_share t = {&s->shm, comm, 0};
    mb_model_table_at at = {shared_table, &t};
    char *meta = NULL;
    mb_err rc = MB_OK;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    if (nranks == 1) {
        rc = load_model(s, path, levels, NULL);
        s->have_model = rc == MB_OK;
        return rc;
    }
    if (rank == 0) {
        rc = load_model(s, path, levels, &at);
        if (!t.asked) { /* failed before its table: size 0 tells the others */
            MPI_Bcast(&bytes, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
            return rc;
        }
        s->have_model = rc == MB_OK;
    } else {
        rc = mb_mpi_check(MPI_Bcast(&bytes, 1, MPI_UNSIGNED_LONG_LONG, 0, comm), "MPI_Bcast");
        if (rc == MB_OK && bytes == 0)
            return mb_error_set(MB_ERR_INPUT, "the model was not loaded");
        if (rc == MB_OK)
            rc = mb_shm_alloc(&s->shm, (size_t)bytes, comm);
    }
    /* Every rank has joined the segment's allocation, failed or not. */
    rc = mb_comm_agree(comm, rc);
    if (rc == MB_OK && rank == 0 && !(meta = malloc(len = mb_model_packed_meta_size(&s->model))))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory packing model '%s'", path);
    if (rc == MB_OK && rank == 0)
        mb_model_pack_meta(&s->model, meta);
    rc = mb_comm_agree(comm, rc);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, comm), "MPI_Bcast");
    if (rc == MB_OK && rank != 0 && !(meta = malloc(len)))
        mb_comm_abort(comm, mb_error_set(MB_ERR_NOMEM, "out of memory for the model"));
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Bcast(meta, (int)len, MPI_BYTE, 0, comm), "MPI_Bcast");
    if (rc == MB_OK)
        rc = mb_shm_publish(&s->shm, comm);
    if (rc == MB_OK && rank != 0 &&
        (rc = mb_model_unpack_meta(&s->model, meta, len, s->shm.base)) == MB_OK)
        s->have_model = 1;
    free(meta);
    if ((rc = mb_comm_agree(comm, rc)) != MB_OK) {
        if (s->have_model)
            mb_model_free(&s->model);
        s->have_model = 0;
        mb_shm_free(&s->shm);
    }
    return rc;
}

static void layout(classify_state *s)
{
    s->fields[F_ID] = (mb_field){"id", MB_FIELD_STR, ID_WORDS,
                                 "document id (JSON lines), or its line number (text)"};
    s->fields[F_LABEL] = (mb_field){"label", MB_FIELD_I64, 1,
                                    "predicted label, an index into the result's labels"};
    s->fields[F_NAME] = (mb_field){"label_name", MB_FIELD_STR, NAME_WORDS, "predicted label's name"};
    s->fields[F_TRUE] = (mb_field){"true_label", MB_FIELD_I64, 1,
                                   "label given by the input's categories; -1: no categories, "
                                   "-2: primary category outside the labels (unknown)"};
    s->fields[F_SCORES] = (mb_field){"scores", MB_FIELD_F64, (unsigned)s->model.n_labels,
                                     "probability of each label"};
    s->fields[F_SUB] = (mb_field){"subtopic", MB_FIELD_STR, NAME_WORDS,
                                  "predicted sub-topic, \"\" if the topic has no sub-model"};
    s->fields[F_SUB_SCORE] = (mb_field){"subtopic_score", MB_FIELD_F64, 1,
                                        "probability of the sub-topic within its topic"};
    s->fields[F_TRUE_SUB] = (mb_field){"true_subtopic", MB_FIELD_STR, NAME_WORDS,
                                       "primary category given by the input, \"\" if none"};
    s->sub_at = O_SCORES + s->model.n_labels;
}

/* Whether the name ends with ext; for a URL, its query does not count. */
static int has_extension(const char *input, const char *ext)
{
    size_t n = mb_url_is_remote(input) ? strcspn(input, "?#") : strlen(input), e = strlen(ext);
    return n >= e && strncmp(input + n - e, ext, e) == 0;
}

/* What a local file's first record looks like: JSON when its first
 * non-blank byte opens an object or array; plain text when its first line
 * (or 4 KiB of it) holds no control bytes but tabs; 0 when it cannot be
 * read or is neither (binary: its name decides, and its records fail). */
static int sniff_format(const char *path, int *format)
{
    unsigned char head[4096];
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(head, 1, sizeof head, fp) : 0, i = 0, end;
    if (fp)
        fclose(fp);
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    if (i == n)
        return 0;
    if (head[i] == '{' || head[i] == '[') {
        *format = IN_JSONL;
        return 1;
    }
    for (end = i; end < n && head[end] != '\n'; end++)
        if ((head[end] < 0x20 && head[end] != '\t' && head[end] != '\r') || head[end] == 0x7f)
            return 0;
    *format = IN_TEXT;
    return 1;
}

/* Rank 0: the input's format, for --format auto.  A local file's content
 * decides (a store if HDF5, else its first record), with a note when its
 * name says otherwise; a URL cannot be peeked at cheaply, so its name's
 * extension does. */
static int detect_format(const char *input)
{
    int text_name = has_extension(input, ".txt") || has_extension(input, ".text");
    int json_name = has_extension(input, ".jsonl") || has_extension(input, ".json") ||
                    has_extension(input, ".ndjson");
    int found;
    if (mb_url_is_remote(input))
        return has_extension(input, ".h5") ? IN_STORE : text_name ? IN_TEXT : IN_JSONL;
    if (mb_docstore_is_hdf5(input))
        return IN_STORE;
    if (!sniff_format(input, &found))
        return text_name ? IN_TEXT : IN_JSONL;
    if ((found == IN_JSONL && text_name) || (found == IN_TEXT && json_name))
        fprintf(stderr, "mpibatch: note: '%s' holds %s despite its name; reading it as %s "
                "(--format %s to read it as its name says)\n", input,
                found == IN_JSONL ? "JSON lines" : "plain text",
                found == IN_JSONL ? "JSON lines" : "plain text, one document per line",
                found == IN_JSONL ? "text" : "jsonl");
    return found;
}

/* The input format: given, or detected on rank 0 and sent to all. */
static mb_err choose_format(classify_state *s, const char *input, const char *format,
                            MPI_Comm comm)
{
    int rank, in = IN_JSONL;
    MPI_Comm_rank(comm, &rank);
    if (strcmp(format, "auto") != 0) {
        s->input = !strcmp(format, "text") ? IN_TEXT : !strcmp(format, "store") ? IN_STORE
                                                                                 : IN_JSONL;
        return MB_OK;
    }
    if (rank == 0)
        in = detect_format(input);
    mb_err rc = mb_mpi_check(MPI_Bcast(&in, 1, MPI_INT, 0, comm), "MPI_Bcast");
    s->input = in;
    return rc;
}

static mb_err classify_setup(const mb_job *job, MPI_Comm comm, void **state)
{
    classify_state *s = calloc(1, sizeof *s);
    const char *model = mb_job_str(job, "model"), *input = mb_job_str(job, "input");
    const char *format = mb_job_str(job, "format");
    mb_err rc;
    if (!(*state = s))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (!model || !input)
        return mb_error_set(MB_ERR_USAGE, "'%s' is required (the %s)", model ? "input" : "model",
                            model ? "documents to classify" : "trained model file");
    mb_url_opts_from_spec(job->spec, &s->url);
    if ((rc = choose_format(s, input, format, comm)) != MB_OK)
        return rc;
    s->strict = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job->spec, "strict"));
    s->levels = (int)mb_job_int(job, "levels");
    if ((rc = share_model(s, model, s->levels, comm)) != MB_OK)
        return rc;
    if (s->levels == 2 && !s->model.sub)
        return mb_error_set(MB_ERR_USAGE, "--levels 2: model '%s' has no sub-topic models "
                            "(an older format: train it again)", model);
    layout(s);
    rc = mb_features_init(&s->scratch, s->model.params.hash_bits, s->model.params.title_weight);
    if (rc == MB_OK && s->levels == 2)
        rc = mb_features_init(&s->folded, s->model.params.hash_bits, s->model.params.title_weight);
    return rc;
}

static const mb_field *classify_fields(void *state, size_t *n)
{
    *n = ((classify_state *)state)->levels == 2 ? NFIELDS : F_SUB;
    return ((classify_state *)state)->fields;
}

static mb_err classify_open_source(void *state, const mb_job *job, mb_source *src)
{
    classify_state *s = state;
    const char *input = mb_job_str(job, "input");
    mb_err rc;
    if (s->input == IN_TEXT)
        return mb_source_open_text(src, input, MB_JSONL_MAX_RECORD, &s->url);
    if (s->input == IN_JSONL)
        return mb_source_open_lines(src, input, MB_JSONL_MAX_RECORD, &s->url);
    /* HDF5 needs random access: a store at a URL is fetched first. */
    if ((rc = mb_stage_input(&s->store, input, &s->url)) != MB_OK)
        return rc;
    return mb_source_open_docstore(src, s->store.local);
}

/* Level 2: the sub-topic of the scored document in scratch. */
static mb_err score_sub(classify_state *s, int label, const char *true_code, double *rec)
{
    int sub;
    const char *name;
    mb_err rc = mb_model_score_sub(&s->model, label, &s->scratch, &s->folded, &sub,
                                   rec + s->sub_at + O_SUB_SCORE);
    if (rc != MB_OK)
        return rc;
    name = sub < 0 ? "" : s->model.sub[label].labels[sub];
    mb_record_set_str(rec + s->sub_at + O_SUB, NAME_WORDS, name, strlen(name));
    /* Codes are at most MB_JSONL_MAX_CATEGORY (31) bytes: they fit. */
    mb_record_set_str(rec + s->sub_at + O_TRUE_SUB, NAME_WORDS, true_code, strlen(true_code));
    return MB_OK;
}

/* Score one document and fill the record; true_code is the primary
 * category ("" if none). */
static mb_err score(classify_state *s, const char *id, size_t idlen, const char *title,
                    size_t tlen, const char *abstract, size_t alen, int truth,
                    const char *true_code, double *rec)
{
    int label;
    mb_err rc = mb_model_predict(&s->model, &s->scratch, title, tlen, abstract, alen,
                                 rec + O_SCORES, &label);
    if (rc == MB_OK && s->levels == 2)
        rc = score_sub(s, label, true_code, rec);
    if (rc != MB_OK)
        return rc;
    if (!mb_record_set_str(rec + O_ID, ID_WORDS, id, idlen))
        return mb_error_set(MB_ERR_INPUT, "id '%.20s...' is %zu bytes, longer than %d", id,
                            idlen, 8 * ID_WORDS - 1);
    mb_record_set_str(rec + O_NAME, NAME_WORDS, s->model.labels[label],
                      strlen(s->model.labels[label]));
    rec[O_LABEL] = label;
    rec[O_TRUE] = truth;
    return MB_OK;
}

static mb_err run_jsonl(classify_state *s, uint64_t task, mb_payload p, double *rec)
{
    mb_jsonl_record r;
    mb_err rc = mb_jsonl_parse(p.data, p.len, (unsigned long)(task + 1), &r);
    size_t lead = 0;
    while (lead < p.len && (p.data[lead] == ' ' || p.data[lead] == '\t'))
        lead++;
    if (rc != MB_OK && lead < p.len && p.data[lead] != '{' && p.data[lead] != '\r')
        return mb_error_set(rc, "%s (the line is not a JSON object; for plain text, one "
                            "document per line, use --format text)", mb_error_message());
    if (rc != MB_OK)
        return rc;
    rc = score(s, r.id, strlen(r.id), r.title, r.title_len, r.abstract, r.abstract_len,
               r.label >= 0 ? r.label : r.categories ? TRUE_UNKNOWN : TRUE_NONE, r.subtopic, rec);
    if (rc != MB_OK)
        rc = mb_error_set(rc, "line %llu: %s", (unsigned long long)(task + 1), mb_error_message());
    mb_jsonl_record_free(&r);
    return rc;
}

/* A line of plain text, after its line number (mb_source_open_text):
 * blank lines never reach here. */
static mb_err run_text(classify_state *s, mb_payload p, double *rec)
{
    char id[24];
    uint64_t line;
    size_t len = p.len - MB_SOURCE_TEXT_TAG;
    const char *text = p.data + MB_SOURCE_TEXT_TAG;
    memcpy(&line, p.data, sizeof line);
    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len > MB_JSONL_MAX_RECORD)
        return mb_error_set(MB_ERR_INPUT, "line %llu: longer than %u bytes",
                            (unsigned long long)line, MB_JSONL_MAX_RECORD);
    snprintf(id, sizeof id, "%llu", (unsigned long long)line);
    return score(s, id, strlen(id), "", 0, text, len, TRUE_NONE, "", rec);
}

/* Store records were validated by import; failures name the input line. */
static mb_err run_store(classify_state *s, mb_payload p, double *rec)
{
    mb_doc d = {0};
    mb_err rc = mb_docstore_unpack(p.data, p.len, &d);
    if (rc == MB_OK)
        rc = score(s, d.id, strlen(d.id), d.title, d.title_len, d.abstract, d.abstract_len,
                   d.label, "", rec);
    if (rc != MB_OK && d.line > 0)
        rc = mb_error_set(rc, "line %lld: %s", (long long)d.line, mb_error_message());
    return rc;
}

static mb_err classify_run(void *state, uint64_t task, mb_payload p, double *rec)
{
    classify_state *s = state;
    switch (s->input) {
    case IN_TEXT: return run_text(s, p, rec);
    case IN_STORE: return run_store(s, p, rec);
    default: return run_jsonl(s, task, p, rec);
    }
}

/* The sub-label name that the true code stands for in its topic's
 * sub-model: the code itself, else "other"; NULL when that topic has no
 * sub-model or the code is neither (the topic was trained without it). */
static const char *true_sub_name(const mb_model *sub, const char *code)
{
    for (size_t i = 0; i < sub->n_labels; i++)
        if (strcmp(sub->labels[i], code) == 0)
            return sub->labels[i];
    for (size_t i = 0; i < sub->n_labels; i++)
        if (strcmp(sub->labels[i], "other") == 0)
            return sub->labels[i];
    return NULL;
}

/* Sub-topic accuracy counts of one labelled record (rank 0). */
static void count_sub(classify_state *s, const double *rec)
{
    char pred[8 * NAME_WORDS], code[8 * NAME_WORDS];
    const mb_model *sub = &s->model.sub[(int)rec[O_TRUE]];
    const char *want;
    memcpy(pred, rec + s->sub_at + O_SUB, sizeof pred);
    memcpy(code, rec + s->sub_at + O_TRUE_SUB, sizeof code);
    pred[sizeof pred - 1] = code[sizeof code - 1] = '\0';
    if (sub->n_labels == 0 || !(want = true_sub_name(sub, code)))
        return;
    s->sub_labelled++;
    if (rec[O_TRUE] != rec[O_LABEL])
        return;
    s->sub_in_topic++;
    if (strcmp(pred, want) == 0) {
        s->sub_right++;
        s->sub_right_in_topic++;
    }
}

static mb_err classify_reduce(void *state, uint64_t task, const char *failure, const double *rec)
{
    classify_state *s = state;
    if (failure) {
        s->bad++;
        return s->strict ? mb_error_set(MB_ERR_INPUT, "%s (--strict)", failure) : MB_OK;
    }
    s->docs++;
    if (rec[O_TRUE] == TRUE_UNKNOWN)
        s->unknown++;
    if (rec[O_TRUE] >= 0) {
        s->labelled++;
        s->confusion[(int)rec[O_TRUE]][(int)rec[O_LABEL]]++;
        if (s->levels == 2)
            count_sub(s, rec);
    }
    return MB_OK;
}

/* Accuracy, per-class precision/recall/F1 and their macro average. */
static void add_scores(const classify_state *s, cJSON *result)
{
    size_t k = s->model.n_labels;
    uint64_t right = 0;
    double f1sum = 0;
    cJSON *per = cJSON_AddObjectToObject(result, "per_class");
    cJSON *conf = cJSON_AddArrayToObject(result, "confusion");
    for (size_t i = 0; i < k; i++) {
        uint64_t tp = s->confusion[i][i], truth = 0, pred = 0;
        cJSON *row = cJSON_CreateArray();
        for (size_t j = 0; j < k; j++) {
            truth += s->confusion[i][j];
            pred += s->confusion[j][i];
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)s->confusion[i][j]));
        }
        cJSON_AddItemToArray(conf, row);
        double prec = pred ? (double)tp / (double)pred : 0, rec = truth ? (double)tp / (double)truth : 0;
        double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
        cJSON *c = cJSON_AddObjectToObject(per, s->model.labels[i]);
        cJSON_AddNumberToObject(c, "precision", prec);
        cJSON_AddNumberToObject(c, "recall", rec);
        cJSON_AddNumberToObject(c, "f1", f1);
        cJSON_AddNumberToObject(c, "support", (double)truth);
        right += tp;
        f1sum += f1;
    }
    cJSON_AddNumberToObject(result, "accuracy", (double)right / (double)s->labelled);
    cJSON_AddNumberToObject(result, "macro_f1", f1sum / (double)k);
}

static mb_err classify_summarize(void *state, cJSON *result)
{
    classify_state *s = state;
    cJSON *labels = cJSON_AddArrayToObject(result, "labels");
    for (size_t i = 0; i < s->model.n_labels; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(s->model.labels[i]));
    cJSON_AddNumberToObject(result, "documents", (double)s->docs);
    cJSON_AddNumberToObject(result, "bad_records", (double)s->bad);
    cJSON_AddNumberToObject(result, "labelled", (double)s->labelled);
    cJSON_AddNumberToObject(result, "unknown_topic", (double)s->unknown);
    if (s->labelled > 0)
        add_scores(s, result);
    if (s->levels == 2) {
        cJSON *sub = cJSON_AddObjectToObject(result, "subtopics");
        cJSON_AddNumberToObject(sub, "labelled", (double)s->sub_labelled);
        if (s->sub_labelled > 0)
            cJSON_AddNumberToObject(sub, "accuracy",
                                    (double)s->sub_right / (double)s->sub_labelled);
        if (s->sub_in_topic > 0)
            cJSON_AddNumberToObject(sub, "accuracy_within_topic",
                                    (double)s->sub_right_in_topic / (double)s->sub_in_topic);
    }
    return MB_OK;
}

static void classify_teardown(void *state)
{
    classify_state *s = state;
    if (s->have_model)
        mb_model_free(&s->model);
    mb_shm_free(&s->shm); /* after the model that borrowed its table */
    mb_features_free(&s->scratch);
    mb_features_free(&s->folded);
    mb_stage_release(&s->store);
    free(s);
}

const mb_kernel mb_kernel_classify = {
    .name = "classify",
    .summary = "classify documents by topic with a trained model (one task per document)",
    .options = classify_options,
    .setup = classify_setup,
    .fields = classify_fields,
    .open_source = classify_open_source,
    .run = classify_run,
    .reduce = classify_reduce,
    .summarize = classify_summarize,
    .teardown = classify_teardown,
};
