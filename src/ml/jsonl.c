/* jsonl.c - parse one arXiv JSON-lines record and map it to a topic. */
#include "ml/jsonl.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

static const char *const topic_names[MB_TOPIC_COUNT] = {
    "physics", "math", "cs", "q-bio", "q-fin"
};

/* Archives (the part of a code before the dot) and their topics, per the
 * data README; "hep-" and "nucl-" are matched as prefixes below. */
static const struct { const char *archive; int topic; } archives[] = {
    {"astro-ph", MB_TOPIC_PHYSICS}, {"cond-mat", MB_TOPIC_PHYSICS},
    {"gr-qc", MB_TOPIC_PHYSICS},    {"math-ph", MB_TOPIC_PHYSICS},
    {"nlin", MB_TOPIC_PHYSICS},     {"physics", MB_TOPIC_PHYSICS},
    {"quant-ph", MB_TOPIC_PHYSICS}, {"acc-phys", MB_TOPIC_PHYSICS},
    {"ao-sci", MB_TOPIC_PHYSICS},   {"atom-ph", MB_TOPIC_PHYSICS},
    {"bayes-an", MB_TOPIC_PHYSICS}, {"chem-ph", MB_TOPIC_PHYSICS},
    {"plasm-ph", MB_TOPIC_PHYSICS}, {"comp-gas", MB_TOPIC_PHYSICS},
    {"chao-dyn", MB_TOPIC_PHYSICS}, {"adap-org", MB_TOPIC_PHYSICS},
    {"patt-sol", MB_TOPIC_PHYSICS}, {"solv-int", MB_TOPIC_PHYSICS},
    {"mtrl-th", MB_TOPIC_PHYSICS},  {"supr-con", MB_TOPIC_PHYSICS},
    {"math", MB_TOPIC_MATH},        {"alg-geom", MB_TOPIC_MATH},
    {"dg-ga", MB_TOPIC_MATH},       {"funct-an", MB_TOPIC_MATH},
    {"q-alg", MB_TOPIC_MATH},       {"cs", MB_TOPIC_CS},
    {"cmp-lg", MB_TOPIC_CS},        {"q-bio", MB_TOPIC_QBIO},
    {"q-fin", MB_TOPIC_QFIN},
};

const char *mb_jsonl_topic_name(int topic)
{
    return (topic >= 0 && topic < MB_TOPIC_COUNT) ? topic_names[topic] : NULL;
}

int mb_jsonl_topic_of(const char *category, size_t len)
{
    const char *dot = memchr(category, '.', len);
    size_t alen = dot ? (size_t)(dot - category) : len;
    if (dot && dot + 1 == category + len) return -1; /* "math." */
    for (size_t i = 0; i < sizeof archives / sizeof archives[0]; i++) {
        if (strlen(archives[i].archive) == alen &&
            memcmp(archives[i].archive, category, alen) == 0)
            return archives[i].topic;
    }
    if ((alen > 4 && memcmp(category, "hep-", 4) == 0) ||
        (alen > 5 && memcmp(category, "nucl-", 5) == 0))
        return MB_TOPIC_PHYSICS;
    return -1;
}

/* Offset of the first byte that is NUL (*nul set) or not well-formed
 * UTF-8, or len.  One pass for both: it runs over every record. */
