/* test_exec_log.c - exec's streamed logs: writer, index, reader, torn tails. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernels/exec_log.h"
#include "unit_dir.h"

static char dir[512];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "%s/exec_log.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void drop_dir(void)
{
    mb_test_dir_remove(dir);
}

/* One whole attempt: begin, the output, end. */
static void attempt(mb_exec_log *l, uint64_t task, uint64_t line, const char *cmd,
                    const char *out, const char *err, int failed)
{
    mb_exec_log_attempt a;
    mb_exec_log_end e = {.exit_status = failed ? 3 : 0, .failed = failed, .seconds = 0.5,
                         .reason = failed ? "exit status 3" : NULL};
    ck_assert_int_eq(mb_exec_log_begin(l, &a, task, line, cmd), 0);
    if (out)
        ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_OUT, out, strlen(out)), 0);
    if (err)
        ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_ERR, err, strlen(err)), 0);
    ck_assert_int_eq(mb_exec_log_end_attempt(l, &a, &e), 0);
}

/* Entry e's output as a string (the caller frees). */
static char *output(const mb_exec_log_reader *r, const mb_exec_log_entry *e, int streams)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ck_assert_int_eq(mb_exec_log_print(r, e, streams, fp), MB_OK);
    fclose(fp);
    return buf;
}

static const mb_exec_log_entry *only(const mb_exec_log_reader *r, uint64_t run, uint64_t task)
{
    size_t first;
    ck_assert_uint_eq(mb_exec_log_find(r, run, task, &first), 1);
    return &r->e[first];
}

START_TEST(round_trip_with_interleaved_attempts)
{
    mb_exec_log *l;
    mb_exec_log_attempt a, b;
    mb_exec_log_end ok = {0};
    make_dir();
    ck_assert_int_eq(mb_exec_log_open(dir, 0, 7, &l), MB_OK);
    /* Two commands in flight at once: their records interleave. */
    ck_assert_int_eq(mb_exec_log_begin(l, &a, 0, 2, "echo a"), 0);
    ck_assert_int_eq(mb_exec_log_begin(l, &b, 1, 3, "echo b"), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_OUT, "a1 ", 3), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &b, MB_EXEC_LOG_ERR, "b-err", 5), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_ERR, "a-err", 5), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &b, MB_EXEC_LOG_OUT, "b1", 2), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_OUT, "a2", 2), 0);
    ck_assert_int_eq(mb_exec_log_end_attempt(l, &b, &ok), 0);
    ck_assert_int_eq(mb_exec_log_end_attempt(l, &a, &ok), 0);
    mb_exec_log_close(l);

    mb_exec_log_reader r;
    ck_assert_int_eq(mb_exec_log_read(dir, &r), MB_OK);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_uint_eq(r.nruns, 1);
    ck_assert_uint_eq(r.runs[0], 7);
    const mb_exec_log_entry *ea = only(&r, 7, 0), *eb = only(&r, 7, 1);
    ck_assert_uint_eq(ea->line, 2);
    ck_assert_int_eq(ea->finished, 1);
    ck_assert_int_eq(ea->superseded, 0);
    char *s = output(&r, ea, MB_EXEC_LOG_OUT | MB_EXEC_LOG_ERR);
    ck_assert_str_eq(s, "a1 a2a-err"); /* stdout, then stderr */
    free(s);
    s = output(&r, eb, MB_EXEC_LOG_ERR);
    ck_assert_str_eq(s, "b-err");
    free(s);
    char *cmd, *why;
    ck_assert_int_eq(mb_exec_log_describe(&r, eb, &cmd, &why), MB_OK);
    ck_assert_str_eq(cmd, "echo b");
    ck_assert_ptr_null(why);
    free(cmd);
    mb_exec_log_reader_free(&r);
    drop_dir();
}
END_TEST

START_TEST(retries_and_ranks_mark_superseded_attempts)
{
    mb_exec_log *l0, *l1;
    make_dir();
    ck_assert_int_eq(mb_exec_log_open(dir, 0, 1, &l0), MB_OK);
    ck_assert_int_eq(mb_exec_log_open(dir, 1, 1, &l1), MB_OK);
    attempt(l0, 4, 9, "flaky", "first", "boom", 1);
    attempt(l1, 4, 9, "flaky", "second", NULL, 0);
    attempt(l1, 5, 10, "bad", NULL, "no", 1);
    attempt(l0, 5, 10, "bad", NULL, "still no", 1);
    mb_exec_log_close(l0);
    mb_exec_log_close(l1);

    mb_exec_log_reader r;
    size_t first;
    ck_assert_int_eq(mb_exec_log_read(dir, &r), MB_OK);
    ck_assert_int_eq(r.nfiles, 2);
    ck_assert_uint_eq(mb_exec_log_find(&r, 1, 4, &first), 2);
    const mb_exec_log_entry *e = &r.e[first];
    ck_assert_int_eq(e[0].attempt, 1);
    ck_assert_int_eq(e[0].attempts, 2);
    ck_assert_int_eq(e[0].superseded, 1); /* failed, then retried */
    ck_assert_int_eq(e[0].failed, 1);
    ck_assert_int_eq(e[0].exit_status, 3);
    ck_assert_int_eq(e[1].superseded, 0);
    ck_assert_int_eq(e[1].rank, 1);
    char *s = output(&r, &e[1], MB_EXEC_LOG_OUT | MB_EXEC_LOG_ERR);
    ck_assert_str_eq(s, "second");
    free(s);
    /* Every attempt failed: the last one's result counts. */
    ck_assert_uint_eq(mb_exec_log_find(&r, 1, 5, &first), 2);
    e = &r.e[first];
    ck_assert_int_eq(e[0].superseded, 1);
    ck_assert_int_eq(e[1].superseded, 0);
    char *cmd, *why;
    ck_assert_int_eq(mb_exec_log_describe(&r, &e[1], &cmd, &why), MB_OK);
    ck_assert_str_eq(cmd, "bad");
    ck_assert_str_eq(why, "exit status 3");
    free(cmd);
    free(why);
    s = output(&r, &e[1], MB_EXEC_LOG_ERR);
    ck_assert_str_eq(s, "still no");
    free(s);
    ck_assert_uint_eq(mb_exec_log_find(&r, 1, 6, &first), 0);
    ck_assert_uint_eq(mb_exec_log_find(&r, 2, 4, &first), 0);
    mb_exec_log_reader_free(&r);
    drop_dir();
}
END_TEST

