/* tokenize.c - tokenizer and feature hashing for the topic classifier. */
#include "ml/tokenize.h"

#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define GOLDEN 0x9e3779b97f4a7c15ULL
#define FEATURES_FIRST_CAP 1024
/* Set slots per feature position: a sparse set (an abstract fills about
 * 6% of 4096 slots) rarely needs the probing slow path. */
#define SET_SLOTS 4
/* Keeps a prefix feature apart from the unigram of the same bytes. */
#define PREFIX_SALT 0x7072656669780000ULL

void mb_tokenize_init(mb_tokenizer *t, const char *text, size_t len)
{
    t->text = (const unsigned char *)text;
    t->len = text ? len : 0;
    t->pos = 0;
    t->hash = FNV_OFFSET;
    t->buf[0] = '\0';
}

static int is_ascii_alnum(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int is_ascii_alpha(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned ascii_lower(unsigned c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) and its code point,
 * or 0 when it is malformed (overlong, surrogate, truncated, > U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len;
    uint32_t c;
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) { len = 2; c = s[0] & 0x1f; }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) { len = 3; c = s[0] & 0x0f; }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) { len = 4; c = s[0] & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min_cp[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Non-ASCII code points that are letters for our purpose: everything from
 * Latin-1 letters up, except the punctuation, arrow, operator and symbol
 * blocks that arXiv abstracts use as separators (dashes, quotes, ±, ×). */
static int is_letter_cp(uint32_t cp)
{
    if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7) return 0;
    if (cp >= 0x2000 && cp <= 0x2bff) return 0;
    if (cp >= 0x3000 && cp <= 0x303f) return 0;
    return 1;
}

/* TeX accent control symbols: \"o, \'e, \^o ... belong inside a word. */
static int is_tex_accent(unsigned c)
{
    return c == '"' || c == '\'' || c == '^' || c == '`' || c == '~' ||
           c == '=' || c == '.';
}

/* Byte length of a word character at pos, or 0 if pos does not hold one. */
static size_t word_char_len(const mb_tokenizer *t, size_t pos)
{
    uint32_t cp;
    size_t n;
    if (is_ascii_alnum(t->text[pos])) return 1;
    if (t->text[pos] < 0x80) return 0;
    n = utf8_decode(t->text + pos, t->len - pos, &cp);
    return (n > 0 && is_letter_cp(cp)) ? n : 0;
}

/* Bytes at pos that a word skips without ending: braces and accents. */
static size_t word_skip_len(const mb_tokenizer *t, size_t pos)
{
    unsigned c = t->text[pos];
    if (c == '{' || c == '}') return 1;
    if (c == '\\' && pos + 1 < t->len && is_tex_accent(t->text[pos + 1]))
        return 2;
    return 0;
}

/* An ASCII byte's lowercase form if it is a word character, else 0: the
 * fast path of scan_word, which sees mostly ASCII letters; one load
 * instead of three range tests. */
static const unsigned char ascii_word_tab[256] = {
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     48,  49,  50,  51,  52,  53,  54,  55,  56,  57,   0,   0,   0,   0,   0,   0,
      0,  97,  98,  99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,   0,   0,   0,   0,   0,
      0,  97,  98,  99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

static unsigned char ascii_word_char(unsigned c)
{
    return ascii_word_tab[c & 0xff];
}

/* One FNV-1a 64 step: the token hash is built byte by byte as the
 * scanner lowercases, so no second pass over the token is needed. */
static uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* Scan the word starting at t->pos into buf and its hash into t->hash;
 * returns its length, or 0 if it is longer than MB_TOKEN_MAX and so
 * dropped. */
static size_t scan_word(mb_tokenizer *t)
{
    size_t n = 0, step;
    uint64_t h = FNV_OFFSET;
    int too_long = 0;
    while (t->pos < t->len) {
        /* Locals, because stores into buf could alias t->pos for the
         * compiler and force a reload per byte. */
        const unsigned char *text = t->text;
        size_t pos = t->pos, len = t->len;
        unsigned char lc;
        while (pos < len && (lc = ascii_word_char(text[pos])) != 0) {
            if (n == MB_TOKEN_MAX) too_long = 1;
            if (!too_long) {
                t->buf[n++] = (char)lc;
                h = fnv_step(h, lc);
            }
            pos++;
        }
        t->pos = pos;
        if (pos == len) break;
        /* Other ASCII bytes end the word, except braces and backslashes. */
        if (text[pos] < 0x80 && text[pos] != '{' && text[pos] != '}' &&
            text[pos] != '\\')
            break;
        if ((step = word_skip_len(t, t->pos)) > 0) {
            t->pos += step;
            continue;
        }
        if ((step = word_char_len(t, t->pos)) == 0) break;
        if (n + step > MB_TOKEN_MAX) too_long = 1;
        for (size_t i = 0; i < step && !too_long; i++) {
            unsigned char lc2 = (unsigned char)ascii_lower(t->text[t->pos + i]);
            t->buf[n++] = (char)lc2;
            h = fnv_step(h, lc2);
        }
        t->pos += step;
    }
    t->buf[n] = '\0';
    t->hash = h;
    return too_long ? 0 : n;
}

/* Scan the control word "\name" at t->pos (name: ASCII letters). */
static size_t scan_control_word(mb_tokenizer *t)
{
    size_t n = 1;
    uint64_t h = fnv_step(FNV_OFFSET, '\\');
    int too_long = 0;
    t->buf[0] = '\\';
    t->pos++;
    while (t->pos < t->len && is_ascii_alpha(t->text[t->pos])) {
        if (n == MB_TOKEN_MAX) too_long = 1;
        if (!too_long) {
            unsigned char lc = (unsigned char)ascii_lower(t->text[t->pos]);
            t->buf[n++] = (char)lc;
            h = fnv_step(h, lc);
        }
        t->pos++;
    }
    t->buf[n] = '\0';
    t->hash = h;
    return too_long ? 0 : n;
}

/* Scan whatever starts at t->pos; returns a token length (0: none). */
static size_t scan_one(mb_tokenizer *t)
{
    unsigned c = t->text[t->pos];
    size_t step;
    if (c == '\\' && t->pos + 1 < t->len) {
        if (is_ascii_alpha(t->text[t->pos + 1])) return scan_control_word(t);
        if (is_tex_accent(t->text[t->pos + 1])) return scan_word(t);
        t->pos += 2; /* \%, \\, \{, \, ... : escaped punctuation */
        return 0;
    }
    if (ascii_word_tab[c] || word_char_len(t, t->pos) > 0 || c == '{' ||
        c == '}')
        return scan_word(t);
    step = 1;
    if (c >= 0x80) {
        uint32_t cp;
        size_t n = utf8_decode(t->text + t->pos, t->len - t->pos, &cp);
        step = n > 0 ? n : 1;
    }
    t->pos += step;
    return 0;
}

int mb_tokenize_next(mb_tokenizer *t, const char **tok, size_t *tok_len)
{
    while (t->pos < t->len) {
        unsigned c = t->text[t->pos];
        /* Fast path: ASCII separators (spaces, most punctuation). */
        if (c < 0x80 && !ascii_word_tab[c] && c != '\\' && c != '{' &&
            c != '}') {
            t->pos++;
            continue;
        }
        size_t n = scan_one(t);
        if (n >= 2) {
            *tok = t->buf;
            *tok_len = n;
            return 1;
        }
    }
    return 0;
}

uint64_t mb_tokenize_hash(const char *tok, size_t len)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++) h = fnv_step(h, (unsigned char)tok[i]);
    return h;
}

