/* test_tokenize.c - tokenizer rules and hash stability. */
#include "ml/tokenize.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* Buckets of "graph", "graph theory" and the prefix "theor" at 20 bits,
 * recorded from the implementation: they must never change silently. */
#define UNIGRAM_GRAPH_20 555151u
#define BIGRAM_GRAPH_THEORY_20 245521u
#define PREFIX_THEORY_20 507056u

/* Tokens of text joined by '|'. */
static void joined(const char *text, char *out, size_t cap)
{
    mb_tokenizer t;
    const char *tok;
    size_t len;
    out[0] = '\0';
    mb_tokenize_init(&t, text, strlen(text));
    while (mb_tokenize_next(&t, &tok, &len)) {
        ck_assert_uint_eq(strlen(tok), len);
        ck_assert_uint_eq(t.hash, mb_tokenize_hash(tok, len));
        if (out[0]) strncat(out, "|", cap - strlen(out) - 1);
        strncat(out, tok, cap - strlen(out) - 1);
    }
}

#define ASSERT_TOKENS(text, expect)                                          \
    do {                                                                     \
        char buf_[1024];                                                     \
        joined(text, buf_, sizeof buf_);                                     \
        ck_assert_str_eq(buf_, expect);                                      \
    } while (0)

START_TEST(test_words_case_punctuation)
{
    ASSERT_TOKENS("Hello, World! e.g. a B2B (x) 3D-printing's",
                  "hello|world|b2b|3d|printing");
    ASSERT_TOKENS("", "");
    ASSERT_TOKENS("  ...  ", "");
}
END_TEST

START_TEST(test_tex)
{
    ASSERT_TOKENS("Schr\\\"odinger and Poincar\\'{e} maps",
                  "schrodinger|and|poincare|maps");
    ASSERT_TOKENS("$\\alpha$-stable $SU(2)$ \\emph{Non-planar}",
                  "\\alpha|stable|su|\\emph|non|planar");
    ASSERT_TOKENS("50\\% of \\\\ \\{x\\} $$\\mathbb{R}^n$$",
                  "50|of|\\mathbb");
    ASSERT_TOKENS("\\Gamma\\Omega2 trailing \\", "\\gamma|\\omega|trailing");
}
END_TEST

START_TEST(test_utf8)
{
    /* Non-ASCII letters are kept raw; dashes, quotes and U+00D7 split. */
    ASSERT_TOKENS("\xc3\x85ngstr\xc3\xb6m caf\xc3\xa9\xe2\x80\x94na\xc3\xafve",
                  "\xc3\x85ngstr\xc3\xb6m|caf\xc3\xa9|na\xc3\xafve");
    ASSERT_TOKENS("\xe2\x80\x9cquoted\xe2\x80\x9d 3\xc3\x97" "3 grid",
                  "quoted|grid");
    ASSERT_TOKENS("\xce\xb1\xce\xb2 \xce\xb3", "\xce\xb1\xce\xb2|\xce\xb3");
    /* Malformed bytes separate words and are never part of a token. */
    ASSERT_TOKENS("ab\xff" "cd ef\xc3", "ab|cd|ef");
}
END_TEST

START_TEST(test_length_limit)
{
    char text[200];
    char expect[64];
    memset(text, 'x', MB_TOKEN_MAX);
    strcpy(text + MB_TOKEN_MAX, " ok ");
    memset(text + MB_TOKEN_MAX + 4, 'y', MB_TOKEN_MAX + 1);
    text[2 * MB_TOKEN_MAX + 5] = '\0';
    memset(expect, 'x', MB_TOKEN_MAX);
    strcpy(expect + MB_TOKEN_MAX, "|ok");
    ASSERT_TOKENS(text, expect);
}
END_TEST

