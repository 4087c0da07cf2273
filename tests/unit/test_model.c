/* test_model.c - training statistics, rank-count independence, prediction. */
#include "ml/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define BITS 16

static const char *const labels[] = {"animals", "space", "cooking"};

static const struct { const char *title, *text; int label; } docs[] = {
    {"Cats", "the cat purrs and the dog barks at the cat", 0},
    {"Dogs", "a dog chases the cat while the horse sleeps", 0},
    {"Horses", "the horse and the dog share a barn with the cat", 0},
    {"Pets", "cat food and dog toys for every pet owner", 0},
    {"Orbits", "the planet orbits the star in a stable orbit", 1},
    {"Galaxies", "the galaxy holds a billion star systems and planet dust", 1},
    {"Comets", "a comet passes the planet near the star", 1},
    {"Telescopes", "the telescope sees a distant galaxy and star", 1},
    {"Bread", "bake the bread dough in the oven with salt", 2},
    {"Soup", "boil the soup with salt and pepper in a pot", 2},
    {"Cakes", "the cake batter goes in the oven to bake", 2},
    {"Pasta", "boil pasta in salt water in a large pot", 2},
};
#define N_DOCS (sizeof docs / sizeof docs[0])

static mb_model_params params(void)
{
    mb_model_params p;
    mb_model_params_default(&p);
    p.hash_bits = BITS;
    p.min_df = 1;
    p.l2 = 0.1;
    p.supervision = 1.0;
    return p;
}

static void extract(mb_features *f, size_t i)
{
    ck_assert_int_eq(mb_features_extract(f, docs[i].title,
                                         strlen(docs[i].title), docs[i].text,
                                         strlen(docs[i].text)), MB_OK);
}

/* Train on docs split into `ranks` contiguous shares, each with its own
 * stats and set, summing per-rank accumulators in reverse rank order. */
static void train_ranks(mb_model *m, const mb_model_params *p, int ranks)
{
    mb_features f;
    mb_train_stats global, st;
    mb_train_set sets[4];
    mb_trainer tr;
    int64_t *acc, *part;
    int done = 0;
    ck_assert_int_eq(mb_features_init(&f, p->hash_bits, p->title_weight), 0);
    ck_assert_int_eq(mb_train_stats_init(&global, p->hash_bits, 3), MB_OK);
    for (int r = 0; r < ranks; r++) {
        ck_assert_int_eq(mb_train_stats_init(&st, p->hash_bits, 3), MB_OK);
        for (size_t i = N_DOCS * r / ranks; i < N_DOCS * (r + 1) / ranks; i++) {
            extract(&f, i);
            ck_assert_int_eq(mb_train_stats_add(&st, &f, docs[i].label), 0);
        }
        ck_assert_int_eq(mb_train_stats_merge(&global, &st), MB_OK);
        mb_train_stats_free(&st);
    }
    ck_assert_int_eq(mb_model_prepare(m, p, labels, 3, &global), MB_OK);
    for (int r = 0; r < ranks; r++) {
        mb_train_set_init(&sets[r]);
        for (size_t i = N_DOCS * r / ranks; i < N_DOCS * (r + 1) / ranks; i++) {
            extract(&f, i);
            ck_assert_int_eq(mb_train_set_add(&sets[r], m, &f, docs[i].label),
                             MB_OK);
        }
    }
    ck_assert_int_eq(mb_trainer_init(&tr, m), MB_OK);
    acc = malloc(mb_trainer_acc_len(&tr) * sizeof *acc);
    part = malloc(mb_trainer_acc_len(&tr) * sizeof *part);
    while (!done) {
        memset(acc, 0, mb_trainer_acc_len(&tr) * sizeof *acc);
        for (int r = ranks - 1; r >= 0; r--) {
            memset(part, 0, mb_trainer_acc_len(&tr) * sizeof *part);
            mb_train_set_accumulate(&sets[r], &tr, part);
            for (size_t j = 0; j < mb_trainer_acc_len(&tr); j++)
                acc[j] += part[j];
        }
        ck_assert_int_eq(mb_trainer_step(&tr, acc, &done), MB_OK);
    }
    ck_assert_uint_gt(mb_trainer_iterations(&tr), 1);
    mb_trainer_finish(&tr, m);
    ck_assert_ptr_null(m->active);
    mb_trainer_free(&tr);
    free(acc);
    free(part);
    for (int r = 0; r < ranks; r++) mb_train_set_free(&sets[r]);
    mb_train_stats_free(&global);
    mb_features_free(&f);
}