/* murmur3 fmix64: FNV-1a's low bits mix poorly, the bucket uses high bits
 * of a fully avalanched value. */
static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

uint32_t mb_features_unigram(uint64_t h, unsigned bits)
{
    return (uint32_t)(fmix64(h) >> (64 - bits));
}

uint32_t mb_features_prefix(uint64_t h, unsigned bits)
{
    return (uint32_t)(fmix64(h ^ PREFIX_SALT) >> (64 - bits));
}

uint32_t mb_features_bigram(uint64_t h1, uint64_t h2, unsigned bits)
{
    return (uint32_t)(fmix64(h1 * GOLDEN + h2) >> (64 - bits));
}

mb_err mb_features_init(mb_features *f, unsigned hash_bits,
                        unsigned title_weight)
{
    memset(f, 0, sizeof *f);
    if (hash_bits < MB_FEATURES_MIN_BITS || hash_bits > MB_FEATURES_MAX_BITS)
        return mb_error_set(MB_ERR_USAGE, "hash bits %u outside [%d, %d]",
                            hash_bits, MB_FEATURES_MIN_BITS,
                            MB_FEATURES_MAX_BITS);
    if (title_weight == 0)
        return mb_error_set(MB_ERR_USAGE, "title weight must be >= 1");
    /* Zeroed: features_add reads idx at a free slot's masked position and
     * cnt at a new bucket's position, and masks the values away; they must
     * not be uninitialised memory. */
    f->idx = calloc(FEATURES_FIRST_CAP, sizeof *f->idx);
    f->cnt = calloc(FEATURES_FIRST_CAP, sizeof *f->cnt);
    f->set = calloc(SET_SLOTS * FEATURES_FIRST_CAP, sizeof *f->set);
    if (!f->set || !f->idx || !f->cnt) {
        mb_features_free(f);
        return mb_error_set(MB_ERR_NOMEM, "cannot allocate feature buffers");
    }
    f->hash_bits = hash_bits;
    f->title_weight = title_weight;
    f->cap = FEATURES_FIRST_CAP;
    f->stamp = 1;
    return MB_OK;
}

