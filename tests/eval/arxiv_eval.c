/* arxiv_eval.c - train and score the topic classifier on arXiv JSON lines.
 *
 * Not part of mpibatch: a measuring tool for docs/classifier.md.
 *   arxiv_eval [opts] TRAIN TEST      train on TRAIN, score TEST
 *   arxiv_eval [opts] --tune TRAIN    train on 4/5 of TRAIN, score the
 *                                     other 1/5 (records i % 5 == 4, or
 *                                     == F with --fold F)
 *   arxiv_eval --predict MODEL FILE   load a --save'd model, print one
 *                                     label per record (speed test)
 * opts: --bits N --title-weight N --min-df N --supervision X --l2 X
 *       --class-balance X --label-smoothing X --max-iter N --tol X
 *       --fold F (0-4: the dev fold of --tune; default 4, the dev split
 *         of docs/classifier.md; the others give a 5-fold average)
 *       --ranks R (simulate R ranks; prints the model checksum)
 *       --repeat N (score the test set N times for timing)
 *       --save MODEL (HDF5 model file, mpibatch/model_io.h)
 */
#define _POSIX_C_SOURCE 200809L
#include "ml/jsonl.h"
#include "ml/model.h"
#include "ml/model_io.h"
#include "ml/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct corpus {
    size_t n;
    size_t cap;
    mb_jsonl_record *rec;
} corpus;

typedef struct options {
    mb_model_params params;
    const char *train;
    const char *test;
    const char *save;
    int tune;
    int ranks;
    int repeat;
} options;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static mb_err corpus_push(corpus *c, const mb_jsonl_record *r)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4096;
        mb_jsonl_record *p = realloc(c->rec, cap * sizeof *p);
        if (!p) return mb_error_set(MB_ERR_NOMEM, "corpus");
        c->rec = p;
        c->cap = cap;
    }
    c->rec[c->n++] = *r;
    return MB_OK;
}

/* The dev fold of --tune. */
static unsigned long dev_fold = 4;

/* Read path; records with (index % 5 == dev_fold) == dev_part go to c
 * (dev_part -1: all records). */
static mb_err corpus_read(corpus *c, const char *path, int dev_part)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    mb_err err = MB_OK;
    if (!fp) return mb_error_set(MB_ERR_INPUT, "cannot open %s", path);
    while (!err && (len = getline(&line, &cap, fp)) >= 0) {
        mb_jsonl_record r;
        lineno++;
        if (dev_part >= 0 && ((lineno - 1) % 5 == dev_fold) != (dev_part == 1))
            continue;
        err = mb_jsonl_parse(line, (size_t)len, lineno, &r);
        if (!err && r.label < 0)
            err = mb_error_set(MB_ERR_INPUT, "line %lu: unlabelled", lineno);
        if (!err) err = corpus_push(c, &r);
    }
    free(line);
    fclose(fp);
    return err;
}

static void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) mb_jsonl_record_free(&c->rec[i]);
    free(c->rec);
    memset(c, 0, sizeof *c);
}

static uint64_t model_checksum(const mb_model *m)
{
    size_t n = m->n_buckets * (m->n_labels + 1);
    uint64_t h = mb_tokenize_hash((const char *)m->table, n * sizeof(float));
    return h ^ mb_tokenize_hash((const char *)m->bias,
                                m->n_labels * sizeof(double));
}

/* Documents [lo, hi) as one simulated rank's share. */
static mb_err rank_stats(const corpus *c, size_t lo, size_t hi,
                         mb_features *f, mb_train_stats *st)
{
    mb_err err = MB_OK;
    for (size_t i = lo; !err && i < hi; i++) {
        const mb_jsonl_record *r = &c->rec[i];
        err = mb_features_extract(f, r->title, r->title_len, r->abstract,
                                  r->abstract_len);
        if (!err) err = mb_train_stats_add(st, f, r->label);
    }
    return err;
}

static mb_err rank_set(const corpus *c, size_t lo, size_t hi,
                       mb_features *f, const mb_model *m, mb_train_set *ts)
{
    mb_err err = MB_OK;
    for (size_t i = lo; !err && i < hi; i++) {
        const mb_jsonl_record *r = &c->rec[i];
        err = mb_features_extract(f, r->title, r->title_len, r->abstract,
                                  r->abstract_len);
        if (!err) err = mb_train_set_add(ts, m, f, r->label);
    }
    return err;
}

/* Stats phase: per-rank stats merged in rank order (any order gives the
 * same integers). */
static mb_err train_stats(const corpus *c, int ranks, mb_features *f,
                          mb_train_stats *global)
{
    mb_err err = mb_train_stats_init(global, f->hash_bits, MB_TOPIC_COUNT);
    for (int r = 0; !err && r < ranks; r++) {
        mb_train_stats st;
        err = mb_train_stats_init(&st, f->hash_bits, MB_TOPIC_COUNT);
        if (!err) err = rank_stats(c, c->n * (size_t)r / (size_t)ranks,
                                   c->n * (size_t)(r + 1) / (size_t)ranks,
                                   f, &st);
        if (!err) err = mb_train_stats_merge(global, &st);
        mb_train_stats_free(&st);
    }
    return err;
}

