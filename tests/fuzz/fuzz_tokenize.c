/* fuzz_tokenize.c - the tokenizer and feature extraction on any bytes.
 * The first byte picks the hash size and title weight, the rest is split
 * into title and abstract.  Tokens are 2..MB_TOKEN_MAX bytes, features are
 * inside the table and count every n-gram at least once. */
#include <string.h>

#include "ml/tokenize.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mb_tokenizer t;
    mb_features f;
    const char *tok;
    size_t len, tokens = 0, split;
    unsigned bits, weight;
    if (size < 2)
        return 0;
    /* Up to 2^16 buckets: larger tables only cost memory per run. */
    bits = MB_FEATURES_MIN_BITS + data[0] % 7;
    weight = 1 + (data[0] >> 3) % 4;
    split = data[1] % (size - 1);
    data += 2;
    size -= 2;
    mb_tokenize_init(&t, (const char *)data, size);
    while (mb_tokenize_next(&t, &tok, &len)) {
        fuzz_check(len >= 2 && len <= MB_TOKEN_MAX, "token length out of range");
        fuzz_check(strlen(tok) == len, "token is not NUL-terminated at its length");
        tokens++;
    }
    memset(&f, 0, sizeof f);
    fuzz_check(mb_features_init(&f, bits, weight) == MB_OK, "mb_features_init failed");
    fuzz_check(mb_features_extract(&f, (const char *)data, split, (const char *)data + split,
                                   size - split) == MB_OK, "mb_features_extract failed");
    for (size_t i = 0; i < f.n; i++) {
        fuzz_check(f.idx[i] < (1u << bits), "bucket outside the table");
        fuzz_check(f.cnt[i] > 0, "a listed bucket with count 0");
    }
    fuzz_check(tokens > 0 || f.n == 0 || split > 0, "features from a text without tokens");
    mb_features_free(&f);
    mb_features_free(&f);
    return 0;
}