START_TEST(test_hash_stability)
{
    /* FNV-1a 64 reference values. */
    ck_assert_uint_eq(mb_tokenize_hash("", 0), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(mb_tokenize_hash("a", 1), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(mb_tokenize_hash("foobar", 6), 0x85944171f73967e8ULL);
    /* Bucket functions: pinned so that a change breaks saved models. */
    uint64_t h1 = mb_tokenize_hash("graph", 5), h2 = mb_tokenize_hash("theory", 6);
    ck_assert_uint_eq(mb_features_unigram(h1, 20), UNIGRAM_GRAPH_20);
    ck_assert_uint_eq(mb_features_bigram(h1, h2, 20), BIGRAM_GRAPH_THEORY_20);
    ck_assert_uint_eq(mb_features_prefix(h2, 20), PREFIX_THEORY_20);
    ck_assert_uint_ne(mb_features_bigram(h1, h2, 20),
                      mb_features_bigram(h2, h1, 20));
    ck_assert_uint_eq(mb_features_unigram(h1, 12),
                      mb_features_unigram(h1, 20) >> 8);
}
END_TEST

/* Count of bucket b in f, 0 if absent. */
static unsigned count_of(const mb_features *f, uint32_t b)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->idx[i] == b) return f->cnt[i];
    return 0;
}

static uint32_t uni(const char *w)
{
    return mb_features_unigram(mb_tokenize_hash(w, strlen(w)), 20);
}

static uint32_t bi(const char *a, const char *b)
{
    return mb_features_bigram(mb_tokenize_hash(a, strlen(a)),
                              mb_tokenize_hash(b, strlen(b)), 20);
}

START_TEST(test_features_counts)
{
    mb_features f;
    ck_assert_int_eq(mb_features_init(&f, 20, 3), MB_OK);
    ck_assert_int_eq(mb_features_extract(&f, "Graph", 5, "graph graph theory",
                                         18), MB_OK);
    /* graph, graph|graph, theory, prefix "theor", graph|theory */
    ck_assert_uint_eq(f.n, 5);
    ck_assert_uint_eq(count_of(&f, uni("graph")), 3 + 2);
    ck_assert_uint_eq(count_of(&f, bi("graph", "graph")), 1);
    ck_assert_uint_eq(count_of(&f, bi("graph", "theory")), 1);
    ck_assert_uint_eq(count_of(&f, uni("theory")), 1);
    ck_assert_uint_eq(count_of(&f, mb_features_prefix(
                                       mb_tokenize_hash("theor", 5), 20)), 1);
    ck_assert_uint_eq(f.idx[0], uni("graph"));
    /* Bigrams stay inside a field, and a new document forgets the last. */
    ck_assert_int_eq(mb_features_extract(&f, "alpha", 5, "beta", 4), MB_OK);
    ck_assert_uint_eq(f.n, 2);
    ck_assert_uint_eq(count_of(&f, uni("alpha")), 3);
    ck_assert_uint_eq(count_of(&f, bi("alpha", "beta")), 0);
    ck_assert_uint_eq(count_of(&f, uni("graph")), 0);
    ck_assert_int_eq(mb_features_extract(&f, NULL, 0, NULL, 0), MB_OK);
    ck_assert_uint_eq(f.n, 0);
    mb_features_free(&f);
    mb_features_free(&f);
}
END_TEST

START_TEST(test_features_grow)
{
    mb_features f;
    char *text = malloc(3000 * 8);
    size_t len = 0;
    for (int i = 0; i < 3000; i++)
        len += (size_t)sprintf(text + len, "w%05d ", i);
    ck_assert_int_eq(mb_features_init(&f, 22, 1), MB_OK);
    ck_assert_int_eq(mb_features_extract(&f, NULL, 0, text, len), MB_OK);
    ck_assert_uint_ge(f.n, 5990); /* 3000 + 2999 minus rare collisions */
    ck_assert_uint_eq(count_of(&f, mb_features_unigram(
                                       mb_tokenize_hash("w02999", 6), 22)), 1);
    mb_features_free(&f);
    free(text);
}
END_TEST

