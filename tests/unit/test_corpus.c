/* test_corpus.c - the generated corpus: the same seed gives the same
 * bytes, the requested number of records, every line a valid arXiv-schema
 * record (as cJSON and as the JSON-lines reader see it), and write errors
 * reported. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "commands/corpus.h"
#include "ml/jsonl.h"
#include "unit.h"

/* The corpus for p, as one string the caller frees; *len its length. */
static char *generate(const mb_corpus_params *p, size_t *len)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, len);
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(mb_corpus_write(fp, p), MB_OK);
    ck_assert_int_eq(fclose(fp), 0);
    return text;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

START_TEST(same_seed_same_bytes)
{
    mb_corpus_params p = {.docs = 200, .seed = 42, .first_id = 0, .noise = 0.6};
    size_t la, lb;
    char *a = generate(&p, &la), *b = generate(&p, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(a, b, la), 0);
    free(b);
    p.seed = 43;
    b = generate(&p, &lb);
    ck_assert(la != lb || memcmp(a, b, la) != 0);
    free(b);
    /* The noise share changes which words are drawn. */
    p.seed = 42;
    p.noise = 0;
    b = generate(&p, &lb);
    ck_assert(la != lb || memcmp(a, b, la) != 0);
    free(b);
    free(a);
}
END_TEST

START_TEST(writes_the_requested_number_of_records)
{
    static const uint64_t counts[] = {0, 1, 7, 1000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        mb_corpus_params p = {.docs = counts[i], .seed = 1, .noise = 0.6};
        size_t len;
        char *text = generate(&p, &len);
        ck_assert_uint_eq(count_lines(text, len), counts[i]);
        /* Every record ends its line: no partial last record. */
        ck_assert(len == 0 || text[len - 1] == '\n');
        free(text);
    }
}
END_TEST

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", key);
    return v->valuestring;
}

/* Every line: the schema's fields with the right types and values, ids in
 * sequence from first_id, and accepted by the JSON-lines reader with the
 * label its primary category implies. */
START_TEST(every_line_is_a_record)
{
    mb_corpus_params p = {.docs = 500, .seed = 7, .first_id = 1000, .noise = 0.6};
    size_t len, at = 0, n = 0, topics[MB_TOPIC_COUNT] = {0};
    char *text = generate(&p, &len);
    while (at < len) {
        char *nl = memchr(text + at, '\n', len - at), want[32];
        size_t linelen = (size_t)(nl - (text + at));
        mb_jsonl_record rec;
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        cJSON *o = cJSON_Parse(text + at);
        ck_assert_msg(o != NULL, "line %zu is not JSON: %s", n + 1, text + at);
        ck_assert_int_eq(cJSON_GetArraySize(o), 6);
        snprintf(want, sizeof want, "gen.%zu", 1000 + n);
        ck_assert_str_eq(str(o, "id"), want);
        ck_assert_uint_gt(strlen(str(o, "title")), 0);
        ck_assert_uint_gt(strlen(str(o, "abstract")), 0);
        const char *cats = str(o, "categories"), *date = str(o, "update_date");
        int y, m, d, end = 0;
        ck_assert_int_eq(sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &end), 3);
        ck_assert_uint_eq((size_t)end, strlen(date));
        ck_assert(y >= 2010 && y <= 2019 && m >= 1 && m <= 12 && d >= 1 && d <= 28);
        /* The label is the topic of the first (primary) category. */
        int topic = mb_jsonl_topic_of(cats, strcspn(cats, " "));
        ck_assert_int_ge(topic, 0);
        ck_assert_str_eq(str(o, "label"), mb_jsonl_topic_name(topic));
        ck_assert_int_eq(mb_jsonl_parse(text + at, linelen, (unsigned long)n + 1, &rec), MB_OK);
        ck_assert_int_eq(rec.label, topic);
        ck_assert_str_eq(rec.id, want);
        mb_jsonl_record_free(&rec);
        cJSON_Delete(o);
        topics[topic]++;
        at += linelen + 1;
        n++;
    }
    ck_assert_uint_eq(n, 500);
    for (int t = 0; t < MB_TOPIC_COUNT; t++)
        ck_assert_uint_gt(topics[t], 0);
    free(text);
}
END_TEST