START_TEST(test_stats_layout_and_merge)
{
    mb_features f;
    mb_train_stats a, b;
    uint32_t cat = mb_features_unigram(mb_tokenize_hash("cat", 3), BITS);
    size_t n_buckets = (size_t)1 << BITS;
    ck_assert_int_eq(mb_features_init(&f, BITS, 2), MB_OK);
    ck_assert_int_eq(mb_train_stats_init(&a, BITS, 3), MB_OK);
    ck_assert_int_eq(mb_train_stats_init(&b, BITS, 3), MB_OK);
    for (size_t i = 0; i < N_DOCS; i++) {
        extract(&f, i);
        ck_assert_int_eq(mb_train_stats_add(i < 5 ? &a : &b, &f,
                                            docs[i].label), MB_OK);
    }
    ck_assert_int_eq(mb_train_stats_add(&a, &f, 3), MB_ERR_INPUT);
    ck_assert_int_eq(mb_train_stats_merge(&a, &b), MB_OK);
    /* "cat" is in 4 animal documents (document frequency, not count). */
    ck_assert_int_eq(a.counts[cat * 3 + 0], 4);
    ck_assert_int_eq(a.counts[cat * 3 + 1], 0);
    ck_assert_int_eq(a.counts[n_buckets * 3 + 0], 4);
    ck_assert_int_eq(a.counts[n_buckets * 3 + 2], 4);
    ck_assert_int_eq(a.counts[a.n_counts - 1], (int64_t)N_DOCS);
    mb_train_stats_free(&a);
    mb_train_stats_free(&b);
    ck_assert_int_eq(mb_train_stats_init(&a, BITS, 1), MB_ERR_USAGE);
    mb_features_free(&f);
}
END_TEST

START_TEST(test_fit_predicts_topics)
{
    mb_model_params p = params();
    mb_model m;
    mb_features f;
    double scores[3], sum = 0.0;
    int label;
    static const struct { const char *text; int label; } probe[] = {
        {"my dog and my cat", 0},
        {"a new star near the galaxy", 1},
        {"salt for the soup pot", 2},
    };
    train_ranks(&m, &p, 1);
    ck_assert_int_eq(mb_features_init(&f, BITS, p.title_weight), MB_OK);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(mb_model_predict(&m, &f, "", 0, probe[i].text,
                                          strlen(probe[i].text), scores,
                                          &label), MB_OK);
        ck_assert_int_eq(label, probe[i].label);
        sum = scores[0] + scores[1] + scores[2];
        ck_assert_double_eq_tol(sum, 1.0, 1e-12);
        ck_assert_double_gt(scores[label], 0.5);
    }
    /* Nothing known: the biases decide, the scores stay a distribution. */
    ck_assert_int_eq(mb_model_predict(&m, &f, NULL, 0, "zzz qqq", 7, scores,
                                      &label), MB_OK);
    ck_assert_double_eq_tol(scores[0] + scores[1] + scores[2], 1.0, 1e-12);
    mb_features_free(&f);
    ck_assert_int_eq(mb_features_init(&f, BITS, p.title_weight + 1), MB_OK);
    ck_assert_int_eq(mb_model_predict(&m, &f, "", 0, "cat", 3, scores,
                                      &label), MB_ERR_INTERNAL);
    mb_features_free(&f);
    ck_assert_str_eq(m.labels[1], "space");
    mb_model_free(&m);
    mb_model_free(&m);
}
END_TEST

