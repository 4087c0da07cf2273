/* train.c - the train command: distributed reading, reducible fitting. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli.h"
#include "io/transfer.h"
#include "mpibatch/clock.h"
#include "comm.h"
#include "ml/jsonl.h"
#include "ml/model_io.h"
#include "report.h"
#include "schedule/schedule.h"
#include "source_lines.h"
#include "stage.h"
#include "io/url.h"
#include "commands/commands.h"
#include "optparse.h"

#define READ_CHUNK 256 /* documents per chunk while reading */
/* Sub-topic models (classify --levels 2) hash into 2^18 buckets: 2 points
 * more sub-topic accuracy than 2^16; on arXiv all five take 153 MB when
 * loaded, which only --levels 2 does (docs/classifier.md). */
#define SUB_HASH_BITS 18
#define CODE_WORDS 4   /* a category code in a record: 31 bytes */
#define OTHER_SUBTOPIC "other"

static const mb_option train_options[] = {
    {.name = "input", .type = MB_OPT_STR, .meta = "FILE",
     .help = "labelled arXiv JSON lines (categories give the label)"},
    {.name = "out", .type = MB_OPT_STR, .meta = "FILE", .help = "the model file to write (HDF5)"},
    {.name = "report", .type = MB_OPT_STR, .meta = "FILE", .help = "JSON report of the training run"},
    {.name = "quiet", .type = MB_OPT_BOOL, .defval = "false", .help = "print no summary"},
    {.name = "subtopic-min-docs", .type = MB_OPT_INT, .min = 1, .max = 1e6, .defval = "30",
     .meta = "N", .help = "sub-topics (classify --levels 2) with fewer training documents are 'other'"},
    {.name = "hash-bits", .type = MB_OPT_INT, .min = 12, .max = 26, .meta = "B",
     .help = "2^B feature buckets (default: the model's, docs/classifier.md)"},
    {.name = "title-weight", .type = MB_OPT_INT, .min = 0, .max = 16, .meta = "W",
     .help = "a title token counts W times"},
    {.name = "min-df", .type = MB_OPT_INT, .min = 1, .max = 1e6, .meta = "N",
     .help = "ignore features seen in fewer than N documents"},
    {.name = "l2", .type = MB_OPT_NUM, .min = 0, .max = 1e6, .meta = "X", .help = "L2 penalty"},
    {.name = "supervision", .type = MB_OPT_NUM, .min = 0, .max = 100, .meta = "S",
     .help = "boost of class-concentrated features"},
    {.name = "class-balance", .type = MB_OPT_NUM, .min = 0, .max = 4, .meta = "P",
     .help = "document weight (n_smallest_class / n_class)^P"},
    {.name = "label-smoothing", .type = MB_OPT_NUM, .min = 0, .max = 0.5, .meta = "E",
     .help = "train towards (1 - E) on the label and E / K on every label"},
    {.name = "max-iter", .type = MB_OPT_INT, .min = 1, .max = 100000, .meta = "N",
     .help = "L-BFGS iteration cap"},
    {.name = "tol", .type = MB_OPT_NUM, .min = 0, .max = 1, .meta = "T",
     .help = "stop when the relative loss decrease is below T"},
    {0}
};

/* Each rank's documents between the counting pass and the fit: the
 * features' buckets and counts, so they are extracted only once. */
typedef struct doc_cache {
    mb_buf idx, cnt;         /* uint32 each */
    size_t *start;           /* document d is entries [start[d], start[d+1]) */
    int *label;
    int *code;               /* index into train_state.codes */
    size_t n, cap;
} doc_cache;

/* A category code with its topic; a rank's local list of the codes it
 * saw, or rank 0's count of every code over all documents. */
typedef struct code_count {
    char code[MB_JSONL_MAX_CATEGORY + 1];
    int topic;
    long count;
} code_count;

typedef struct code_list {
    code_count *v;
    size_t n, cap;
} code_list;