void mb_features_free(mb_features *f)
{
    free(f->set);
    free(f->idx);
    free(f->cnt);
    f->set = NULL;
    f->idx = NULL;
    f->cnt = NULL;
    f->n = f->cap = 0;
}

/* The set entry of position pos in the current document. */
static uint64_t set_entry(const mb_features *f, size_t pos)
{
    return ((uint64_t)f->stamp << 32) | (uint64_t)(pos + 1);
}

/* Where bucket's entry is in the set, or the empty slot where it goes. */
static size_t set_find(const mb_features *f, uint32_t bucket)
{
    size_t mask = SET_SLOTS * f->cap - 1, i = bucket & mask;
    for (;;) {
        uint64_t e = f->set[i];
        if ((uint32_t)(e >> 32) != f->stamp ||
            f->idx[(uint32_t)e - 1] == bucket)
            return i;
        i = (i + 1) & mask;
    }
}

/* Double the capacity and rebuild the set for the positions so far. */
static mb_err features_grow(mb_features *f)
{
    size_t cap = f->cap * 2;
    uint64_t *set = calloc(SET_SLOTS * cap, sizeof *set);
    if (!set) return mb_error_set(MB_ERR_NOMEM, "cannot grow features");
    uint32_t *idx = realloc(f->idx, cap * sizeof *idx);
    if (idx) f->idx = idx;
    uint32_t *cnt = idx ? realloc(f->cnt, cap * sizeof *cnt) : NULL;
    if (cnt) f->cnt = cnt;
    if (!idx || !cnt) {
        free(set);
        return mb_error_set(MB_ERR_NOMEM, "cannot grow features");
    }
    memset(f->idx + f->cap, 0, (cap - f->cap) * sizeof *f->idx);
    memset(f->cnt + f->cap, 0, (cap - f->cap) * sizeof *f->cnt);
    free(f->set);
    f->set = set;
    f->cap = cap;
    for (size_t p = 0; p < f->n; p++)
        f->set[set_find(f, f->idx[p])] = set_entry(f, p);
    return MB_OK;
}

/* features_add's rare paths: the bucket's home slot holds another bucket
 * of this document, or the buffers are full.  Kept out of line so that
 * the common path inlines into its callers. */
static __attribute__((noinline)) mb_err
features_add_slow(mb_features *f, uint32_t bucket, unsigned w)
{
    size_t i;
    uint64_t e;
    if (f->n == f->cap) {
        mb_err err = features_grow(f);
        if (err) return err;
    }
    i = set_find(f, bucket);
    e = f->set[i];
    if ((uint32_t)(e >> 32) == f->stamp) {
        f->cnt[(uint32_t)e - 1] += w;
        return MB_OK;
    }
    f->set[i] = set_entry(f, f->n);
    f->idx[f->n] = bucket;
    f->cnt[f->n] = w;
    f->n++;
    return MB_OK;
}

/* Count bucket w more times.  Whether the bucket is new or seen is as good
 * as random, so the common case (the home slot is free or holds this very
 * bucket) selects instead of branching: a mispredicted branch here cost
 * more than the hashing.  Reading cnt[n] is safe because n < cap there. */
static inline mb_err features_add(mb_features *f, uint32_t bucket, unsigned w)
{
    uint64_t *set = f->set;
    uint32_t *idx = f->idx, *cnt = f->cnt;
    size_t n = f->n, i = bucket & (SET_SLOTS * f->cap - 1);
    uint64_t e = set[i];
    /* e's position; masked so that a free slot (e == 0) still reads
     * inside idx. */
    uint32_t epos = ((uint32_t)e - 1) & (uint32_t)(f->cap - 1);
    int seen = (uint32_t)(e >> 32) == f->stamp;
    /* & and |, not && and ||: no branch on seen. */
    if ((seen & (idx[epos] != bucket)) | (n == f->cap))
        return features_add_slow(f, bucket, w);
    /* Masks rather than ?: because GCC turned those back into branches. */
    size_t keep = (size_t)0 - (size_t)seen;
    size_t pos = (epos & keep) | (n & ~keep);
    if (f->rows) __builtin_prefetch(f->rows + (size_t)bucket * f->row_bytes);
    cnt[pos] = (cnt[pos] & (uint32_t)keep) + w;
    idx[pos] = bucket;
    set[i] = (e & keep) | (set_entry(f, n) & ~keep);
    f->n = n + 1 - (size_t)seen;
    return MB_OK;
}