/* Buckets of text (one field, weight 1) in first-seen order with their
 * counts, by linear search: the reference for the hash set. */
static size_t naive_features(const char *text, unsigned bits, uint32_t *idx,
                             uint32_t *cnt)
{
    mb_tokenizer t;
    const char *tok;
    size_t len, n = 0;
    uint64_t prev = 0;
    int have_prev = 0;
    mb_tokenize_init(&t, text, strlen(text));
    while (mb_tokenize_next(&t, &tok, &len)) {
        uint64_t h = mb_tokenize_hash(tok, len);
        uint32_t b[3];
        size_t nb = 0;
        b[nb++] = mb_features_unigram(h, bits);
        if (len > MB_FEATURES_PREFIX && tok[0] != '\\')
            b[nb++] = mb_features_prefix(
                mb_tokenize_hash(tok, MB_FEATURES_PREFIX), bits);
        if (have_prev) b[nb++] = mb_features_bigram(prev, h, bits);
        for (size_t j = 0; j < nb; j++) {
            size_t i = 0;
            while (i < n && idx[i] != b[j]) i++;
            if (i == n) cnt[n++] = 0;
            idx[i] = b[j];
            cnt[i]++;
        }
        prev = h;
        have_prev = 1;
    }
    return n;
}

/* The hash set gives the reference's buckets, order and counts: across
 * growth (more than the first capacity of 1024 buckets, repeats on both
 * sides of it), for a second document in the same scratch, and when the
 * document stamp wraps round. */
START_TEST(test_features_set_matches_naive)
{
    enum { WORDS = 1500 };
    mb_features f;
    char *text = malloc(WORDS * 2 * 16);
    uint32_t *idx = malloc(WORDS * 8 * sizeof *idx);
    uint32_t *cnt = malloc(WORDS * 8 * sizeof *cnt);
    size_t len = 0, n;
    for (int i = 0; i < WORDS; i++)
        len += (size_t)sprintf(text + len, "word%04d w%02d ", i, i % 37);
    ck_assert_int_eq(mb_features_init(&f, 12, 1), MB_OK);
    for (int round = 0; round < 3; round++) {
        if (round == 2) f.stamp = UINT32_MAX;
        ck_assert_int_eq(mb_features_extract(&f, NULL, 0, text, len), MB_OK);
        n = naive_features(text, 12, idx, cnt);
        ck_assert_uint_gt(n, 1024);
        ck_assert_uint_eq(f.n, n);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_eq(f.idx[i], idx[i]);
            ck_assert_uint_eq(f.cnt[i], cnt[i]);
        }
        ck_assert_int_eq(mb_features_extract(&f, NULL, 0, "w01 w01 w02", 11),
                         MB_OK);
        ck_assert_uint_eq(f.n, 4); /* w01, w01|w01, w02, w01|w02 */
        ck_assert_uint_eq(f.cnt[0], 2);
    }
    mb_features_free(&f);
    free(text);
    free(idx);
    free(cnt);
}
END_TEST
/* mb_features_extract scans plain ASCII words itself and hands anything
 * else to the tokenizer: on random mixes of words, separators, TeX,
 * UTF-8 (good and bad) and over-long words it must give exactly the
 * features the tokenizer defines. */
