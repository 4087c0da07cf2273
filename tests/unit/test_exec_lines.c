/* test_exec_lines.c - commands-file lines: skipping, directives, tags,
 * template expansion. */
#include <stdlib.h>
#include <string.h>

#include "kernels/exec_lines.h"
#include "unit.h"

static int kind_of(const char *s)
{
    mb_commands_kind k = MB_LINE_SKIP;
    mb_err rc = mb_commands_classify(s, strlen(s), &k);
    return rc == MB_OK ? (int)k : -1;
}

START_TEST(blank_and_comment_lines_are_skipped)
{
    ck_assert_int_eq(kind_of(""), MB_LINE_SKIP);
    ck_assert_int_eq(kind_of("   \t \r"), MB_LINE_SKIP);
    ck_assert_int_eq(kind_of("# a comment"), MB_LINE_SKIP);
    ck_assert_int_eq(kind_of("   # indented comment"), MB_LINE_SKIP);
    ck_assert_int_eq(kind_of("echo hi"), MB_LINE_TASK);
    ck_assert_int_eq(kind_of("  echo # not a comment"), MB_LINE_TASK);
    ck_assert_int_eq(kind_of("x"), MB_LINE_TASK);
    /* The length bounds the line, not a NUL. */
    mb_commands_kind k;
    ck_assert_int_eq(mb_commands_classify("  echo", 2, &k), MB_OK);
    ck_assert_int_eq(k, MB_LINE_SKIP);
}
END_TEST

START_TEST(directives)
{
    ck_assert_int_eq(kind_of("#mpibatch barrier"), MB_LINE_BARRIER);
    ck_assert_int_eq(kind_of("  #mpibatch\tbarrier  \r"), MB_LINE_BARRIER);
    /* Not the word #mpibatch: plain comments. */
    ck_assert_int_eq(kind_of("# mpibatch barrier"), MB_LINE_SKIP);
    ck_assert_int_eq(kind_of("#mpibatchbarrier"), MB_LINE_SKIP);
    ck_assert_int_eq(kind_of("#MPIBATCH barrier"), MB_LINE_SKIP);
    /* Unknown or empty directives are errors that say what is known. */
    ck_assert_int_eq(kind_of("#mpibatch barier"), -1);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "'#mpibatch barier'"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "known: barrier"));
    ck_assert_int_eq(kind_of("#mpibatch"), -1);
    ck_assert_int_eq(kind_of("#mpibatch   "), -1);
    ck_assert_int_eq(kind_of("#mpibatch barrier now"), -1);
}
END_TEST

START_TEST(tags_round_trip)
{
    const uint64_t lines[] = {1, 255, 256, 123456789012345ULL, UINT64_MAX};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char buf[MB_COMMANDS_TAG + 3];
        uint64_t n = 0;
        const char *line;
        size_t len;
        mb_commands_tag(lines[i], buf);
        memcpy(buf + MB_COMMANDS_TAG, "abc", 3);
        ck_assert_int_eq(mb_commands_untag(buf, sizeof buf, &n, &line, &len), 1);
        ck_assert_uint_eq(n, lines[i]);
        ck_assert_uint_eq(len, 3);
        ck_assert_int_eq(memcmp(line, "abc", 3), 0);
    }
    /* Little-endian on every host. */
    char tag[MB_COMMANDS_TAG];
    mb_commands_tag(0x0102, tag);
    ck_assert_int_eq(tag[0], 2);
    ck_assert_int_eq(tag[1], 1);
}
END_TEST

START_TEST(short_payload_has_no_tag)
{
    uint64_t n;
    const char *line;
    size_t len;
    ck_assert_int_eq(mb_commands_untag("1234567", 7, &n, &line, &len), 0);
}
END_TEST

static char *expand_sep(const char *tmpl, const char *sep, uint64_t seq, const char *line,
                        mb_err want)
{
    mb_commands_template t;
    char *cmd = (char *)1;
    ck_assert_int_eq(mb_commands_template_init(&t, tmpl, sep), MB_OK);
    ck_assert_int_eq(mb_commands_expand(&t, seq, line, strlen(line), &cmd), want);
    if (want != MB_OK)
        ck_assert_ptr_null(cmd);
    mb_commands_template_free(&t);
    return cmd;
}