/* With and without label smoothing (the default has it). */
START_TEST(test_rank_count_independent)
{
    static const double smoothing[] = {0.0, 0.05, 0.3};
    for (size_t s = 0; s < sizeof smoothing / sizeof smoothing[0]; s++) {
        mb_model_params p = params();
        mb_model m1, m2, m3;
        size_t n;
        p.label_smoothing = smoothing[s];
        train_ranks(&m1, &p, 1);
        train_ranks(&m2, &p, 2);
        train_ranks(&m3, &p, 3);
        n = m1.n_buckets * (m1.n_labels + 1) * sizeof(float);
        ck_assert_int_eq(memcmp(m1.table, m2.table, n), 0);
        ck_assert_int_eq(memcmp(m1.table, m3.table, n), 0);
        ck_assert_int_eq(memcmp(m1.bias, m2.bias, sizeof m1.bias), 0);
        ck_assert_int_eq(memcmp(m1.bias, m3.bias, sizeof m1.bias), 0);
        mb_model_free(&m1);
        mb_model_free(&m2);
        mb_model_free(&m3);
    }
}
END_TEST

/* Smoothing the targets keeps the labels of the training documents but
 * makes the model less sure of each of them. */
START_TEST(test_label_smoothing)
{
    mb_model_params p = params();
    mb_model hard, soft;
    mb_features f;
    double ph[3], ps[3];
    int lh, ls;
    p.label_smoothing = 0.0;
    train_ranks(&hard, &p, 1);
    p.label_smoothing = 0.3;
    train_ranks(&soft, &p, 2);
    ck_assert_double_eq(soft.params.label_smoothing, 0.3);
    ck_assert_int_eq(mb_features_init(&f, BITS, p.title_weight), MB_OK);
    for (size_t i = 0; i < N_DOCS; i++) {
        extract(&f, i);
        lh = mb_model_score(&hard, &f, ph);
        ls = mb_model_score(&soft, &f, ps);
        ck_assert_int_eq(lh, docs[i].label);
        ck_assert_int_eq(ls, docs[i].label);
        ck_assert_double_lt(ps[ls], ph[lh]);
    }
    mb_features_free(&f);
    mb_model_free(&hard);
    mb_model_free(&soft);
}
END_TEST

START_TEST(test_min_df_and_idf)
{
    mb_model_params p = params();
    mb_model m;
    uint32_t barn = mb_features_unigram(mb_tokenize_hash("barn", 4), BITS);
    uint32_t the = mb_features_unigram(mb_tokenize_hash("the", 3), BITS);
    uint32_t star = mb_features_unigram(mb_tokenize_hash("star", 4), BITS);
    p.min_df = 2;
    p.supervision = 0.0;
    train_ranks(&m, &p, 2);
    /* "barn" is in one document: below min_df, so not a feature. */
    ck_assert_float_eq(m.table[barn * 4], 0.0f);
    /* idf = ln((1 + N) / (1 + df)) + 1: "star" has df 4, "the" df 10. */
    ck_assert_float_eq_tol(m.table[star * 4], log(13.0 / 5.0) + 1.0, 1e-6);
    ck_assert_float_eq_tol(m.table[the * 4], log(13.0 / 11.0) + 1.0, 1e-6);
    ck_assert_float_eq(m.table[barn * 4 + 1], 0.0f);
    mb_model_free(&m);
}
END_TEST

START_TEST(test_prepare_rejects)
{
    mb_model_params p = params();
    mb_model m;
    mb_train_stats st;
    const char *bad_labels[] = {"a", NULL, "c"};
    ck_assert_int_eq(mb_train_stats_init(&st, BITS, 3), MB_OK);
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_ERR_INPUT);
    st.counts[st.n_counts - 1] = 5;
    ck_assert_int_eq(mb_model_prepare(&m, &p, bad_labels, 3, &st),
                     MB_ERR_USAGE);
    p.l2 = 0.0;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_ERR_USAGE);
    p = params();
    p.label_smoothing = 1.0;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_ERR_USAGE);
    p.label_smoothing = -0.1;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_ERR_USAGE);
    p = params();
    p.hash_bits = BITS + 1;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st),
                     MB_ERR_INTERNAL);
    mb_train_stats_free(&st);
}
END_TEST

