/* model.h - multinomial logistic regression on hashed TF-IDF n-grams.
 *
 * Features (mpibatch/tokenize.h) are weighted log(1 + count) * idf, with
 * idf = ln((1 + N) / (1 + df)) + 1, over the buckets seen in at least
 * min_df training documents, and L2-normalised.  Training minimises
 * sum_i c(y_i) * H(t_i, p(. | x_i)) + l2/2 * |W|^2 (bias not penalised)
 * with L-BFGS, where the class weight c(y) = (n_min / n_y)^class_balance
 * evens out the classes (n_y: training documents of class y), and H is the
 * cross-entropy against the smoothed target t_i = (1 - e) onehot(y_i) +
 * e / K (e = label_smoothing, K labels; e = 0 is -log p(y_i | x_i)).
 *
 * Training is reducible across MPI ranks with bit-identical results at any
 * rank count, because everything summed over documents is summed as
 * integers:
 *   1. every rank extracts its documents' features and adds them to an
 *      mb_train_stats; the int64 counts arrays are summed over ranks
 *      (MPI_Allreduce, MPI_INT64_T, MPI_SUM), and every rank calls
 *      mb_model_prepare with the summed stats;
 *   2. every rank fills an mb_train_set with its own documents and starts
 *      an identical mb_trainer;
 *   3. until mb_trainer_step reports done: zero an int64 array of
 *      mb_trainer_acc_len entries, mb_train_set_accumulate into it, sum it
 *      over ranks (MPI_INT64_T, MPI_SUM), pass the sum to mb_trainer_step.
 * The accumulator holds each document's loss and gradient terms rounded
 * to fixed point (2^-30 and 2^-40) before summing; integer addition is
 * associative, so neither the split of documents over ranks nor the
 * reduction order changes a bit.  The L-BFGS update runs redundantly on
 * every rank on identical data.  mb_model_fit is the one-process driver.
 */
#ifndef MPIBATCH_MODEL_H
#define MPIBATCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"
#include "ml/tokenize.h"

/* Enough for the sub-topics of the largest topic (docs/classifier.md). */
#define MB_MODEL_MAX_LABELS 64
#define MB_MODEL_LABEL_MAX 31
/* Feature counts below this have their log1p in a table (see
 * mb_model.log1p_count). */
#define MB_MODEL_SMALL_COUNTS 64
/* Fixed-point accumulation stays inside int64 up to this many documents. */
#define MB_MODEL_MAX_TRAIN_DOCS (1L << 22)

typedef struct mb_model_params {
    unsigned hash_bits;    /* 2^hash_bits feature buckets */
    unsigned title_weight; /* a title token counts this many times */
    unsigned min_df;       /* buckets in fewer training docs are ignored */
    double supervision;    /* idf boost for class-concentrated buckets */
    double l2;             /* L2 penalty on the weights */
    double class_balance;  /* doc weight (n_min / n_class)^class_balance */
    double label_smoothing; /* training target (1 - e) one-hot + e / K */
    unsigned max_iter;     /* L-BFGS iteration cap */
    double tol;            /* stop when the relative loss decrease is below */
} mb_model_params;

/* A trained (or, between prepare and finish, training) model.  Per bucket
 * b, table[b * (n_labels + 1)] is its idf (0: not a feature) and the next
 * n_labels floats its class weights, so scoring a token touches one row. */
typedef struct mb_model {
    mb_model_params params;
    size_t n_labels;
    char labels[MB_MODEL_MAX_LABELS][MB_MODEL_LABEL_MAX + 1];
    size_t n_buckets;
    size_t n_active;       /* buckets with df >= min_df */
    long n_train_docs;
    float *table;
    int table_borrowed;    /* table is a node-shared segment (mpibatch/shm.h)
                              that mb_model_free leaves to its owner */
    double bias[MB_MODEL_MAX_LABELS];
    double class_weight[MB_MODEL_MAX_LABELS]; /* training document weights */
    uint32_t *active;      /* training only: bucket -> parameter row */
    /* log1p(c) for small counts c, computed by the same libm call as for
     * larger ones, so the table changes no bit; set by mb_model_index. */
    double log1p_count[MB_MODEL_SMALL_COUNTS];
    /* Level 2 (--levels 2): NULL, or n_labels sub-models, sub[k] for the
     * documents of label k; sub[k].n_labels == 0 where label k had fewer
     * than two sub-topics to tell apart.  Sub-models score the main
     * features folded to their own, smaller hash_bits (mb_features_fold)
     * and are owned, and freed, by their parent. */
    struct mb_model *sub;
} mb_model;

/* Per-rank document statistics; counts is one array so that a single
 * MPI_Allreduce sums it: [df of each bucket][docs per label][docs]. */
typedef struct mb_train_stats {
    unsigned hash_bits;
    size_t n_labels;
    size_t n_counts;
    int64_t *counts;
} mb_train_stats;

/* One rank's training documents as scaled sparse rows. */
typedef struct mb_train_set {
    size_t n_docs;
    size_t cap_docs;
    size_t nnz;
    size_t cap_nnz;
    size_t *start;         /* row d is [start[d], start[d + 1]) */
    uint32_t *col;
    double *val;
    int *label;
} mb_train_set;