START_TEST(a_second_run_appends)
{
    mb_exec_log *l;
    make_dir();
    ck_assert_int_eq(mb_exec_log_open(dir, 0, 100, &l), MB_OK);
    attempt(l, 0, 1, "one", "run one", NULL, 1);
    mb_exec_log_close(l);
    ck_assert_int_eq(mb_exec_log_open(dir, 0, 200, &l), MB_OK);
    attempt(l, 0, 1, "one", "run two", NULL, 0);
    mb_exec_log_close(l);

    mb_exec_log_reader r;
    ck_assert_int_eq(mb_exec_log_read(dir, &r), MB_OK);
    ck_assert_uint_eq(r.nruns, 2);
    ck_assert_uint_eq(r.runs[0], 100);
    ck_assert_uint_eq(r.runs[1], 200);
    char *s = output(&r, only(&r, 100, 0), MB_EXEC_LOG_OUT);
    ck_assert_str_eq(s, "run one");
    free(s);
    s = output(&r, only(&r, 200, 0), MB_EXEC_LOG_OUT);
    ck_assert_str_eq(s, "run two");
    free(s);
    /* Attempts are counted per run. */
    ck_assert_int_eq(only(&r, 100, 0)->superseded, 0);
    mb_exec_log_reader_free(&r);
    drop_dir();
}
END_TEST

static off_t file_size(const char *name)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

static void cut(const char *name, off_t size)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(truncate(path, size), 0);
}

START_TEST(a_killed_writer_leaves_readable_logs)
{
    mb_exec_log *l;
    mb_exec_log_attempt a;
    make_dir();
    ck_assert_int_eq(mb_exec_log_open(dir, 3, 5, &l), MB_OK);
    attempt(l, 0, 1, "done", "whole", NULL, 0);
    ck_assert_int_eq(mb_exec_log_begin(l, &a, 1, 2, "running"), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_OUT, "part one,", 9), 0);
    ck_assert_int_eq(mb_exec_log_write(l, &a, MB_EXEC_LOG_OUT, "part two", 8), 0);
    mb_exec_log_close(l);
    /* Killed in the middle of writing the last record and an index entry. */
    cut("rank-0003.log", file_size("rank-0003.log") - 3);
    char path[4200];
    snprintf(path, sizeof path, "%s/rank-0003.idx", dir);
    FILE *fp = fopen(path, "ab");
    fwrite("MBLI torn", 1, 9, fp);
    fclose(fp);

    mb_exec_log_reader r;
    ck_assert_int_eq(mb_exec_log_read(dir, &r), MB_OK);
    ck_assert_uint_eq(r.n, 2);
    const mb_exec_log_entry *e = only(&r, 5, 1);
    ck_assert_int_eq(e->finished, 0);
    ck_assert_int_eq(e->rank, 3);
    char *s = output(&r, e, MB_EXEC_LOG_OUT);
    ck_assert_str_eq(s, "part one,"); /* the torn record is left out */
    free(s);
    s = output(&r, only(&r, 5, 0), MB_EXEC_LOG_OUT);
    ck_assert_str_eq(s, "whole");
    free(s);
    mb_exec_log_reader_free(&r);
    drop_dir();
}
END_TEST

START_TEST(corruption_inside_the_index_is_an_error)
{
    mb_exec_log *l;
    make_dir();
    ck_assert_int_eq(mb_exec_log_open(dir, 0, 1, &l), MB_OK);
    attempt(l, 0, 1, "x", "y", NULL, 0);
    attempt(l, 1, 2, "x", "y", NULL, 0);
    mb_exec_log_close(l);
    char path[4200];
    snprintf(path, sizeof path, "%s/rank-0000.idx", dir);
    int fd = open(path, O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "X", 1, 20), 1);
    close(fd);
    mb_exec_log_reader r;
    ck_assert_int_eq(mb_exec_log_read(dir, &r), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "rank-0000.idx: corrupt index entry at byte 0"));
    drop_dir();
    /* A directory without logs says so. */
    make_dir();
    ck_assert_int_eq(mb_exec_log_read(dir, &r), MB_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "holds no exec logs"));
    drop_dir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exec_log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, round_trip_with_interleaved_attempts);
    tcase_add_test(tc, retries_and_ranks_mark_superseded_attempts);
    tcase_add_test(tc, a_second_run_appends);
    tcase_add_test(tc, a_killed_writer_leaves_readable_logs);
    tcase_add_test(tc, corruption_inside_the_index_is_an_error);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