/* Class sizes like the real data's (34, 24, 24, 10 and 8 in 100): with
 * 10000 records the order holds far outside sampling noise. */
START_TEST(class_sizes_follow_the_real_data)
{
    mb_corpus_params p = {.docs = 10000, .seed = 11, .noise = 0.6};
    size_t len, count[MB_TOPIC_COUNT] = {0};
    char *text = generate(&p, &len);
    /* Each line ends `"label": "NAME"}`: read NAME back from the end, in
     * one pass (strstr over the whole text is quadratic under ASan). */
    for (char *line = text, *nl; (nl = memchr(line, '\n', len - (size_t)(line - text)));
         line = nl + 1) {
        char *close = nl - 2, *open = close - 1;
        ck_assert_int_eq(*close, '"');
        while (open > line && *open != '"')
            open--;
        for (int t = 0; t < MB_TOPIC_COUNT; t++)
            if ((size_t)(close - open - 1) == strlen(mb_jsonl_topic_name(t)) &&
                memcmp(open + 1, mb_jsonl_topic_name(t), (size_t)(close - open - 1)) == 0)
                count[t]++;
    }
    ck_assert_uint_eq(count[0] + count[1] + count[2] + count[3] + count[4], 10000);
    ck_assert_uint_gt(count[MB_TOPIC_PHYSICS], count[MB_TOPIC_MATH]);
    ck_assert_uint_gt(count[MB_TOPIC_PHYSICS], count[MB_TOPIC_CS]);
    ck_assert_uint_gt(count[MB_TOPIC_MATH], count[MB_TOPIC_QBIO]);
    ck_assert_uint_gt(count[MB_TOPIC_CS], count[MB_TOPIC_QBIO]);
    ck_assert_uint_gt(count[MB_TOPIC_QBIO], count[MB_TOPIC_QFIN]);
    free(text);
}
END_TEST

/* first_id only renumbers: everything after the id is the same. */
START_TEST(first_id_only_renumbers)
{
    mb_corpus_params p = {.docs = 50, .seed = 3, .first_id = 0, .noise = 0.6};
    size_t la, lb;
    char *a = generate(&p, &la), *b;
    p.first_id = 100;
    b = generate(&p, &lb);
    char *sa = a, *sb = b;
    for (int i = 0; i < 50; i++) {
        char ida[32], idb[32];
        snprintf(ida, sizeof ida, "{\"id\": \"gen.%d\", ", i);
        snprintf(idb, sizeof idb, "{\"id\": \"gen.%d\", ", 100 + i);
        ck_assert_int_eq(strncmp(sa, ida, strlen(ida)), 0);
        ck_assert_int_eq(strncmp(sb, idb, strlen(idb)), 0);
        sa += strlen(ida);
        sb += strlen(idb);
        size_t rest = strcspn(sa, "\n") + 1;
        ck_assert_int_eq(strncmp(sa, sb, rest), 0);
        sa += rest;
        sb += rest;
    }
    ck_assert_ptr_eq(sa, a + la);
    ck_assert_ptr_eq(sb, b + lb);
    free(a);
    free(b);
}
END_TEST

START_TEST(write_errors_are_reported)
{
    mb_corpus_params p = {.docs = 10, .seed = 1, .noise = 0.6};
    FILE *fp = fopen("/dev/null", "r"); /* writes to it fail */
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(mb_corpus_write(fp, &p), MB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "write error"));
    fclose(fp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, writes_the_requested_number_of_records);
    tcase_add_test(tc, every_line_is_a_record);
    tcase_add_test(tc, class_sizes_follow_the_real_data);
    tcase_add_test(tc, first_id_only_renumbers);
    tcase_add_test(tc, write_errors_are_reported);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