static size_t bad_byte_at(const unsigned char *s, size_t len, int *nul)
{
    size_t i = 0;
    *nul = 0;
    while (i < len) {
        unsigned c = s[i], n;
        uint32_t cp;
        uint64_t w;
        /* Eight ASCII bytes at a time (abstracts are mostly ASCII), if
         * none is zero: (w - 0x01..) & ~w has a byte's top bit set only
         * below a zero byte. */
        if (i + 8 <= len) {
            memcpy(&w, s + i, sizeof w);
            if (((w | ((w - 0x0101010101010101ULL) & ~w)) &
                 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (c == 0) {
            *nul = 1;
            return i;
        }
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
        else return i;
        if (i + n > len) return i;
        for (unsigned k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n;
    }
    return len;
}

/* Byte-level checks that cJSON does not make: size, NUL, UTF-8. */
static mb_err check_bytes(const char *line, size_t len, unsigned long lineno)
{
    size_t bad;
    int nul;
    if (len > MB_JSONL_MAX_RECORD)
        return mb_error_set(MB_ERR_INPUT, "line %lu: record is %zu bytes, "
                            "over the %u-byte limit", lineno, len,
                            MB_JSONL_MAX_RECORD);
    bad = bad_byte_at((const unsigned char *)line, len, &nul);
    if (bad < len && nul)
        return mb_error_set(MB_ERR_INPUT, "line %lu: NUL byte at offset %zu",
                            lineno, bad);
    if (bad < len)
        return mb_error_set(MB_ERR_INPUT, "line %lu: invalid UTF-8 at byte "
                            "offset %zu", lineno, bad);
    return MB_OK;
}

/* The string member key: required strings must exist; *out is NULL for
 * an absent optional one. */
static mb_err get_string(const cJSON *obj, const char *key, int required,
                         unsigned long lineno, const char **out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!item) {
        if (!required) return MB_OK;
        return mb_error_set(MB_ERR_INPUT, "line %lu: missing \"%s\"",
                            lineno, key);
    }
    if (!cJSON_IsString(item) || !item->valuestring)
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"%s\" is not a string",
                            lineno, key);
    *out = item->valuestring;
    return MB_OK;
}

/* Set rec->subtopic and rec->label from the primary category. */
static mb_err map_categories(mb_jsonl_record *rec, unsigned long lineno)
{
    const char *c = rec->categories;
    size_t len;
    while (*c == ' ') c++;
    len = strcspn(c, " ");
    if (len == 0)
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"categories\" is empty",
                            lineno);
    if (len > MB_JSONL_MAX_CATEGORY)
        return mb_error_set(MB_ERR_INPUT, "line %lu: primary category is "
                            "%zu bytes, over %d", lineno, len,
                            MB_JSONL_MAX_CATEGORY);
    memcpy(rec->subtopic, c, len);
    rec->subtopic[len] = '\0';
    /* Outside the five topics (stat.ML, eess.SP): a good document whose
     * true topic is unknown, so label stays -1. */
    rec->label = mb_jsonl_topic_of(c, len);
    return MB_OK;
}

/* The optional "label" must agree with the primary category. */
static mb_err check_label(const cJSON *obj, const mb_jsonl_record *rec,
                          unsigned long lineno)
{
    const char *label;
    mb_err err = get_string(obj, "label", 0, lineno, &label);
    if (err || !label) return err;
    if (!rec->categories)
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"label\" without "
                            "\"categories\"", lineno);
    if (rec->label < 0)
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"label\" is \"%s\" but "
                            "primary category \"%s\" is outside the five topics",
                            lineno, label, rec->subtopic);
    if (strcmp(label, topic_names[rec->label]) != 0)
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"label\" is \"%s\" but "
                            "primary category \"%s\" is %s", lineno, label,
                            rec->subtopic, topic_names[rec->label]);
    return MB_OK;
}

static mb_err fill_record(const cJSON *obj, mb_jsonl_record *rec,
                          unsigned long lineno)
{
    mb_err err;
    if ((err = get_string(obj, "id", 1, lineno, &rec->id))) return err;
    if (rec->id[0] == '\0')
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"id\" is empty",
                            lineno);
    if ((err = get_string(obj, "abstract", 1, lineno, &rec->abstract)))
        return err;
    if (rec->abstract[0] == '\0')
        return mb_error_set(MB_ERR_INPUT, "line %lu: \"abstract\" is empty",
                            lineno);
    if ((err = get_string(obj, "title", 0, lineno, &rec->title))) return err;
    if (!rec->title) rec->title = "";
    rec->title_len = strlen(rec->title);
    rec->abstract_len = strlen(rec->abstract);
    if ((err = get_string(obj, "categories", 0, lineno, &rec->categories)))
        return err;
    if (rec->categories && (err = map_categories(rec, lineno))) return err;
    return check_label(obj, rec, lineno);
}

/* Parse the bytes into a tree; the whole line must be one JSON object. */
static mb_err parse_tree(const char *line, size_t len, unsigned long lineno,
                         cJSON **out)
{
    const char *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    *out = NULL;
    if (!tree)
        return mb_error_set(MB_ERR_INPUT, "line %lu: malformed JSON near byte "
                            "offset %zu", lineno,
                            end ? (size_t)(end - line) : (size_t)0);
    while (end < line + len && (*end == ' ' || *end == '\t')) end++;
    if (end != line + len) {
        cJSON_Delete(tree);
        return mb_error_set(MB_ERR_INPUT, "line %lu: trailing data after the "
                            "JSON value at byte offset %zu", lineno,
                            (size_t)(end - line));
    }
    if (!cJSON_IsObject(tree)) {
        cJSON_Delete(tree);
        return mb_error_set(MB_ERR_INPUT, "line %lu: record is not a JSON "
                            "object", lineno);
    }
    *out = tree;
    return MB_OK;
}

mb_err mb_jsonl_parse(const char *line, size_t len, unsigned long lineno,
                      mb_jsonl_record *rec)
{
    cJSON *tree = NULL;
    mb_err err;
    memset(rec, 0, sizeof *rec);
    rec->label = -1;
    if (len > 0 && line[len - 1] == '\n') len--;
    if (len > 0 && line[len - 1] == '\r') len--;
    if ((err = check_bytes(line, len, lineno))) goto out;
    if (len == 0) {
        err = mb_error_set(MB_ERR_INPUT, "line %lu: empty line", lineno);
        goto out;
    }
    if ((err = parse_tree(line, len, lineno, &tree))) goto out;
    err = fill_record(tree, rec, lineno);
out:
    if (err) {
        cJSON_Delete(tree);
        memset(rec, 0, sizeof *rec);
        rec->label = -1;
    } else {
        rec->tree = tree;
    }
    return err;
}

void mb_jsonl_record_free(mb_jsonl_record *rec)
{
    cJSON_Delete(rec->tree);
    memset(rec, 0, sizeof *rec);
    rec->label = -1;
}
