/* test_journal.c - framing, replay in task order, torn tails, refusals, spec identity. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "row.h"
#include "wire.h"
#include "unit.h"

enum { ROWLEN = 1 + MB_ROW_EXTRA };
static char path[64];

/* What a replay saw. */
typedef struct seen {
    uint64_t tasks, chunks, fails;
    double sum;           /* of the records, to check the bytes came back */
} seen;

static mb_err note(void *arg, const mb_result *r, const uint64_t *inputs)
{
    seen *s = arg;
    size_t pos = 0;
    uint64_t t;
    const char *text;
    size_t len;
    ck_assert_uint_eq(r->first, s->tasks);
    for (uint64_t i = 0; i < r->count; i++)
        s->sum += r->rows[i * ROWLEN];
    while (mb_result_next_failure(r, &pos, &t, &text, &len)) {
        ck_assert(len == 6 && memcmp(text, "broken", 6) == 0);
        s->fails++;
    }
    s->tasks += r->count;
    s->chunks++;
    return MB_OK;
}

/* Append chunks of 3 tasks [first, first + 3) for first = 0, 3, ..., with
 * record value = task and task 4 failed. */
static void append_chunks(mb_journal *j, uint64_t from, uint64_t nchunks)
{
    for (uint64_t c = from; c < from + nchunks; c++) {
        double rows[3 * ROWLEN] = {0};
        mb_buf msg = {0}, fails = {0};
        mb_result r;
        size_t pos = 0;
        uint64_t nfail = 0;
        for (int i = 0; i < 3; i++) {
            uint64_t task = 3 * c + (uint64_t)i;
            rows[i * ROWLEN] = (double)task;
            if (task == 4) {
                rows[i * ROWLEN + 1 + MB_ROW_STATUS] = 2;
                ck_assert_int_eq(mb_wire_pack_failure(&fails, task, "broken"), MB_OK);
                nfail++;
            }
        }
        ck_assert_int_eq(mb_wire_put_result(&msg, 3 * c, 3, ROWLEN, rows, nfail, fails.data,
                                            fails.len), MB_OK);
        ck_assert_int_eq(mb_wire_get_result(msg.data, msg.len, &pos, ROWLEN, &r), MB_OK);
        ck_assert_int_eq(mb_journal_append(j, &r), MB_OK);
        mb_buf_free(&msg);
        mb_buf_free(&fails);
    }
}

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/test_journal.%ld", (long)getpid());
    unlink(path);
}

static void teardown(void)
{
    unlink(path);
}

static mb_err open_j(mb_journal **j, uint64_t hash, int resume, seen *s, uint64_t *tasks)
{
    memset(s, 0, sizeof *s);
    return mb_journal_open(j, path, hash, ROWLEN, resume, 0.5, note, s, tasks);
}

static off_t file_size(void)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

START_TEST(frames_replay_in_order)
{
    mb_journal *j;
    seen s;
    uint64_t tasks;
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 0);
    append_chunks(j, 0, 4);
    ck_assert_int_eq(mb_journal_close(j), MB_OK);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 12);
    ck_assert_uint_eq(s.chunks, 4);
    ck_assert_uint_eq(s.fails, 1);
    ck_assert(s.sum == 66.0); /* 0 + 1 + ... + 11 */
    /* Appending after a resume continues the same file. */
    append_chunks(j, 4, 2);
    mb_journal_close(j);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 18);
    mb_journal_close(j);
}
END_TEST

/* Chunks that end out of order are recorded as they arrive and come back
 * in task order: at open up to the first gap, each island past a gap when
 * asked for; a task is never recorded twice. */
START_TEST(out_of_order_frames_replay_in_task_order)
{
    mb_journal *j;
    seen s;
    uint64_t tasks, first, count;
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_OK);
    append_chunks(j, 0, 1);  /* tasks 0..2 */
    append_chunks(j, 3, 1);  /* 9..11, past a gap */
    append_chunks(j, 1, 1);  /* 3..5 */
    ck_assert_uint_eq(mb_journal_recorded(j), 9);
    ck_assert_int_eq(mb_journal_close(j), MB_OK);

    /* 0..5 replay at open, 9..11 wait for 6..8. */
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 6);
    ck_assert_uint_eq(s.chunks, 2);
    ck_assert_uint_eq(mb_journal_island_tasks(j), 3);
    ck_assert_uint_eq(mb_journal_recorded(j), 9);
    ck_assert(mb_journal_island(j, &first, &count));
    ck_assert_uint_eq(first, 9);
    ck_assert_uint_eq(count, 3);
    /* An island's tasks cannot be recorded again. */
    mb_buf msg = {0};
    double rows[3 * ROWLEN] = {0};
    mb_result r;
    size_t pos = 0;
    ck_assert_int_eq(mb_wire_put_result(&msg, 10, 1, ROWLEN, rows, 0, NULL, 0), MB_OK);
    ck_assert_int_eq(mb_wire_get_result(msg.data, msg.len, &pos, ROWLEN, &r), MB_OK);
    ck_assert_int_eq(mb_journal_append(j, &r), MB_ERR_INTERNAL);
    mb_buf_free(&msg);
    append_chunks(j, 2, 1);  /* 6..8: the gap fills */
    s.tasks = 9;             /* the feed reached the island */
    ck_assert_int_eq(mb_journal_replay_island(j), MB_OK);
    ck_assert(!mb_journal_island(j, &first, &count));
    ck_assert_uint_eq(s.chunks, 3);
    ck_assert_uint_eq(mb_journal_recorded(j), 12);
    mb_journal_close(j);

    /* Every frame in task order at the next open, the island included. */
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 12);
    ck_assert_uint_eq(s.chunks, 4);
    ck_assert(s.sum == 66.0);
    ck_assert_uint_eq(mb_journal_island_tasks(j), 0);
    mb_journal_close(j);
}
END_TEST