/* The optimisation loop as the MPI layer runs it, with the Allreduce
 * replaced by adding the per-rank accumulators. */
static mb_err train_loop(mb_model *m, const mb_train_set *sets, int ranks,
                         unsigned *iters)
{
    mb_trainer tr;
    int64_t *acc = NULL, *part = NULL;
    int done = 0;
    size_t n;
    mb_err err = mb_trainer_init(&tr, m);
    if (err) return err;
    n = mb_trainer_acc_len(&tr);
    acc = malloc(n * sizeof *acc);
    part = malloc(n * sizeof *part);
    if (!acc || !part) {
        err = mb_error_set(MB_ERR_NOMEM, "accumulators");
        goto out;
    }
    while (!err && !done) {
        memset(acc, 0, n * sizeof *acc);
        for (int r = ranks - 1; r >= 0; r--) { /* order must not matter */
            memset(part, 0, n * sizeof *part);
            mb_train_set_accumulate(&sets[r], &tr, part);
            for (size_t i = 0; i < n; i++) acc[i] += part[i];
        }
        err = mb_trainer_step(&tr, acc, &done);
    }
    if (!err) {
        *iters = mb_trainer_iterations(&tr);
        fprintf(stderr, "L-BFGS iterations: %u\n", *iters);
        mb_trainer_finish(&tr, m);
    }
out:
    free(acc);
    free(part);
    mb_trainer_free(&tr);
    return err;
}

static mb_err train(const corpus *c, const options *o, mb_model *m,
                    unsigned *iters)
{
    const char *labels[MB_TOPIC_COUNT];
    mb_features f = {0};
    mb_train_stats global = {0};
    mb_train_set *sets = calloc((size_t)o->ranks, sizeof *sets);
    mb_err err;
    for (int k = 0; k < MB_TOPIC_COUNT; k++) labels[k] = mb_jsonl_topic_name(k);
    if (!sets) return mb_error_set(MB_ERR_NOMEM, "sets");
    err = mb_features_init(&f, o->params.hash_bits, o->params.title_weight);
    if (!err) err = train_stats(c, o->ranks, &f, &global);
    if (!err) err = mb_model_prepare(m, &o->params, labels, MB_TOPIC_COUNT,
                                     &global);
    for (int r = 0; !err && r < o->ranks; r++)
        err = rank_set(c, c->n * (size_t)r / (size_t)o->ranks,
                       c->n * (size_t)(r + 1) / (size_t)o->ranks, &f, m,
                       &sets[r]);
    if (!err) {
        fprintf(stderr, "active features: %zu\n", m->n_active);
        err = train_loop(m, sets, o->ranks, iters);
    }
    for (int r = 0; r < o->ranks; r++) mb_train_set_free(&sets[r]);
    free(sets);
    mb_train_stats_free(&global);
    mb_features_free(&f);
    return err;
}

static void report(const corpus *c, const int *pred)
{
    long conf[MB_TOPIC_COUNT][MB_TOPIC_COUNT] = {{0}};
    long correct = 0;
    double macro = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        conf[c->rec[i].label][pred[i]]++;
        correct += c->rec[i].label == pred[i];
    }
    printf("confusion (rows: true, cols: predicted)\n%8s", "");
    for (int k = 0; k < MB_TOPIC_COUNT; k++)
        printf(" %7s", mb_jsonl_topic_name(k));
    printf("\n");
    for (int t = 0; t < MB_TOPIC_COUNT; t++) {
        long tp = conf[t][t], row = 0, colsum = 0;
        printf("%8s", mb_jsonl_topic_name(t));
        for (int k = 0; k < MB_TOPIC_COUNT; k++) {
            printf(" %7ld", conf[t][k]);
            row += conf[t][k];
            colsum += conf[k][t];
        }
        double f1 = (row + colsum) ? 2.0 * (double)tp / (double)(row + colsum)
                                   : 0.0;
        printf("   F1 %.4f\n", f1);
        macro += f1 / MB_TOPIC_COUNT;
    }
    printf("accuracy %.4f  macro-F1 %.4f  (n=%zu)\n",
           (double)correct / (double)c->n, macro, c->n);
}

static mb_err evaluate(const corpus *c, const mb_model *m, int repeat)
{
    mb_features f = {0};
    int *pred = malloc(c->n * sizeof *pred);
    double t0;
    mb_err err = pred ? MB_OK : mb_error_set(MB_ERR_NOMEM, "predictions");
    if (!err) err = mb_features_init(&f, m->params.hash_bits,
                                     m->params.title_weight);
    t0 = now();
    for (int rep = 0; !err && rep < repeat; rep++) {
        for (size_t i = 0; !err && i < c->n; i++) {
            const mb_jsonl_record *r = &c->rec[i];
            err = mb_model_predict(m, &f, r->title, r->title_len, r->abstract,
                                   r->abstract_len, NULL, &pred[i]);
        }
    }
    if (!err) {
        double dt = now() - t0;
        printf("predict (features + score, parsed records): %zu docs in "
               "%.3f s, %.2f us/doc\n", c->n * (size_t)repeat, dt,
               1e6 * dt / (double)(c->n * (size_t)repeat));
        report(c, pred);
    }
    mb_features_free(&f);
    free(pred);
    return err;
}