/* L-BFGS state, driven by reverse communication (see the file comment). */
typedef struct mb_trainer {
    size_t n_labels;
    size_t n_params;       /* n_active * n_labels weights, then biases */
    double l2;
    double tol;
    double smoothing;      /* params.label_smoothing */
    double class_weight[MB_MODEL_MAX_LABELS];
    unsigned max_iter;
    unsigned iter;
    unsigned backtracks;
    int state;
    double f0;
    double dg0;
    double step;
    double *x;             /* the point to evaluate next */
    double *x0;            /* the last accepted point */
    double *g;
    double *g0;
    double *d;
    double *s;             /* MB_LBFGS_M rows of n_params */
    double *y;
    double *rho;
    double *alpha;
    unsigned n_hist;
    unsigned head;
} mb_trainer;

/* The defaults chosen on the dev split (docs/classifier.md). */
void mb_model_params_default(mb_model_params *p);

/* Zeroed stats for 2^hash_bits buckets and n_labels labels; the caller
 * owns the counts and releases them with mb_train_stats_free. */
mb_err mb_train_stats_init(mb_train_stats *st, unsigned hash_bits,
                           size_t n_labels);

/* Count one labelled document (doc is only read). */
mb_err mb_train_stats_add(mb_train_stats *st, const mb_features *doc,
                          int label);

/* dst += src, element by element (exact: integer counts). */
mb_err mb_train_stats_merge(mb_train_stats *dst, const mb_train_stats *src);

/* Release the counts (safe on a zeroed or already freed st). */
void mb_train_stats_free(mb_train_stats *st);

/* Set m up for training from the stats summed over all ranks: idf table,
 * active buckets, zero weights.  labels[0..n_labels) are copied.  The
 * caller owns m and releases it with mb_model_free. */
mb_err mb_model_prepare(mb_model *m, const mb_model_params *p,
                        const char *const *labels, size_t n_labels,
                        const mb_train_stats *global);

/* Fill m's lookup tables for feature values; mb_model_prepare calls it,
 * and so must whoever builds a model by other means (mpibatch/model_io.h). */
void mb_model_index(mb_model *m);

/* Release what m owns (safe on a zeroed or already freed m). */
void mb_model_free(mb_model *m);

/* An empty set; the caller releases it with mb_train_set_free. */
void mb_train_set_init(mb_train_set *ts);

/* Append one document, scaled with the prepared model m's idf. */
mb_err mb_train_set_add(mb_train_set *ts, const mb_model *m,
                        const mb_features *doc, int label);

/* Release the set's rows (safe on a zeroed or already freed ts). */
void mb_train_set_free(mb_train_set *ts);

/* Start L-BFGS at zero for the prepared model m; the caller owns tr and
 * releases it with mb_trainer_free. */
mb_err mb_trainer_init(mb_trainer *tr, const mb_model *m);

/* Entries in the accumulator: the gradient terms, then the loss. */
size_t mb_trainer_acc_len(const mb_trainer *tr);

/* acc += this set's fixed-point loss and gradient at tr's current point;
 * acc has mb_trainer_acc_len entries and belongs to the caller. */
void mb_train_set_accumulate(const mb_train_set *ts, const mb_trainer *tr,
                             int64_t *acc);

/* Take the accumulator summed over all documents of all ranks and advance;
 * *done becomes 1 when the weights are final. */
mb_err mb_trainer_step(mb_trainer *tr, const int64_t *acc, int *done);

/* Iterations completed so far. */
unsigned mb_trainer_iterations(const mb_trainer *tr);

/* Copy the final weights into m and drop m's training-only state. */
void mb_trainer_finish(const mb_trainer *tr, mb_model *m);

/* Release the optimiser state (safe on a zeroed or already freed tr). */
void mb_trainer_free(mb_trainer *tr);

/* Train m (prepared) on ts in this process: the trainer loop above. */
mb_err mb_model_fit(mb_model *m, const mb_train_set *ts);

/* Complement naive Bayes weights for the prepared model m from the same
 * summed stats (the sub-topic models' method, docs/classifier.md): class
 * k's weight of bucket j is -log of the smoothed share of j among the
 * other classes' document frequencies, the bias 0.  Integer stats in,
 * so every rank gets the same bits; drops m's training-only state. */
void mb_model_fit_nb(mb_model *m, const mb_train_stats *global);

/* Class probabilities of an extracted document into scores[n_labels]
 * (caller's array, may be NULL); returns the most probable label. */
int mb_model_score(const mb_model *m, const mb_features *doc,
                   double *scores);

/* Extract (title, abstract) into the caller's scratch (initialised with
 * the model's hash_bits and title_weight, reused across calls), score it,
 * and store the label in *label; scores as for mb_model_score. */
mb_err mb_model_predict(const mb_model *m, mb_features *scratch,
                        const char *title, size_t tlen,
                        const char *abstract, size_t alen,
                        double *scores, int *label);

/* Level 2: the sub-topic of a document that m put in label, from its
 * features doc (extracted for m) folded into the caller's scratch folded
 * (any mb_features_init'ed one, reused across calls).  *sub_label gets
 * the index into m->sub[label].labels and *score its probability, or -1
 * and 0 when m has no sub-model for label. */
mb_err mb_model_score_sub(const mb_model *m, int label, const mb_features *doc,
                          mb_features *folded, int *sub_label, double *score);

#endif
