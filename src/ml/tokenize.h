/* tokenize.h - text tokenizer and hashed bag-of-n-grams features.
 *
 * Tokens are lowercased ASCII words, raw non-ASCII UTF-8 letters, and TeX
 * control words kept with their backslash ("\alpha").  TeX accent macros
 * (Schr\"odinger) and braces do not split a word; "$" and all other
 * punctuation do.  One-byte tokens and tokens longer than MB_TOKEN_MAX
 * bytes are dropped.  Unigrams, prefixes of long words and adjacent-token
 * bigrams (within one field) are hashed with FNV-1a 64 + the murmur3 finaliser into 2^bits
 * buckets; title tokens count title_weight times.  The exact rules are in
 * docs/classifier.md and pinned by tests/unit/test_tokenize.c: changing
 * them changes every trained model.
 */
#ifndef MPIBATCH_TOKENIZE_H
#define MPIBATCH_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

#define MB_TOKEN_MAX 48
#define MB_FEATURES_MIN_BITS 10
#define MB_FEATURES_MAX_BITS 26
/* Words longer than this also count as their first this-many bytes, a
 * crude stemmer ("superconductivity" -> "super"). */
#define MB_FEATURES_PREFIX 5

/* Iterator over the tokens of one text; holds no heap memory.  hash is
 * mb_tokenize_hash of the current token, computed while it is scanned so
 * that feature extraction does not read the token's bytes a second time. */
typedef struct mb_tokenizer {
    const unsigned char *text;
    size_t len;
    size_t pos;
    uint64_t hash;
    char buf[MB_TOKEN_MAX + 1];
} mb_tokenizer;

/* Hashed counts of one document's n-grams.  idx lists the distinct buckets
 * in first-seen order (so the order depends only on the text) and cnt
 * their counts.  set is an open-addressing hash set over the document's
 * buckets (4 * cap entries, linear probing from the bucket's low bits):
 * an entry is (stamp << 32) | (position + 1) and counts only while its
 * stamp is the document's, so a new document clears nothing.  It stays in
 * the L1 cache, where a dense bucket -> position map (4 MB at 20 bits)
 * cost a cache miss per feature.  Extraction allocates only when a
 * document has more distinct buckets than any before it. */
typedef struct mb_features {
    unsigned hash_bits;
    unsigned title_weight;
    size_t n;
    size_t cap;
    uint32_t *idx;
    uint32_t *cnt;
    uint64_t *set;
    uint32_t stamp;
    /* Optional: the rows of a table indexed by bucket (row_bytes apart)
     * that will be read for each distinct bucket, as scoring does.  Each
     * new bucket's row is prefetched as soon as the bucket is seen, so the
     * cache misses overlap the rest of the extraction.  NULL: none. */
    const char *rows;
    size_t row_bytes;
} mb_features;

/* Start tokenizing text[0..len); text is borrowed and must outlive t. */
void mb_tokenize_init(mb_tokenizer *t, const char *text, size_t len);

/* Next token: returns 1 and sets *tok (NUL-terminated, owned by t, valid
 * until the next call), *tok_len and t->hash, or returns 0 at the end. */
int mb_tokenize_next(mb_tokenizer *t, const char **tok, size_t *tok_len);

/* FNV-1a 64 of a token's bytes; stable across platforms and releases. */
uint64_t mb_tokenize_hash(const char *tok, size_t len);

/* The bucket of a unigram with token hash h, in [0, 2^bits). */
uint32_t mb_features_unigram(uint64_t h, unsigned bits);

/* The bucket of the prefix feature whose first MB_FEATURES_PREFIX bytes
 * hash (mb_tokenize_hash) to h. */
uint32_t mb_features_prefix(uint64_t h, unsigned bits);

/* The bucket of the bigram (first token hash h1, second h2). */
uint32_t mb_features_bigram(uint64_t h1, uint64_t h2, unsigned bits);

/* Set up an empty feature vector for 2^hash_bits buckets; the caller owns
 * f's buffers and releases them with mb_features_free. */
mb_err mb_features_init(mb_features *f, unsigned hash_bits,
                        unsigned title_weight);

/* Release f's buffers (safe on a zeroed or already freed f). */
void mb_features_free(mb_features *f);

/* Replace f's contents with the features of (title, abstract); either text
 * may be NULL when its length is 0.  The texts are only read. */
mb_err mb_features_extract(mb_features *f, const char *title, size_t tlen,
                           const char *abstract, size_t alen);

/* dst = src with every bucket's top dst->hash_bits bits kept and the
 * counts of buckets that meet added up: the same buckets and counts as
 * extracting the text at dst->hash_bits (buckets are the top bits of one
 * hash), listed in first-seen order of src.
 * dst->hash_bits must not exceed src's. */
mb_err mb_features_fold(mb_features *dst, const mb_features *src);

#endif