/* A token's features: its unigram, the prefix of a long word (when
 * has_prefix, with prefix hash h5), and the bigram with the token before
 * it in the same field (*prev). */
static inline mb_err features_add_token(mb_features *f, uint64_t h,
                                        int has_prefix, uint64_t h5,
                                        uint64_t *prev, int *have_prev,
                                        unsigned w)
{
    mb_err err = features_add(f, mb_features_unigram(h, f->hash_bits), w);
    if (!err && has_prefix)
        err = features_add(f, mb_features_prefix(h5, f->hash_bits), w);
    if (!err && *have_prev)
        err = features_add(f, mb_features_bigram(*prev, h, f->hash_bits), w);
    *prev = h;
    *have_prev = 1;
    return err;
}

/* Bytes that are neither a separator nor an ASCII word character: they
 * need the full tokenizer (UTF-8, TeX). */
static int needs_tokenizer(unsigned c)
{
    return c >= 0x80 || c == '\\' || c == '{' || c == '}';
}

/* The features of one field, with the tokenizer's rules.  Most of the
 * text is ASCII words between ASCII separators, so that case is handled
 * here in one pass that hashes as it scans, with no per-token calls;
 * a word that touches anything else is rescanned from its start by
 * mb_tokenize_next, which defines the rules.  Bigrams do not cross from
 * the title into the abstract. */
static mb_err features_add_field(mb_features *f, const char *text,
                                 size_t len, unsigned w)
{
    const unsigned char *s = (const unsigned char *)text;
    uint64_t prev = 0;
    int have_prev = 0;
    size_t pos = 0;
    mb_err err = MB_OK;
    while (!err && pos < len) {
        unsigned char lc = ascii_word_tab[s[pos]];
        size_t start = pos, n = 0;
        uint64_t h = FNV_OFFSET, h5 = FNV_OFFSET;
        int has_prefix;
        if (!lc && !needs_tokenizer(s[pos])) {
            pos++;
            continue;
        }
        while (lc) {
            h = fnv_step(h, lc);
            n++;
            if (++pos == len) break;
            lc = ascii_word_tab[s[pos]];
        }
        if (n == 0 || (pos < len && needs_tokenizer(s[pos]))) {
            mb_tokenizer t;
            const char *tok;
            mb_tokenize_init(&t, text, len);
            t.pos = start;
            if (!mb_tokenize_next(&t, &tok, &n)) break;
            pos = t.pos;
            h = t.hash;
            has_prefix = n > MB_FEATURES_PREFIX && tok[0] != '\\';
            if (has_prefix) h5 = mb_tokenize_hash(tok, MB_FEATURES_PREFIX);
        } else {
            if (n < 2 || n > MB_TOKEN_MAX) continue;
            has_prefix = n > MB_FEATURES_PREFIX;
            if (has_prefix)
                for (size_t i = 0; i < MB_FEATURES_PREFIX; i++)
                    h5 = fnv_step(h5, ascii_word_tab[s[start + i]]);
        }
        err = features_add_token(f, h, has_prefix, h5, &prev, &have_prev, w);
    }
    return err;
}

mb_err mb_features_extract(mb_features *f, const char *title, size_t tlen,
                           const char *abstract, size_t alen)
{
    mb_err err;
    /* A new stamp empties the set; after 2^32 - 1 documents the old
     * stamps come round again and the set is cleared for real. */
    if (++f->stamp == 0) {
        memset(f->set, 0, SET_SLOTS * f->cap * sizeof *f->set);
        f->stamp = 1;
    }
    f->n = 0;
    err = features_add_field(f, title, tlen, f->title_weight);
    if (!err) err = features_add_field(f, abstract, alen, 1);
    return err;
}

mb_err mb_features_fold(mb_features *dst, const mb_features *src)
{
    unsigned shift;
    if (dst->hash_bits > src->hash_bits)
        return mb_error_set(MB_ERR_INTERNAL, "cannot fold 2^%u buckets into "
                            "2^%u", src->hash_bits, dst->hash_bits);
    shift = src->hash_bits - dst->hash_bits;
    if (++dst->stamp == 0) {
        memset(dst->set, 0, SET_SLOTS * dst->cap * sizeof *dst->set);
        dst->stamp = 1;
    }
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++) {
        mb_err err = features_add(dst, src->idx[i] >> shift, src->cnt[i]);
        if (err) return err;
    }
    return MB_OK;
}
