/* test_jsonl.c - record parsing, topic mapping and every rejection. */
#include "ml/jsonl.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define GOOD "{\"id\": \"1405.2852\", \"title\": \"On LMCs\", " \
    "\"abstract\": \"Labelled Markov chains.\", \"categories\": " \
    "\"cs.LO cs.FL\", \"update_date\": \"2014-05-12\", \"label\": \"cs\"}"

START_TEST(test_good_record)
{
    mb_jsonl_record r;
    ck_assert_int_eq(mb_jsonl_parse(GOOD, strlen(GOOD), 1, &r), MB_OK);
    ck_assert_str_eq(r.id, "1405.2852");
    ck_assert_str_eq(r.title, "On LMCs");
    ck_assert_uint_eq(r.title_len, 7);
    ck_assert_str_eq(r.abstract, "Labelled Markov chains.");
    ck_assert_uint_eq(r.abstract_len, 23);
    ck_assert_str_eq(r.categories, "cs.LO cs.FL");
    ck_assert_str_eq(r.subtopic, "cs.LO");
    ck_assert_int_eq(r.label, MB_TOPIC_CS);
    mb_jsonl_record_free(&r);
    mb_jsonl_record_free(&r);
}
END_TEST

START_TEST(test_line_endings_and_optional_fields)
{
    const char *crlf = "{\"id\":\"a\",\"abstract\":\"x y\"}\r\n";
    const char *esc = "{\"id\":\"b\",\"title\":\"Schr\\u00f6dinger\","
                      "\"abstract\":\"q\\\"uote\",\"categories\":\"q-fin.ST "
                      "physics.soc-ph\"}";
    mb_jsonl_record r;
    ck_assert_int_eq(mb_jsonl_parse(crlf, strlen(crlf), 1, &r), MB_OK);
    ck_assert_str_eq(r.title, "");
    ck_assert_ptr_null(r.categories);
    ck_assert_int_eq(r.label, -1);
    ck_assert_str_eq(r.subtopic, "");
    mb_jsonl_record_free(&r);
    ck_assert_int_eq(mb_jsonl_parse(esc, strlen(esc), 2, &r), MB_OK);
    ck_assert_str_eq(r.title, "Schr\xc3\xb6" "dinger");
    ck_assert_str_eq(r.abstract, "q\"uote");
    ck_assert_int_eq(r.label, MB_TOPIC_QFIN);
    ck_assert_str_eq(r.subtopic, "q-fin.ST");
    mb_jsonl_record_free(&r);
}
END_TEST

static const struct { const char *code; int topic; } mapping[] = {
    {"hep-th", MB_TOPIC_PHYSICS}, {"hep-ph", MB_TOPIC_PHYSICS},
    {"nucl-ex", MB_TOPIC_PHYSICS}, {"astro-ph", MB_TOPIC_PHYSICS},
    {"astro-ph.GA", MB_TOPIC_PHYSICS}, {"cond-mat.quant-gas", MB_TOPIC_PHYSICS},
    {"gr-qc", MB_TOPIC_PHYSICS}, {"math-ph", MB_TOPIC_PHYSICS},
    {"nlin.CD", MB_TOPIC_PHYSICS}, {"physics.soc-ph", MB_TOPIC_PHYSICS},
    {"quant-ph", MB_TOPIC_PHYSICS}, {"chao-dyn", MB_TOPIC_PHYSICS},
    {"supr-con", MB_TOPIC_PHYSICS}, {"math.ST", MB_TOPIC_MATH},
    {"math.MP", MB_TOPIC_MATH}, {"alg-geom", MB_TOPIC_MATH},
    {"q-alg", MB_TOPIC_MATH}, {"funct-an", MB_TOPIC_MATH},
    {"cs.LG", MB_TOPIC_CS}, {"cmp-lg", MB_TOPIC_CS},
    {"q-bio.NC", MB_TOPIC_QBIO}, {"q-bio", MB_TOPIC_QBIO},
    {"q-fin.ST", MB_TOPIC_QFIN}, {"stat.ML", -1}, {"eess.SP", -1},
    {"econ.EM", -1}, {"hep-", -1}, {"mathematics", -1}, {"math.", -1},
    {"cs", MB_TOPIC_CS}, {"", -1}, {"physic", -1},
};

/* A primary category outside the five topics is a good record whose true
 * topic is unknown. */
START_TEST(test_outside_topics)
{
    const char *line = "{\"id\":\"s\",\"abstract\":\"x\",\"categories\":\"stat.ML cs.LG\"}";
    mb_jsonl_record r;
    ck_assert_int_eq(mb_jsonl_parse(line, strlen(line), 1, &r), MB_OK);
    ck_assert_int_eq(r.label, -1);
    ck_assert_str_eq(r.subtopic, "stat.ML");
    ck_assert_str_eq(r.categories, "stat.ML cs.LG");
    mb_jsonl_record_free(&r);
}
END_TEST

