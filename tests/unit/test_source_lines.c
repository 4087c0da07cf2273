/* test_source.c - the lines source: records, long lines, line ends. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_lines.h"
#include "wire.h"
#include "unit.h"

static char path[] = "/tmp/mb_test_source_XXXXXX";

static void write_file(const char *data, size_t len)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void teardown(void)
{
    unlink(path);
    strcpy(path, "/tmp/mb_test_source_XXXXXX");
}

static mb_source open_lines(const char *p, size_t max, mb_err *rc)
{
    mb_source src;
    mb_url_opts o;
    mb_url_opts_default(&o);
    *rc = mb_source_open_lines(&src, p, max, &o);
    return src;
}

static mb_payload item(const mb_batch *b, uint64_t i)
{
    return (mb_payload){b->bytes.data + b->offsets[i], b->offsets[i + 1] - b->offsets[i]};
}

START_TEST(lines_in_order_across_reads)
{
    const char text[] = "first\n\nthird\r\nlast-without-newline";
    mb_err rc;
    mb_batch b = {0};
    write_file(text, sizeof text - 1);
    mb_source src = open_lines(path, 100, &rc);
    ck_assert_int_eq(rc, MB_OK);
    ck_assert_int_eq(src.read(src.state, 2, &b), MB_OK);
    ck_assert_uint_eq(b.count, 2);
    ck_assert_int_eq(src.read(src.state, 5, &b), MB_OK);
    ck_assert_uint_eq(b.count, 4); /* fewer than asked: end of input */
    ck_assert_uint_eq(item(&b, 1).len, 0);
    ck_assert(item(&b, 2).len == 6 && memcmp(item(&b, 2).data, "third\r", 6) == 0);
    ck_assert(item(&b, 3).len == 20);
    mb_batch_clear(&b);
    ck_assert_int_eq(src.read(src.state, 5, &b), MB_OK);
    ck_assert_uint_eq(b.count, 0);
    mb_source_close(&src);
    mb_batch_free(&b);
}
END_TEST

/* Text: blank lines are left out, each line comes after its number. */
START_TEST(text_skips_blank_lines_and_tags_numbers)
{
    const char text[] = "first\n\n \t\r\nfourth\n";
    mb_batch b = {0};
    mb_source src;
    mb_url_opts o;
    uint64_t n;
    write_file(text, sizeof text - 1);
    mb_url_opts_default(&o);
    ck_assert_int_eq(mb_source_open_text(&src, path, 100, &o), MB_OK);
    ck_assert_int_eq(src.read(src.state, 5, &b), MB_OK);
    ck_assert_uint_eq(b.count, 2);
    memcpy(&n, item(&b, 1).data, sizeof n);
    ck_assert_uint_eq(n, 4);
    ck_assert(item(&b, 1).len == MB_SOURCE_TEXT_TAG + 6 &&
              memcmp(item(&b, 1).data + MB_SOURCE_TEXT_TAG, "fourth", 6) == 0);
    mb_source_close(&src);
    mb_batch_free(&b);
}
END_TEST

/* A line longer than the limit arrives cut to limit + 1 bytes; the lines
 * after it are intact.  Here the long line spans several 1 MiB reads. */
START_TEST(long_lines_are_cut)
{
    size_t big = 3u << 20;
    char *text = malloc(big + 16);
    mb_err rc;
    mb_batch b = {0};
    memset(text, 'x', big);
    memcpy(text + big, "\nshort\n", 7);
    write_file(text, big + 7);
    mb_source src = open_lines(path, 1000, &rc);
    ck_assert_int_eq(rc, MB_OK);
    ck_assert_int_eq(src.read(src.state, 10, &b), MB_OK);
    ck_assert_uint_eq(b.count, 2);
    ck_assert_uint_eq(item(&b, 0).len, 1001);
    ck_assert(item(&b, 1).len == 5 && memcmp(item(&b, 1).data, "short", 5) == 0);
    mb_source_close(&src);
    mb_batch_free(&b);
    free(text);
}
END_TEST

/* Lines wholly inside one 1 MiB read are taken from the read buffer
 * itself, and lines across a read's end are assembled: both must give the
 * same bytes, and the cut must apply to both. */
START_TEST(lines_inside_and_across_reads_agree)
{
    size_t block = 1u << 20, len = block + 4096;
    char *text = malloc(len);
    mb_err rc;
    mb_batch b = {0};
    /* A 1500-byte line (cut in place), then 100-byte lines, one of them
     * across the first read's end. */
    memset(text, 'a', 1500);
    text[1500] = '\n';
    for (size_t i = 1501; i < len; i++)
        text[i] = (i - 1501) % 101 == 100 ? '\n' : (char)('b' + (i - 1501) / 101 % 20);
    write_file(text, len);
    mb_source src = open_lines(path, 1000, &rc);
    ck_assert_int_eq(rc, MB_OK);
    ck_assert_int_eq(src.read(src.state, 1u << 20, &b), MB_OK);
    ck_assert_uint_eq(item(&b, 0).len, 1001);
    ck_assert_uint_eq(b.count, 1 + (len - 1501) / 101 + ((len - 1501) % 101 != 0));
    /* Mismatches are counted and asserted once: Check records every
     * assertion, which is slow under the sanitizers. */
    uint64_t bad = 0;
    for (uint64_t k = 1; k + 1 < b.count; k++) {
        mb_payload p = item(&b, k);
        bad += p.len != 100 || memcmp(p.data, text + 1501 + (k - 1) * 101, 100) != 0;
    }
    ck_assert_uint_eq(bad, 0);
    /* The last line has no newline: what is left of the file. */
    ck_assert_uint_eq(item(&b, b.count - 1).len, (len - 1501) % 101);
    mb_source_close(&src);
    mb_batch_free(&b);
    free(text);
}
END_TEST

START_TEST(empty_file_has_no_tasks)
{
    mb_err rc;
    mb_batch b = {0};
    write_file("", 0);
    mb_source src = open_lines(path, 10, &rc);
    ck_assert_int_eq(rc, MB_OK);
    ck_assert_int_eq(src.read(src.state, 10, &b), MB_OK);
    ck_assert_uint_eq(b.count, 0);
    mb_source_close(&src);
    mb_batch_free(&b);
}
END_TEST

START_TEST(missing_file_names_the_path)
{
    mb_err rc;
    mb_source src = open_lines("/nonexistent/in.jsonl", 10, &rc);
    ck_assert_int_eq(rc, MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "/nonexistent/in.jsonl"));
    mb_source_close(&src); /* safe on a failed open */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, lines_in_order_across_reads);
    tcase_add_test(tc, long_lines_are_cut);
    tcase_add_test(tc, text_skips_blank_lines_and_tags_numbers);
    tcase_add_test(tc, lines_inside_and_across_reads_agree);
    tcase_add_test(tc, empty_file_has_no_tasks);
    tcase_add_test(tc, missing_file_names_the_path);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