typedef struct train_state {
    mb_model_params params;
    mb_features scratch;
    mb_train_stats stats;
    doc_cache docs;
    code_list codes;         /* this rank's documents' primary codes */
    code_list all_codes;     /* rank 0: every document's, with counts */
    uint64_t bad;            /* rank 0 */
} train_state;

/* The index of (code, topic) in l, appended with count 0 if new. */
static mb_err code_index(code_list *l, const char *code, int topic, int *at)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].topic == topic && strcmp(l->v[i].code, code) == 0) {
            *at = (int)i;
            return MB_OK;
        }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        code_count *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return mb_error_set(MB_ERR_NOMEM, "out of memory for category codes");
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    snprintf(l->v[l->n].code, sizeof l->v[l->n].code, "%s", code);
    l->v[l->n].topic = topic;
    *at = (int)l->n++;
    return MB_OK;
}

static mb_err cache_add(doc_cache *c, const mb_features *f, int label, int code)
{
    if (c->n + 2 > c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        size_t *st = realloc(c->start, cap * sizeof *st);
        int *lb = st ? realloc(c->label, cap * sizeof *lb) : NULL;
        int *cd = lb ? realloc(c->code, cap * sizeof *cd) : NULL;
        if (st)
            c->start = st;
        if (lb)
            c->label = lb;
        if (!cd)
            return mb_error_set(MB_ERR_NOMEM, "out of memory caching training documents");
        c->code = cd;
        c->cap = cap;
    }
    c->code[c->n] = code;
    c->start[c->n] = c->idx.len / sizeof(uint32_t);
    mb_err rc = mb_buf_append(&c->idx, f->idx, f->n * sizeof(uint32_t));
    if (rc == MB_OK)
        rc = mb_buf_append(&c->cnt, f->cnt, f->n * sizeof(uint32_t));
    c->label[c->n++] = label;
    c->start[c->n] = c->idx.len / sizeof(uint32_t);
    return rc;
}

static void cache_free(doc_cache *c)
{
    mb_buf_free(&c->idx);
    mb_buf_free(&c->cnt);
    free(c->start);
    free(c->label);
    free(c->code);
    memset(c, 0, sizeof *c);
}

/* The reading pass as a kernel: parse, extract, count, cache. */
static mb_err read_run(void *state, uint64_t task, mb_payload p, double *rec)
{
    train_state *s = state;
    mb_jsonl_record r;
    int code = -1;
    mb_err rc = mb_jsonl_parse(p.data, p.len, (unsigned long)(task + 1), &r);
    if (rc != MB_OK)
        return rc;
    /* Rank 0 counts the codes from the records (reduce, in task order),
     * so every code has the same count at any rank count. */
    mb_record_set_str(rec + 1, CODE_WORDS, r.subtopic, strlen(r.subtopic));
    if (r.label < 0 && r.categories)
        rc = mb_error_set(MB_ERR_INPUT, "line %llu: primary category \"%s\" is outside the five "
                          "topics, so no label to train on", (unsigned long long)(task + 1),
                          r.subtopic);
    else if (r.label < 0)
        rc = mb_error_set(MB_ERR_INPUT, "line %llu: no categories, so no label to train on",
                          (unsigned long long)(task + 1));
    if (rc == MB_OK)
        rc = mb_features_extract(&s->scratch, r.title, r.title_len, r.abstract, r.abstract_len);
    if (rc == MB_OK)
        rc = mb_train_stats_add(&s->stats, &s->scratch, r.label);
    if (rc == MB_OK)
        rc = code_index(&s->codes, r.subtopic, r.label, &code);
    if (rc == MB_OK)
        rc = cache_add(&s->docs, &s->scratch, r.label, code);
    rec[0] = r.label;
    mb_jsonl_record_free(&r);
    return rc;
}

static mb_err read_reduce(void *state, uint64_t task, const char *failure, const double *rec)
{
    train_state *s = state;
    char code[8 * CODE_WORDS];
    int at;
    mb_err rc;
    if (failure) {
        s->bad++;
        return MB_OK;
    }
    memcpy(code, rec + 1, sizeof code);
    code[sizeof code - 1] = '\0';
    if ((rc = code_index(&s->all_codes, code, (int)rec[0], &at)) == MB_OK)
        s->all_codes.v[at].count++;
    return rc;
}