static char *expand(const char *tmpl, const char *line, mb_err want)
{
    return expand_sep(tmpl, NULL, 1, line, want);
}

static void check(const char *tmpl, const char *sep, const char *line, const char *want)
{
    char *c = expand_sep(tmpl, sep, 7, line, MB_OK);
    ck_assert_str_eq(c, want);
    free(c);
}

START_TEST(line_alone_is_the_command)
{
    char *c = expand(NULL, "echo {} x\r", MB_OK);
    ck_assert_str_eq(c, "echo {} x"); /* no template: {} stays, '\r' goes */
    free(c);
}
END_TEST

START_TEST(every_brace_pair_is_replaced)
{
    char *c = expand("cp {} {}.bak && wc -c {}.bak", "a b.txt", MB_OK);
    ck_assert_str_eq(c, "cp a b.txt a b.txt.bak && wc -c a b.txt.bak");
    free(c);
    c = expand("echo {{}} { } {", "X\r", MB_OK);
    ck_assert_str_eq(c, "echo {X} { } {");
    free(c);
    c = expand("[{}]", "", MB_OK);
    ck_assert_str_eq(c, "[]");
    free(c);
}
END_TEST

/* The values GNU parallel 20221122 gives for the same lines. */
START_TEST(path_replacements_follow_gnu_parallel)
{
    const char *t = "[{.}] [{/}] [{//}] [{/.}]";
    check(t, NULL, "a/b.c.d", "[a/b.c] [b.c.d] [a] [b.c]");
    check(t, NULL, ".bashrc", "[] [.bashrc] [.] []");
    check(t, NULL, "foo", "[foo] [foo] [.] [foo]");
    check(t, NULL, "/x", "[/x] [x] [/] [x]");
    check(t, NULL, "dir/", "[dir/] [] [.] []");
    check(t, NULL, "a/.b", "[a/] [.b] [a] []");
    check(t, NULL, "x.", "[x] [x.] [.] [x]");
    check(t, NULL, "sub.d/f", "[sub.d/f] [f] [sub.d] [f]");
    check(t, NULL, "a//b/", "[a//b/] [] [a] []");
    check(t, NULL, "/", "[/] [] [/] []");
}
END_TEST

START_TEST(sequence_number)
{
    check("echo {#} {}", NULL, "x", "echo 7 x");
    char *c = expand_sep("{#}", NULL, 18446744073709551615ULL, "x", MB_OK);
    ck_assert_str_eq(c, "18446744073709551615");
    free(c);
    /* Without --colsep {1} is the line, {0} and {x} are text. */
    check("{1} {0} {x} {1.} {#", NULL, "f.txt", "f.txt {0} {x} f {#");
}
END_TEST

START_TEST(columns)
{
    check("{2} {1} [{}]", ",", "a,b,c", "b a [a b c]");
    check("{3/.} {1//}", "\\t", "x/y\tq\t/d/f.gz", "f x");
    check("{1}|{2}|{3}", " +", "a   b c", "a|b|c");
    check("{1}|{2}", ",", ",b", "|b");          /* an empty first column */
    check("{1}|{2}", "[,;]", "a;b,c", "a|b");   /* a regular expression */
    /* A column the line lacks fails the task, saying which. */
    expand_sep("{1} {3}", ",", 1, "a,b", MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "2 columns"));
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "{3}"));
}
END_TEST

START_TEST(bad_templates_and_separators)
{
    mb_commands_template t;
    ck_assert_int_eq(mb_commands_template_init(&t, "{1}", "a*"), MB_ERR_USAGE); /* empty match */
    mb_commands_template_free(&t);
    ck_assert_int_eq(mb_commands_template_init(&t, "{1}", "(("), MB_ERR_USAGE);
    mb_commands_template_free(&t);
    ck_assert_int_eq(mb_commands_template_has_holes("echo { } {0} {x}"), 0);
    ck_assert_int_eq(mb_commands_template_has_holes("echo {#}"), 1);
    ck_assert_int_eq(mb_commands_template_has_holes("echo {12/.}"), 1);
}
END_TEST

