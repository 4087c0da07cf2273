/* jsonl.h - one arXiv metadata record from one JSON-lines line.
 *
 * Record schema: /work/shared/data/arxiv/README.md.  "id" and "abstract"
 * are required strings; "title" is an optional string (missing reads as
 * ""); "categories" is optional (unlabelled data for prediction) but when
 * present must be a non-empty space-separated list; its first (primary)
 * code gives the topic, or none (label -1, "unknown") when it is outside
 * the five (stat.ML, eess.SP, econ.EM): such a record is still a good
 * document to classify.  "label", when present, must be the topic that the
 * primary category maps to.  Lines are validated as UTF-8 before parsing.
 */
#ifndef MPIBATCH_JSONL_H
#define MPIBATCH_JSONL_H

#include <stddef.h>

#include "mpibatch/error.h"

/* Longest line accepted, in bytes; real records are under 10 KiB. */
#define MB_JSONL_MAX_RECORD (1u << 20)
/* Longest primary category code kept as the sub-topic. */
#define MB_JSONL_MAX_CATEGORY 31

typedef enum mb_topic {
    MB_TOPIC_PHYSICS = 0,
    MB_TOPIC_MATH,
    MB_TOPIC_CS,
    MB_TOPIC_QBIO,
    MB_TOPIC_QFIN,
    MB_TOPIC_COUNT
} mb_topic;

/* One parsed record.  The string fields point into a parse tree that the
 * record owns; they stay valid until mb_jsonl_record_free. */
typedef struct mb_jsonl_record {
    const char *id;
    const char *title;
    size_t title_len;
    const char *abstract;
    size_t abstract_len;
    const char *categories;          /* NULL when the record has none */
    char subtopic[MB_JSONL_MAX_CATEGORY + 1]; /* primary code, or "" */
    int label;                        /* mb_topic, or -1: no categories, or
                                       * a primary one outside the topics */
    void *tree;
} mb_jsonl_record;

/* Parse line[0..len) (no trailing newline needed; a trailing "\n" or
 * "\r\n" is accepted) into rec.  lineno is only used in error messages.
 * On success the caller owns rec and releases it with
 * mb_jsonl_record_free; on failure rec holds nothing to release and the
 * error is MB_ERR_INPUT with the reason. */
mb_err mb_jsonl_parse(const char *line, size_t len, unsigned long lineno,
                      mb_jsonl_record *rec);

/* Release what rec owns (safe on a zeroed or already freed record). */
void mb_jsonl_record_free(mb_jsonl_record *rec);

/* The topic of one arXiv category code such as "q-fin.ST" or "hep-th", or
 * -1 for a code outside the five topics (stat, eess, econ, unknown). */
int mb_jsonl_topic_of(const char *category, size_t len);

/* The topic's name ("physics", "math", "cs", "q-bio", "q-fin"); a static
 * string, or NULL for an out-of-range topic. */
const char *mb_jsonl_topic_name(int topic);

#endif