static const mb_field read_fields[] = {
    {"label", MB_FIELD_I64, 1, "topic of the document"},
    {"code", MB_FIELD_STR, CODE_WORDS, "primary category code"},
};

static const mb_field *read_fields_of(void *state, size_t *n)
{
    *n = 2;
    return read_fields;
}

static const mb_kernel reader = {
    .name = "train",
    .fields = read_fields_of,
    .run = read_run,
    .reduce = read_reduce,
};

static void params_from_spec(const cJSON *spec, mb_model_params *p)
{
    const cJSON *v;
    mb_model_params_default(p);
#define OPT(key, field, type)                                              \
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(spec, key)))   \
        p->field = (type)v->valuedouble
    OPT("hash-bits", hash_bits, unsigned);
    OPT("title-weight", title_weight, unsigned);
    OPT("min-df", min_df, unsigned);
    OPT("l2", l2, double);
    OPT("supervision", supervision, double);
    OPT("class-balance", class_balance, double);
    OPT("label-smoothing", label_smoothing, double);
    OPT("max-iter", max_iter, unsigned);
    OPT("tol", tol, double);
#undef OPT
}

typedef struct trainer_run {
    MPI_Comm comm;
    int rank, size;
    cJSON *spec;
    train_state st;
    mb_collector *col;         /* rank 0 */
    mb_source source;          /* rank 0 */
    mb_url_opts url;
    mb_staged out_at, report_at; /* rank 0: where the model and report go */
    mb_model model;
    int prepared;
    unsigned iterations;
    mb_model *subs;            /* sub-topic models, one per topic, until fit */
    double t_read, t_fit, t_sub;
} trainer_run;

/* Every rank: reading, feature extraction and counting, spread by the
 * dynamic schedule; then the counts are summed over ranks. */
static mb_err read_pass(trainer_run *t)
{
    train_state *s = &t->st;
    mb_err rc = mb_features_init(&s->scratch, s->params.hash_bits, s->params.title_weight);
    if (rc == MB_OK)
        rc = mb_train_stats_init(&s->stats, s->params.hash_bits, MB_TOPIC_COUNT);
    if (rc == MB_OK && t->rank == 0)
        rc = mb_source_open_lines(&t->source, cJSON_GetObjectItem(t->spec, "input")->valuestring,
                                  MB_JSONL_MAX_RECORD, &t->url);
    if (rc == MB_OK && t->rank == 0)
        rc = mb_collector_init(&t->col, &reader, s, 1 + CODE_WORDS, t->size, NULL);
    if ((rc = mb_comm_agree(t->comm, rc)) != MB_OK)
        return rc;
    double t0 = mb_clock_wall();
    MPI_Bcast(&t0, 1, MPI_DOUBLE, 0, t->comm);
    mb_run run = {.comm = t->comm, .rank = t->rank, .size = t->size, .kernel = &reader,
                  .kstate = s, .reclen = 1 + CODE_WORDS, .source = t->rank == 0 ? &t->source : NULL,
                  .chunk = READ_CHUNK, .t0 = t0, .col = t->col};
    if ((rc = mb_schedule_dynamic(&run)) != MB_OK)
        mb_comm_abort(t->comm, rc);
    return mb_mpi_check(MPI_Allreduce(MPI_IN_PLACE, s->stats.counts, (int)s->stats.n_counts,
                                      MPI_INT64_T, MPI_SUM, t->comm), "MPI_Allreduce");
}

/* The sub-labels of one topic, in label order. */
typedef struct sub_labels {
    char name[MB_MODEL_MAX_LABELS][MB_JSONL_MAX_CATEGORY + 1];
    size_t n;
} sub_labels;

static int by_count_then_name(const void *a, const void *b)
{
    const code_count *x = *(const code_count *const *)a, *y = *(const code_count *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->code, y->code);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const code_count *const *)a)->code, (*(const code_count *const *)b)->code);
}