/* Whole-process prediction: read, parse, extract, score, print. */
static mb_err predict_file(const char *model_path, const char *path)
{
    mb_model m = {0};
    mb_features f = {0};
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    mb_err err = mb_model_load(&m, model_path);
    if (!err) err = mb_features_init(&f, m.params.hash_bits,
                                     m.params.title_weight);
    if (!err && !(fp = fopen(path, "r")))
        err = mb_error_set(MB_ERR_INPUT, "cannot open %s", path);
    while (!err && (len = getline(&line, &cap, fp)) >= 0) {
        mb_jsonl_record r;
        int label;
        if ((err = mb_jsonl_parse(line, (size_t)len, ++lineno, &r))) break;
        err = mb_model_predict(&m, &f, r.title, r.title_len, r.abstract,
                               r.abstract_len, NULL, &label);
        if (!err) printf("%s\n", m.labels[label]);
        mb_jsonl_record_free(&r);
    }
    if (fp) fclose(fp);
    free(line);
    mb_features_free(&f);
    mb_model_free(&m);
    return err;
}

static int parse_options(int argc, char **argv, options *o)
{
    int i;
    mb_model_params_default(&o->params);
    o->ranks = 1;
    o->repeat = 1;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tune") == 0) { o->tune = 1; continue; }
        if (i + 1 >= argc) return -1;
        const char *v = argv[++i];
        if (strcmp(a, "--bits") == 0) o->params.hash_bits = (unsigned)atoi(v);
        else if (strcmp(a, "--title-weight") == 0)
            o->params.title_weight = (unsigned)atoi(v);
        else if (strcmp(a, "--min-df") == 0) o->params.min_df = (unsigned)atoi(v);
        else if (strcmp(a, "--supervision") == 0)
            o->params.supervision = atof(v);
        else if (strcmp(a, "--l2") == 0) o->params.l2 = atof(v);
        else if (strcmp(a, "--class-balance") == 0)
            o->params.class_balance = atof(v);
        else if (strcmp(a, "--label-smoothing") == 0)
            o->params.label_smoothing = atof(v);
        else if (strcmp(a, "--max-iter") == 0)
            o->params.max_iter = (unsigned)atoi(v);
        else if (strcmp(a, "--tol") == 0) o->params.tol = atof(v);
        else if (strcmp(a, "--ranks") == 0) o->ranks = atoi(v);
        else if (strcmp(a, "--fold") == 0) {
            if (atoi(v) < 0 || atoi(v) > 4) return -1;
            dev_fold = (unsigned long)atoi(v);
        }
        else if (strcmp(a, "--repeat") == 0) o->repeat = atoi(v);
        else if (strcmp(a, "--save") == 0) o->save = v;
        else return -1;
    }
    if (o->ranks < 1 || o->repeat < 1) return -1;
    o->train = i < argc ? argv[i] : NULL;
    o->test = i + 1 < argc ? argv[i + 1] : NULL;
    return (o->train && (o->tune || o->test)) ? 0 : -1;
}

static mb_err run(const options *o)
{
    corpus train_c = {0}, test_c = {0};
    mb_model m = {0};
    unsigned iters = 0;
    double t0;
    mb_err err = corpus_read(&train_c, o->train, o->tune ? 0 : -1);
    if (!err) err = corpus_read(&test_c, o->tune ? o->train : o->test,
                                o->tune ? 1 : -1);
    t0 = now();
    if (!err) err = train(&train_c, o, &m, &iters);
    if (!err) {
        printf("params: bits %u title-weight %u min-df %u supervision %g l2 %g "
               "class-balance %g label-smoothing %g tol %g\n", o->params.hash_bits,
               o->params.title_weight, o->params.min_df,
               o->params.supervision, o->params.l2, o->params.class_balance,
               o->params.label_smoothing, o->params.tol);
        printf("train: %zu docs in %.2f s (ranks %d, checksum %016llx)\n",
               train_c.n, now() - t0, o->ranks,
               (unsigned long long)model_checksum(&m));
        err = evaluate(&test_c, &m, o->repeat);
    }
    if (!err && o->save) {
        mb_model_provenance prov = {o->train, iters};
        err = mb_model_save(&m, o->save, &prov);
    }
    mb_model_free(&m);
    corpus_free(&train_c);
    corpus_free(&test_c);
    return err;
}

int main(int argc, char **argv)
{
    options o = {0};
    mb_err err;
    if (argc == 4 && strcmp(argv[1], "--predict") == 0)
        err = predict_file(argv[2], argv[3]);
    else if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: see the comment at the top of "
                "tests/eval/arxiv_eval.c\n");
        return 2;
    } else
        err = run(&o);
    if (err) {
        fprintf(stderr, "arxiv_eval: %s\n", mb_error_message());
        return mb_error_exit_status(err);
    }
    return 0;
}
