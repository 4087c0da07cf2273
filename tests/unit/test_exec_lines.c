/* test_commands.c - commands-file lines: skipping, tags, {} expansion. */
#include <stdlib.h>
#include <string.h>

#include "kernels/exec_lines.h"
#include "unit.h"

static int is_task(const char *s)
{
    return mb_commands_is_task(s, strlen(s));
}

START_TEST(blank_and_comment_lines_are_skipped)
{
    ck_assert_int_eq(is_task(""), 0);
    ck_assert_int_eq(is_task("   \t \r"), 0);
    ck_assert_int_eq(is_task("# a comment"), 0);
    ck_assert_int_eq(is_task("   # indented comment"), 0);
    ck_assert_int_eq(is_task("echo hi"), 1);
    ck_assert_int_eq(is_task("  echo # not a comment"), 1);
    ck_assert_int_eq(is_task("x"), 1);
    /* The length bounds the line, not a NUL. */
    ck_assert_int_eq(mb_commands_is_task("  echo", 2), 0);
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

static char *expand(const char *tmpl, const char *line, mb_err want)
{
    char *cmd = (char *)1;
    ck_assert_int_eq(mb_commands_expand(tmpl, line, strlen(line), &cmd), want);
    if (want != MB_OK)
        ck_assert_ptr_null(cmd);
    return cmd;
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

START_TEST(nul_byte_is_refused)
{
    char *cmd;
    ck_assert_int_eq(mb_commands_expand(NULL, "ec\0ho", 5, &cmd), MB_ERR_INPUT);
    ck_assert_ptr_null(cmd);
}
END_TEST

START_TEST(overlong_commands_are_refused)
{
    size_t n = MB_COMMANDS_MAX;
    char *line = malloc(n + 2), *cmd;
    memset(line, 'a', n + 1);
    line[n + 1] = '\0';
    /* Exactly the limit is fine; one more byte is not. */
    ck_assert_int_eq(mb_commands_expand(NULL, line, n, &cmd), MB_OK);
    ck_assert_uint_eq(strlen(cmd), n);
    free(cmd);
    ck_assert_int_eq(mb_commands_expand(NULL, line, n + 1, &cmd), MB_ERR_INPUT);
    /* A template multiplies the line: 3 x 50000 bytes is too long. */
    ck_assert_int_eq(mb_commands_expand("{}{}{}", line, 50000, &cmd), MB_ERR_INPUT);
    ck_assert_int_eq(mb_commands_expand("{}{}", line, 50000, &cmd), MB_OK);
    ck_assert_uint_eq(strlen(cmd), 100000);
    free(cmd);
    free(line);
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
    tcase_add_test(tc, nul_byte_is_refused);
    tcase_add_test(tc, overlong_commands_are_refused);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