START_TEST(test_features_fast_path_matches_tokenizer)
{
    static const char *const pieces[] = {
        "ab", "Quantum", "x", "superconductivity", "B2B", "42", " ", " ",
        ", ", "-", "$", "\\alpha", "\\", "\\\"o", "\\'", "{", "}", "\\%",
        "\xc3\xa9", "\xe2\x80\x94", "\xc3\x97", "\xff", "\xe2\x82",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw", "z", "\n"};
    enum { DOCS = 3000, MAX_PIECES = 24 };
    size_t np = sizeof pieces / sizeof pieces[0];
    uint32_t idx[MAX_PIECES * 3 * 8], cnt[MAX_PIECES * 3 * 8];
    char text[MAX_PIECES * 64];
    unsigned seed = 12345;
    mb_features f;
    /* Every other document with a table to prefetch rows from: a hint
     * that must change nothing. */
    char *table = calloc((size_t)1 << 16, 24);
    ck_assert_ptr_nonnull(table);
    ck_assert_int_eq(mb_features_init(&f, 16, 1), MB_OK);
    for (int d = 0; d < DOCS; d++) {
        size_t len = 0, n;
        int k;
        f.rows = d % 2 ? table : NULL;
        f.row_bytes = 24;
        seed = seed * 1103515245u + 12345u;
        k = 1 + (int)((seed >> 16) % MAX_PIECES);
        text[0] = '\0';
        for (int i = 0; i < k; i++) {
            seed = seed * 1103515245u + 12345u;
            strcat(text, pieces[(seed >> 16) % np]);
        }
        len = strlen(text);
        ck_assert_int_eq(mb_features_extract(&f, NULL, 0, text, len), MB_OK);
        n = naive_features(text, 16, idx, cnt);
        ck_assert_msg(f.n == n, "doc %d \"%s\": %zu features, expected %zu",
                      d, text, f.n, n);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_eq(f.idx[i], idx[i]);
            ck_assert_uint_eq(f.cnt[i], cnt[i]);
        }
    }
    mb_features_free(&f);
    free(table);
}
END_TEST

START_TEST(test_features_bad_args)
{
    mb_features f;
    ck_assert_int_eq(mb_features_init(&f, 9, 1), MB_ERR_USAGE);
    ck_assert_int_eq(mb_features_init(&f, 27, 1), MB_ERR_USAGE);
    ck_assert_int_eq(mb_features_init(&f, 16, 0), MB_ERR_USAGE);
}
END_TEST

/* Folding to fewer bits gives the buckets and counts of extracting at
 * those bits (a bucket is the top bits of one hash). */
START_TEST(test_features_fold)
{
    static const char title[] = "Quantum gravity", text[] =
        "the quantum field and the field of gravity: gravity waves, "
        "$\\alpha$ decay; quantum quantum";
    mb_features big, small, folded;
    ck_assert_int_eq(mb_features_init(&big, 16, 2), MB_OK);
    ck_assert_int_eq(mb_features_init(&small, 10, 2), MB_OK);
    ck_assert_int_eq(mb_features_init(&folded, 10, 2), MB_OK);
    for (int round = 0; round < 2; round++) { /* the scratch is reused */
        ck_assert_int_eq(mb_features_extract(&big, title, strlen(title), text,
                                             strlen(text)), MB_OK);
        ck_assert_int_eq(mb_features_extract(&small, title, strlen(title),
                                             text, strlen(text)), MB_OK);
        ck_assert_int_eq(mb_features_fold(&folded, &big), MB_OK);
        ck_assert_uint_eq(folded.n, small.n);
        for (size_t i = 0; i < small.n; i++) {
            size_t j = 0;
            while (j < folded.n && folded.idx[j] != small.idx[i]) j++;
            ck_assert_uint_lt(j, folded.n);
            ck_assert_uint_eq(folded.cnt[j], small.cnt[i]);
        }
    }
    /* Folding up is an internal error, not a silent mistake. */
    ck_assert_int_eq(mb_features_fold(&big, &small), MB_ERR_INTERNAL);
    mb_features_free(&big);
    mb_features_free(&small);
    mb_features_free(&folded);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tokenize");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_words_case_punctuation);
    tcase_add_test(tc, test_tex);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_length_limit);
    tcase_add_test(tc, test_hash_stability);
    tcase_add_test(tc, test_features_counts);
    tcase_add_test(tc, test_features_grow);
    tcase_add_test(tc, test_features_set_matches_naive);
    tcase_add_test(tc, test_features_fast_path_matches_tokenizer);
    tcase_add_test(tc, test_features_bad_args);
    tcase_add_test(tc, test_features_fold);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