/* Rank 0: one topic's sub-labels from the counts of all documents: the
 * codes with at least min_docs documents (at most MB_MODEL_MAX_LABELS - 1,
 * the most frequent) by name, then "other" if any code was left out. */
static mb_err plan_topic(const code_list *all, int topic, long min_docs, sub_labels *out)
{
    size_t n = 0, kept = 0;
    const code_count **v = malloc((all->n ? all->n : 1) * sizeof *v);
    if (!v)
        return mb_error_set(MB_ERR_NOMEM, "out of memory planning sub-topics");
    for (size_t i = 0; i < all->n; i++)
        if (all->v[i].topic == topic)
            v[n++] = &all->v[i];
    qsort(v, n, sizeof *v, by_count_then_name);
    while (kept < n && kept < MB_MODEL_MAX_LABELS - 1 && v[kept]->count >= min_docs)
        kept++;
    qsort(v, kept, sizeof *v, by_name);
    out->n = 0;
    for (size_t i = 0; i < kept; i++)
        strcpy(out->name[out->n++], v[i]->code);
    if (kept < n)
        strcpy(out->name[out->n++], OTHER_SUBTOPIC);
    free(v);
    return MB_OK;
}

/* Every rank: the sub-labels rank 0 planned, as one broadcast array. */
static mb_err share_plan(trainer_run *t, sub_labels *plan)
{
    mb_err rc = MB_OK;
    long min_docs = (long)cJSON_GetObjectItem(t->spec, "subtopic-min-docs")->valuedouble;
    for (int k = 0; t->rank == 0 && rc == MB_OK && k < MB_TOPIC_COUNT; k++)
        rc = plan_topic(&t->st.all_codes, k, min_docs, &plan[k]);
    if ((rc = mb_comm_agree(t->comm, rc)) != MB_OK)
        return rc;
    return mb_mpi_check(MPI_Bcast(plan, (int)(MB_TOPIC_COUNT * sizeof *plan), MPI_BYTE, 0,
                                  t->comm), "MPI_Bcast");
}

/* The sub-label of a local code: its own, else "other". */
static int sub_label_of(const sub_labels *l, const char *code)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->name[i], code) == 0)
            return (int)i;
    return (int)l->n - 1;
}

/* Every rank: one topic's complement naive Bayes sub-model, from counts
 * of the cached documents' folded features summed over ranks. */
static mb_err fit_sub(trainer_run *t, int topic, const sub_labels *l, const int *local_sub,
                      mb_model *sub)
{
    const char *names[MB_MODEL_MAX_LABELS];
    mb_model_params p = t->st.params;
    mb_train_stats st;
    mb_features folded;
    p.hash_bits = p.hash_bits < SUB_HASH_BITS ? p.hash_bits : SUB_HASH_BITS;
    for (size_t i = 0; i < l->n; i++)
        names[i] = l->name[i];
    memset(&folded, 0, sizeof folded);
    mb_err rc = mb_train_stats_init(&st, p.hash_bits, l->n);
    if (rc == MB_OK)
        rc = mb_features_init(&folded, p.hash_bits, p.title_weight);
    for (size_t d = 0; rc == MB_OK && d < t->st.docs.n; d++) {
        size_t a = t->st.docs.start[d];
        mb_features view = t->st.scratch;
        if (t->st.docs.label[d] != topic)
            continue;
        view.n = t->st.docs.start[d + 1] - a;
        view.idx = (uint32_t *)(void *)t->st.docs.idx.data + a;
        view.cnt = (uint32_t *)(void *)t->st.docs.cnt.data + a;
        if ((rc = mb_features_fold(&folded, &view)) == MB_OK)
            rc = mb_train_stats_add(&st, &folded, local_sub[t->st.docs.code[d]]);
    }
    if ((rc = mb_comm_agree(t->comm, rc)) == MB_OK)
        rc = mb_mpi_check(MPI_Allreduce(MPI_IN_PLACE, st.counts, (int)st.n_counts, MPI_INT64_T,
                                        MPI_SUM, t->comm), "MPI_Allreduce");
    if (rc == MB_OK && (rc = mb_model_prepare(sub, &p, names, l->n, &st)) == MB_OK)
        mb_model_fit_nb(sub, &st);
    mb_features_free(&folded);
    mb_train_stats_free(&st);
    return rc;
}