/* A frame that repeats a recorded task is taken for corruption: the file
 * is cut before it. */
START_TEST(a_repeated_task_ends_the_prefix)
{
    mb_journal *j;
    seen s;
    uint64_t tasks;
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_OK);
    append_chunks(j, 0, 2);
    ck_assert_int_eq(mb_journal_close(j), MB_OK);
    off_t good = file_size();
    /* Append the first frame again by hand: a second copy of tasks 0..2. */
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    char frame[4096];
    ck_assert_int_eq(pread(fd, frame, 16, 32), 16);
    uint64_t len;
    memcpy(&len, frame + 8, 8);
    ck_assert_uint_le(len + 16, sizeof frame);
    ck_assert_int_eq(pread(fd, frame, 16 + len, 32), (ssize_t)(16 + len));
    ck_assert_int_eq(pwrite(fd, frame, 16 + len, good), (ssize_t)(16 + len));
    close(fd);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 6);
    ck_assert_uint_eq(s.chunks, 2);
    mb_journal_close(j);
    ck_assert_int_eq(file_size(), good);
}
END_TEST

START_TEST(torn_tail_is_cut)
{
    mb_journal *j;
    seen s;
    uint64_t tasks;
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_OK);
    append_chunks(j, 0, 2);
    mb_journal_close(j);
    off_t two = file_size();
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    append_chunks(j, 2, 1);
    mb_journal_close(j);
    off_t full = file_size();
    /* Cut the last frame short and add garbage: two frames survive. */
    ck_assert_int_eq(truncate(path, full - 5), 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_eq(write(fd, "junk", 4), 4);
    close(fd);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 6);
    mb_journal_close(j);
    ck_assert_int_eq(file_size(), two);
}
END_TEST

START_TEST(corrupt_frame_ends_the_prefix)
{
    mb_journal *j;
    seen s;
    uint64_t tasks;
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_OK);
    append_chunks(j, 0, 3);
    mb_journal_close(j);
    off_t frame = (file_size() - 32) / 3;
    /* Flip a byte of the second frame's rows: its CRC no longer matches. */
    int fd = open(path, O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "\x55", 1, 32 + frame + 40), 1);
    close(fd);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 3);
    ck_assert_uint_eq(s.chunks, 1);
    mb_journal_close(j);
}
END_TEST

START_TEST(existing_journal_needs_resume)
{
    mb_journal *j;
    seen s;
    uint64_t tasks;
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_OK);
    append_chunks(j, 0, 1);
    mb_journal_close(j);
    ck_assert_int_eq(open_j(&j, 7, 0, &s, &tasks), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "add --resume"));
    ck_assert_ptr_null(j);
    /* Another job's journal is refused and left alone. */
    off_t before = file_size();
    ck_assert_int_eq(open_j(&j, 8, 1, &s, &tasks), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "different job"));
    ck_assert_int_eq(file_size(), before);
    ck_assert_uint_eq(s.tasks, 0);
}
END_TEST

START_TEST(other_files_are_refused)
{
    mb_journal *j;
    seen s;
    uint64_t tasks;
    FILE *fp = fopen(path, "w");
    fputs("this is a text file, longer than a journal header", fp);
    fclose(fp);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "not an mpibatch journal"));
    /* A file too short for a header (a crash right after creation) is
     * started again. */
    fp = fopen(path, "w");
    fputs("MBJ", fp);
    fclose(fp);
    ck_assert_int_eq(open_j(&j, 7, 1, &s, &tasks), MB_OK);
    ck_assert_uint_eq(tasks, 0);
    mb_journal_close(j);
    ck_assert_int_eq(file_size(), 32);
}
END_TEST

START_TEST(spec_hash_covers_kernel_options_only)
{
    static const mb_option opts[] = {
        {.name = "terms", .type = MB_OPT_INT},
        {.name = "blocks", .type = MB_OPT_INT},
        {0}
    };
    cJSON *a = cJSON_Parse("{\"kernel\":\"euler\",\"terms\":10,\"blocks\":2,\"chunk\":1}");
    cJSON *b = cJSON_Parse("{\"chunk\":5,\"blocks\":2,\"out\":\"x.h5\",\"terms\":10}");
    cJSON *c = cJSON_Parse("{\"terms\":11,\"blocks\":2}");
    uint64_t ha = mb_journal_spec_hash(a, "euler", opts);
    ck_assert_uint_eq(ha, mb_journal_spec_hash(b, "euler", opts)); /* order, run control */
    ck_assert_uint_ne(ha, mb_journal_spec_hash(c, "euler", opts));
    ck_assert_uint_ne(ha, mb_journal_spec_hash(a, "sleep", opts));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}
END_TEST

START_TEST(crc32_matches_the_standard)
{
    /* The check value of CRC-32/ISO-HDLC. */
    ck_assert_uint_eq(mb_journal_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(mb_journal_crc32(mb_journal_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, frames_replay_in_order);
    tcase_add_test(tc, out_of_order_frames_replay_in_task_order);
    tcase_add_test(tc, a_repeated_task_ends_the_prefix);
    tcase_add_test(tc, torn_tail_is_cut);
    tcase_add_test(tc, corrupt_frame_ends_the_prefix);
    tcase_add_test(tc, existing_journal_needs_resume);
    tcase_add_test(tc, other_files_are_refused);
    tcase_add_test(tc, spec_hash_covers_kernel_options_only);
    tcase_add_test(tc, crc32_matches_the_standard);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