START_TEST(test_class_weights)
{
    mb_model_params p = params();
    mb_model m;
    mb_train_stats st;
    size_t n_buckets = (size_t)1 << BITS;
    ck_assert_int_eq(mb_train_stats_init(&st, BITS, 3), MB_OK);
    st.counts[n_buckets * 3 + 0] = 2;
    st.counts[n_buckets * 3 + 1] = 4;
    st.counts[n_buckets * 3 + 2] = 8;
    st.counts[st.n_counts - 1] = 14;
    /* Weights (least / n_class)^balance: never above 1. */
    p.class_balance = 1.0;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_OK);
    ck_assert_double_eq(m.class_weight[0], 1.0);
    ck_assert_double_eq(m.class_weight[1], 0.5);
    ck_assert_double_eq(m.class_weight[2], 0.25);
    mb_model_free(&m);
    p.class_balance = 0.5;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_OK);
    ck_assert_double_eq_tol(m.class_weight[2], 0.5, 1e-15);
    mb_model_free(&m);
    p.class_balance = 0.0;
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_OK);
    ck_assert_double_eq(m.class_weight[2], 1.0);
    mb_model_free(&m);
    mb_train_stats_free(&st);
}
END_TEST

/* Complement naive Bayes (the sub-topic models): class c's weight of a
 * bucket is -log((1 + df of the other classes) / (active buckets + all
 * other classes' df)), the bias 0, and it classifies the obvious cases. */
START_TEST(test_fit_nb)
{
    mb_model_params p = params();
    mb_features f;
    mb_train_stats st;
    mb_model m;
    double total[3] = {0}, scores[3];
    size_t stride = 4;
    uint32_t cat = mb_features_unigram(mb_tokenize_hash("cat", 3), BITS);
    int label;
    ck_assert_int_eq(mb_features_init(&f, BITS, p.title_weight), 0);
    ck_assert_int_eq(mb_train_stats_init(&st, BITS, 3), MB_OK);
    for (size_t i = 0; i < N_DOCS; i++) {
        extract(&f, i);
        ck_assert_int_eq(mb_train_stats_add(&st, &f, docs[i].label), MB_OK);
    }
    ck_assert_int_eq(mb_model_prepare(&m, &p, labels, 3, &st), MB_OK);
    mb_model_fit_nb(&m, &st);
    ck_assert_ptr_null(m.active);
    for (size_t b = 0; b < m.n_buckets; b++)
        for (int c = 0; c < 3; c++)
            if (m.table[b * stride] != 0.0f) total[c] += (double)st.counts[b * 3 + c];
    /* "cat" is in 4 animal documents and no other. */
    ck_assert_int_eq(st.counts[(size_t)cat * 3 + 0], 4);
    ck_assert_int_eq(st.counts[(size_t)cat * 3 + 1] + st.counts[(size_t)cat * 3 + 2], 0);
    for (int c = 0; c < 3; c++) {
        double others = c == 0 ? 0.0 : 4.0;
        double want = -log((1.0 + others) /
                           ((double)m.n_active + total[0] + total[1] + total[2] - total[c]));
        ck_assert_double_eq_tol(m.table[(size_t)cat * stride + 1 + (size_t)c], want, 1e-5);
        ck_assert_double_eq(m.bias[c], 0.0);
    }
    /* The complement of "animals" rarely says cat: animals scores highest. */
    ck_assert_int_eq(mb_model_predict(&m, &f, NULL, 0, "my cat and my dog", 17, scores,
                                      &label), MB_OK);
    ck_assert_int_eq(label, 0);
    ck_assert_int_eq(mb_model_predict(&m, &f, NULL, 0, "salt in the pot", 15, scores,
                                      &label), MB_OK);
    ck_assert_int_eq(label, 2);
    mb_model_free(&m);
    mb_train_stats_free(&st);
    mb_features_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_stats_layout_and_merge);
    tcase_add_test(tc, test_fit_predicts_topics);
    tcase_add_test(tc, test_rank_count_independent);
    tcase_add_test(tc, test_label_smoothing);
    tcase_add_test(tc, test_min_df_and_idf);
    tcase_add_test(tc, test_prepare_rejects);
    tcase_add_test(tc, test_class_weights);
    tcase_add_test(tc, test_fit_nb);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