START_TEST(nul_byte_is_refused)
{
    free(expand_sep(NULL, NULL, 1, "", MB_OK));
    mb_commands_template t;
    char *cmd;
    mb_commands_template_init(&t, NULL, NULL);
    ck_assert_int_eq(mb_commands_expand(&t, 1, "ec\0ho", 5, &cmd), MB_ERR_INPUT);
    ck_assert_ptr_null(cmd);
    mb_commands_template_free(&t);
}
END_TEST

START_TEST(overlong_commands_are_refused)
{
    size_t n = MB_COMMANDS_MAX;
    char *line = malloc(n + 2), *cmd;
    mb_commands_template none, three, two, cols;
    mb_commands_template_init(&none, NULL, NULL);
    mb_commands_template_init(&three, "{}{}{}", NULL);
    mb_commands_template_init(&two, "{}{}", NULL);
    mb_commands_template_init(&cols, "{1}{1}{1}{}", ",");
    memset(line, 'a', n + 1);
    line[n + 1] = '\0';
    /* Exactly the limit is fine; one more byte is not. */
    ck_assert_int_eq(mb_commands_expand(&none, 1, line, n, &cmd), MB_OK);
    ck_assert_uint_eq(strlen(cmd), n);
    free(cmd);
    ck_assert_int_eq(mb_commands_expand(&none, 1, line, n + 1, &cmd), MB_ERR_INPUT);
    /* A template multiplies the line: 3 x 50000 bytes is too long. */
    ck_assert_int_eq(mb_commands_expand(&three, 1, line, 50000, &cmd), MB_ERR_INPUT);
    ck_assert_int_eq(mb_commands_expand(&cols, 1, line, 40000, &cmd), MB_ERR_INPUT);
    ck_assert_int_eq(mb_commands_expand(&two, 1, line, 50000, &cmd), MB_OK);
    ck_assert_uint_eq(strlen(cmd), 100000);
    free(cmd);
    free(line);
    mb_commands_template_free(&cols);
}
END_TEST

START_TEST(resource_directives_are_parsed)
{
    mb_directive d;
    mb_commands_kind k;
    const char *l1 = "#mpibatch cores=8 gpus=1";
    ck_assert_int_eq(mb_commands_parse(l1, strlen(l1), &k, &d), MB_OK);
    ck_assert_int_eq(k, MB_LINE_RESOURCES);
    ck_assert_int_eq(d.cores, 8);
    ck_assert_int_eq(d.gpus, 1);
    const char *l2 = " #mpibatch\tgpus=2\r";
    ck_assert_int_eq(mb_commands_parse(l2, strlen(l2), &k, &d), MB_OK);
    ck_assert_int_eq(k, MB_LINE_RESOURCES);
    ck_assert_int_eq(d.cores, -1);
    ck_assert_int_eq(d.gpus, 2);
    /* Other lines leave the amounts unset. */
    const char *l3 = "#mpibatch barrier";
    ck_assert_int_eq(mb_commands_parse(l3, strlen(l3), &k, &d), MB_OK);
    ck_assert_int_eq(k, MB_LINE_BARRIER);
    ck_assert_int_eq(d.cores, -1);
    ck_assert_int_eq(kind_of("# mpibatch cores=2"), MB_LINE_SKIP);
}
END_TEST

START_TEST(bad_resource_directives_are_refused)
{
    const char *bad[] = {"#mpibatch cores=x", "#mpibatch colour=red", "#mpibatch cores=",
                         "#mpibatch cores=-1", "#mpibatch cores=99999999999",
                         "#mpibatch barrier cores=2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(kind_of(bad[i]) == -1, "%s was taken", bad[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("commands");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, blank_and_comment_lines_are_skipped);
    tcase_add_test(tc, tags_round_trip);
    tcase_add_test(tc, short_payload_has_no_tag);
    tcase_add_test(tc, line_alone_is_the_command);
    tcase_add_test(tc, every_brace_pair_is_replaced);
    tcase_add_test(tc, directives);
    tcase_add_test(tc, path_replacements_follow_gnu_parallel);
    tcase_add_test(tc, sequence_number);
    tcase_add_test(tc, columns);
    tcase_add_test(tc, bad_templates_and_separators);
    tcase_add_test(tc, nul_byte_is_refused);
    tcase_add_test(tc, overlong_commands_are_refused);
    tcase_add_test(tc, resource_directives_are_parsed);
    tcase_add_test(tc, bad_resource_directives_are_refused);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