/* Every rank: a sub-model per topic with two or more
 * sub-labels, into t->subs (attached to the model after its fit). */
static mb_err fit_subs(trainer_run *t)
{
    sub_labels plan[MB_TOPIC_COUNT];
    int *local_sub = NULL;
    memset(plan, 0, sizeof plan);
    mb_err rc = share_plan(t, plan);
    if (rc == MB_OK && !(t->subs = calloc(MB_TOPIC_COUNT, sizeof *t->subs)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for sub-topic models");
    if (rc == MB_OK &&
        !(local_sub = malloc((t->st.codes.n ? t->st.codes.n : 1) * sizeof *local_sub)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for sub-topic labels");
    for (size_t i = 0; rc == MB_OK && i < t->st.codes.n; i++)
        local_sub[i] = sub_label_of(&plan[t->st.codes.v[i].topic], t->st.codes.v[i].code);
    rc = mb_comm_agree(t->comm, rc); /* all ranks reach fit_sub's collectives, or none */
    for (int k = 0; rc == MB_OK && k < MB_TOPIC_COUNT; k++)
        if (plan[k].n >= 2)
            rc = fit_sub(t, k, &plan[k], local_sub, &t->subs[k]);
    free(local_sub);
    return rc;
}

/* Every rank: the same optimiser on identical sums (model.h). */
static mb_err fit(trainer_run *t)
{
    const char *labels[MB_TOPIC_COUNT];
    mb_train_set ts;
    mb_trainer tr;
    int64_t *acc = NULL;
    int done = 0;
    for (int k = 0; k < MB_TOPIC_COUNT; k++)
        labels[k] = mb_jsonl_topic_name(k);
    if (t->st.stats.counts[t->st.stats.n_counts - 1] == 0)
        return mb_error_set(MB_ERR_INPUT, "%s: no labelled documents to train on",
                            cJSON_GetObjectItem(t->spec, "input")->valuestring);
    mb_err rc = mb_model_prepare(&t->model, &t->st.params, labels, MB_TOPIC_COUNT, &t->st.stats);
    t->prepared = rc == MB_OK;
    mb_train_set_init(&ts);
    for (size_t d = 0; rc == MB_OK && d < t->st.docs.n; d++) {
        /* A read-only view of the cached features: train_set_add reads
         * hash_bits, n, idx and cnt only. */
        size_t a = t->st.docs.start[d];
        mb_features view = t->st.scratch;
        view.n = t->st.docs.start[d + 1] - a;
        view.idx = (uint32_t *)(void *)t->st.docs.idx.data + a;
        view.cnt = (uint32_t *)(void *)t->st.docs.cnt.data + a;
        rc = mb_train_set_add(&ts, &t->model, &view, t->st.docs.label[d]);
    }
    cache_free(&t->st.docs);
    if (rc == MB_OK && (rc = mb_trainer_init(&tr, &t->model)) == MB_OK) {
        size_t len = mb_trainer_acc_len(&tr);
        if (!(acc = malloc(len * sizeof *acc)))
            rc = mb_error_set(MB_ERR_NOMEM, "out of memory for the gradient");
        while (rc == MB_OK && !done) {
            memset(acc, 0, len * sizeof *acc);
            mb_train_set_accumulate(&ts, &tr, acc);
            rc = mb_mpi_check(MPI_Allreduce(MPI_IN_PLACE, acc, (int)len, MPI_INT64_T, MPI_SUM,
                                            t->comm), "MPI_Allreduce");
            if (rc == MB_OK)
                rc = mb_trainer_step(&tr, acc, &done);
        }
        if (rc == MB_OK)
            mb_trainer_finish(&tr, &t->model);
        if (rc == MB_OK && t->subs) {
            t->model.sub = t->subs; /* the model owns them from here */
            t->subs = NULL;
        }
        t->iterations = mb_trainer_iterations(&tr);
        mb_trainer_free(&tr);
    }
    free(acc);
    mb_train_set_free(&ts);
    return rc;
}

static cJSON *train_report(const trainer_run *t, double total)
{
    cJSON *r = cJSON_CreateObject(), *sec;
    size_t nf = 0;
    const mb_failure *f = mb_collector_failures(t->col, &nf);
    cJSON_AddStringToObject(r, "program", "mpibatch");
    cJSON_AddStringToObject(r, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(r, "command", "train");
    cJSON_AddNumberToObject(r, "ranks", t->size);
    cJSON_AddNumberToObject(r, "documents", (double)t->model.n_train_docs);
    cJSON_AddNumberToObject(r, "bad_records", (double)t->st.bad);
    cJSON *fails = cJSON_AddArrayToObject(r, "failures");
    for (size_t i = 0; i < nf; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "task", (double)f[i].task);
        cJSON_AddStringToObject(o, "reason", f[i].reason);
        cJSON_AddItemToArray(fails, o);
    }
    cJSON_AddNumberToObject(r, "features", (double)t->model.n_active);
    cJSON_AddNumberToObject(r, "iterations", t->iterations);
    sec = cJSON_AddObjectToObject(r, "seconds");
    cJSON_AddNumberToObject(sec, "read", t->t_read);
    cJSON_AddNumberToObject(sec, "fit", t->t_fit);
    cJSON_AddNumberToObject(sec, "subtopics", t->t_sub);
    cJSON_AddNumberToObject(r, "levels", t->model.sub ? 2 : 1);
    cJSON_AddNumberToObject(sec, "total", total);
    cJSON *spec = cJSON_Duplicate(t->spec, 1);
    mb_url_redact_json(spec); /* no secret from a URL reaches a report */
    cJSON_AddItemToObject(r, "job", spec);
    return r;
}

/* Rank 0, before any work: the model's and report's destinations. */
static mb_err stage_outputs(trainer_run *t)
{
    const cJSON *rep = cJSON_GetObjectItem(t->spec, "report");
    mb_err rc = mb_stage_output(&t->out_at, cJSON_GetObjectItem(t->spec, "out")->valuestring);
    if (rc == MB_OK && cJSON_IsString(rep))
        rc = mb_stage_output(&t->report_at, rep->valuestring);
    return rc;
}

/* Rank 0: write the model, then the report and the summary. */
static mb_err save(trainer_run *t, double started)
{
    const char *out = cJSON_GetObjectItem(t->spec, "out")->valuestring;
    char *input = mb_url_redacted(cJSON_GetObjectItem(t->spec, "input")->valuestring);
    mb_model_provenance prov = {.train_file = input, .iterations = t->iterations};
    mb_report_file *rf = NULL;
    mb_err rc = !input ? mb_error_set(MB_ERR_NOMEM, "out of memory")
              : t->report_at.local ? mb_report_open(&rf, t->report_at.local) : MB_OK;
    if (rc == MB_OK && (rc = mb_model_save(&t->model, t->out_at.local, &prov)) == MB_OK)
        rc = mb_stage_commit(&t->out_at, &t->url);
    cJSON *report = rc == MB_OK ? train_report(t, mb_clock_now() - started) : NULL;
    if (rc == MB_OK && rf) {
        rc = mb_report_commit(rf, report);
        rf = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&t->report_at, &t->url);
    }
    mb_report_discard(rf);
    free(input);
    char *shown = mb_url_redacted(out);
    if (rc == MB_OK && !cJSON_IsTrue(cJSON_GetObjectItem(t->spec, "quiet")))
        printf("mpibatch %s: trained on %ld documents (%llu bad) with %d ranks: %zu features, "
               "%u iterations, %.2f s reading, %.2f s fitting\n  model: %s\n",
               PACKAGE_VERSION, t->model.n_train_docs, (unsigned long long)t->st.bad, t->size,
               t->model.n_active, t->iterations, t->t_read, t->t_fit, shown ? shown : "");
    free(shown);
    cJSON_Delete(report);
    return rc;
}

static mb_err check_required(const cJSON *spec)
{
    if (!cJSON_IsString(cJSON_GetObjectItem(spec, "input")))
        return mb_error_set(MB_ERR_USAGE, "'input' is required (labelled JSON lines)");
    if (!cJSON_IsString(cJSON_GetObjectItem(spec, "out")))
        return mb_error_set(MB_ERR_USAGE, "'out' is required (the model file to write)");
    return MB_OK;
}

static mb_err train_phases(trainer_run *t, double started)
{
    double t0 = mb_clock_now();
    mb_err rc = mb_comm_agree(t->comm, t->rank == 0 ? stage_outputs(t) : MB_OK);
    if (rc == MB_OK)
        rc = read_pass(t);
    t->t_read = mb_clock_now() - t0;
    t0 = mb_clock_now();
    /* Sub-topic models cost under 1% of the training time
     * (docs/classifier.md), so every model has them. */
    if (rc == MB_OK)
        rc = mb_comm_agree(t->comm, fit_subs(t));
    t->t_sub = mb_clock_now() - t0;
    t0 = mb_clock_now();
    if (rc == MB_OK)
        rc = mb_comm_agree(t->comm, fit(t));
    t->t_fit = mb_clock_now() - t0;
    if (rc == MB_OK && t->rank == 0)
        rc = save(t, started);
    return rc == MB_OK ? mb_comm_agree(t->comm, rc) : rc;
}

static int train_main(int argc, char **argv, MPI_Comm comm)
{
    const mb_option *const tables[] = {train_options, mb_url_options, NULL};
    trainer_run t;
    double started = mb_clock_now();
    memset(&t, 0, sizeof t);
    t.comm = comm;
    MPI_Comm_rank(comm, &t.rank);
    MPI_Comm_size(comm, &t.size);
    /* Every rank parses the same argv, so all reach the same verdict. */
    mb_err rc = mb_cli_command_spec(argc, argv, tables, &t.spec, NULL, 0, NULL);
    if (rc == MB_OK)
        rc = check_required(t.spec);
    if (rc == MB_OK) {
        params_from_spec(t.spec, &t.st.params);
        mb_url_opts_from_spec(t.spec, &t.url);
        rc = train_phases(&t, started);
    }
    if (rc != MB_OK && t.rank == 0) {
        fprintf(stderr, "mpibatch train: %s\n", mb_error_message());
        if (rc == MB_ERR_USAGE)
            fputs("Try 'mpibatch help train' for usage.\n", stderr);
    }
    mb_source_close(&t.source);
    mb_stage_release(&t.out_at);
    mb_stage_release(&t.report_at);
    mb_collector_free(t.col);
    cache_free(&t.st.docs);
    mb_features_free(&t.st.scratch);
    mb_train_stats_free(&t.st.stats);
    if (t.prepared)
        mb_model_free(&t.model);
    for (int k = 0; t.subs && k < MB_TOPIC_COUNT; k++)
        mb_model_free(&t.subs[k]);
    free(t.subs);
    free(t.st.codes.v);
    free(t.st.all_codes.v);
    cJSON_Delete(t.spec);
    return mb_error_exit_status(rc);
}

static void train_help(FILE *fp)
{
    fputs("Usage: mpirun -n RANKS mpibatch train --input TRAIN.jsonl --out MODEL.h5 [OPTIONS]\n\n"
          "Fit the topic classifier (multinomial logistic regression on hashed word\n"
          "n-grams) on labelled arXiv JSON lines.  The model is the same, bit for bit,\n"
          "at any rank count.\n\nOptions:\n", fp);
    mb_options_print_help(train_options, fp);
    fputs("\nStorage options (paths may be URLs: docs/storage.md):\n", fp);
    mb_options_print_help(mb_url_options, fp);
}

const mb_command mb_command_train = {
    .name = "train",
    .summary = "fit the topic classifier on labelled JSON lines (same model at any rank count)",
    .main = train_main,
    .help = train_help,
};
