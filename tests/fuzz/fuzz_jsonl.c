/* fuzz_jsonl.c - one arXiv JSON-lines record.  A parsed record's fields
 * lie inside what it owns and are consistent with its label. */
#include <string.h>

#include "ml/jsonl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mb_jsonl_record rec;
    if (mb_jsonl_parse((const char *)data, size, 7, &rec) == MB_OK) {
        fuzz_check(rec.id && rec.abstract && rec.title, "a required field is NULL");
        fuzz_check(strlen(rec.abstract) == rec.abstract_len, "abstract_len is wrong");
        fuzz_check(strlen(rec.title) == rec.title_len, "title_len is wrong");
        fuzz_check(rec.label >= -1 && rec.label < MB_TOPIC_COUNT, "label out of range");
        fuzz_check(strlen(rec.subtopic) <= MB_JSONL_MAX_CATEGORY, "subtopic too long");
        fuzz_check(rec.categories || rec.label == -1, "a label without categories");
        mb_jsonl_record_free(&rec);
        mb_jsonl_record_free(&rec); /* documented as safe */
    }
    mb_error_clear();
    return 0;
}