START_TEST(test_topic_mapping)
{
    for (size_t i = 0; i < sizeof mapping / sizeof mapping[0]; i++)
        ck_assert_msg(mb_jsonl_topic_of(mapping[i].code,
                                        strlen(mapping[i].code)) ==
                          mapping[i].topic, "%s", mapping[i].code);
    ck_assert_str_eq(mb_jsonl_topic_name(MB_TOPIC_PHYSICS), "physics");
    ck_assert_str_eq(mb_jsonl_topic_name(MB_TOPIC_QBIO), "q-bio");
    ck_assert_str_eq(mb_jsonl_topic_name(MB_TOPIC_QFIN), "q-fin");
    ck_assert_ptr_null(mb_jsonl_topic_name(MB_TOPIC_COUNT));
    ck_assert_ptr_null(mb_jsonl_topic_name(-1));
}
END_TEST

/* Each bad line and a fragment its error message must contain. */
static const struct { const char *line; const char *reason; } bad[] = {
    {"", "line 7: empty line"},
    {"{\"id\":\"a\",\"abstract\":\"x\"", "malformed JSON"},
    {"{\"id\":\"a\",\"abstract\":\"x\"} {}", "trailing data"},
    {"[1,2]", "not a JSON object"},
    {"\"text\"", "not a JSON object"},
    {"{\"abstract\":\"x\"}", "missing \"id\""},
    {"{\"id\":12,\"abstract\":\"x\"}", "\"id\" is not a string"},
    {"{\"id\":\"\",\"abstract\":\"x\"}", "\"id\" is empty"},
    {"{\"id\":\"a\",\"title\":\"t\"}", "missing \"abstract\""},
    {"{\"id\":\"a\",\"abstract\":null}", "\"abstract\" is not a string"},
    {"{\"id\":\"a\",\"abstract\":[\"x\"]}", "\"abstract\" is not a string"},
    {"{\"id\":\"a\",\"abstract\":\"\"}", "\"abstract\" is empty"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"title\":1}",
     "\"title\" is not a string"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"categories\":5}",
     "\"categories\" is not a string"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"categories\":\"  \"}",
     "\"categories\" is empty"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"categories\":\"stat.ML cs.LG\","
     "\"label\":\"cs\"}", "primary category \"stat.ML\" is outside the five topics"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"categories\":"
     "\"abcdefghijklmnopqrstuvwxyz0123456789\"}", "primary category is 36"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"categories\":\"cs.LG\","
     "\"label\":\"math\"}", "\"label\" is \"math\" but primary category "
     "\"cs.LG\" is cs"},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"label\":\"cs\"}",
     "\"label\" without \"categories\""},
    {"{\"id\":\"a\",\"abstract\":\"x\",\"categories\":\"cs.LG\","
     "\"label\":3}", "\"label\" is not a string"},
    {"{\"id\":\"a\",\"abstract\":\"caf\xc3\"}", "invalid UTF-8 at byte "
     "offset 25"},
    /* after a multi-byte letter and a run longer than the 8-byte ASCII
     * skip of the check */
    {"{\"id\":\"a\",\"abstract\":\"\xc3\xa9" "abcdefghij\xff\"}",
     "invalid UTF-8 at byte offset 34"},
    {"{\"id\":\"a\",\"abstract\":\"\xed\xa0\x80\"}", "invalid UTF-8"},
    {"{\"id\":\"a\",\"abstract\":\"\xc0\xaf\"}", "invalid UTF-8"},
    {"{\"id\":\"a\",\"abstract\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"},
};

START_TEST(test_bad_records)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mb_jsonl_record r;
        mb_err err = mb_jsonl_parse(bad[i].line, strlen(bad[i].line), 7, &r);
        ck_assert_msg(err == MB_ERR_INPUT, "accepted: %s", bad[i].line);
        ck_assert_msg(strstr(mb_error_message(), bad[i].reason) != NULL,
                      "%s: got \"%s\"", bad[i].line, mb_error_message());
        ck_assert_msg(strncmp(mb_error_message(), "line 7: ", 8) == 0,
                      "no line number: %s", mb_error_message());
        ck_assert_ptr_null(r.tree);
        mb_jsonl_record_free(&r);
    }
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char line[] = "{\"id\":\"a\",\"abstract\":\"x\0y\"}";
    mb_jsonl_record r;
    ck_assert_int_eq(mb_jsonl_parse(line, sizeof line - 1, 3, &r),
                     MB_ERR_INPUT);
    ck_assert_str_eq(mb_error_message(), "line 3: NUL byte at offset 23");
}
END_TEST

START_TEST(test_over_long)
{
    size_t len = MB_JSONL_MAX_RECORD + 1;
    char *line = malloc(len);
    mb_jsonl_record r;
    ck_assert_ptr_nonnull(line);
    memset(line, ' ', len);
    ck_assert_int_eq(mb_jsonl_parse(line, len, 9, &r), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "over the 1048576-byte "
                                 "limit"));
    /* Exactly at the limit it is judged on its content, not its size. */
    ck_assert_int_eq(mb_jsonl_parse(line, len - 1, 9, &r), MB_ERR_INPUT);
    ck_assert_ptr_null(strstr(mb_error_message(), "limit"));
    free(line);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonl");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_good_record);
    tcase_add_test(tc, test_line_endings_and_optional_fields);
    tcase_add_test(tc, test_outside_topics);
    tcase_add_test(tc, test_topic_mapping);
    tcase_add_test(tc, test_bad_records);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_over_long);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
