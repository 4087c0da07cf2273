/* test_atomic.c - write under ".NAME.PID.part", then rename: the name is
 * beside the final one, nothing appears under the final name before the
 * rename, and a failure at any step leaves neither file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "unit_dir.h"

#define DIR_TEMPLATE "/tmp/mb_test_atomic_XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char path[sizeof DIR_TEMPLATE + 16];

static void setup(void)
{
    strcpy(dir, DIR_TEMPLATE);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
}

static void teardown(void)
{
    mb_test_dir_remove(dir);
}

static int exists(const char *p)
{
    return access(p, F_OK) == 0;
}

START_TEST(temporary_name_is_beside_the_final_one)
{
    mb_atomic a;
    char want[sizeof path + 32];
    ck_assert_int_eq(mb_atomic_begin(&a, path), MB_OK);
    snprintf(want, sizeof want, "%s/.out.txt.%ld.part", dir, (long)getpid());
    ck_assert_str_eq(a.tmp, want);
    ck_assert_str_eq(a.path, path);
    ck_assert(!exists(a.tmp)); /* nothing is created by begin */
    mb_atomic_discard(&a);
    ck_assert_ptr_null(a.tmp);
    /* A bare file name stays in the current directory. */
    ck_assert_int_eq(mb_atomic_begin(&a, "r.json"), MB_OK);
    snprintf(want, sizeof want, ".r.json.%ld.part", (long)getpid());
    ck_assert_str_eq(a.tmp, want);
    mb_atomic_discard(&a);
}
END_TEST

START_TEST(commit_renames_whole_file_into_place)
{
    mb_atomic a;
    FILE *fp;
    char buf[32] = {0};
    ck_assert_int_eq(mb_atomic_begin(&a, path), MB_OK);
    ck_assert_int_eq(mb_atomic_fopen(&a, "report", &fp), MB_OK);
    char *tmp = strdup(a.tmp);
    ck_assert_int_ge(fputs("hello\n", fp), 0);
    ck_assert(exists(tmp));
    ck_assert(!exists(path)); /* not under the final name before the rename */
    ck_assert_int_eq(mb_atomic_finish(&a, MB_OK, fp, 1, "report"), MB_OK);
    ck_assert(!exists(tmp));
    fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
    fclose(fp);
    ck_assert_str_eq(buf, "hello\n");
    ck_assert_ptr_null(a.path); /* released */
    free(tmp);
}
END_TEST

START_TEST(a_failed_write_leaves_nothing)
{
    mb_atomic a;
    FILE *fp;
    ck_assert_int_eq(mb_atomic_begin(&a, path), MB_OK);
    ck_assert_int_eq(mb_atomic_fopen(&a, "report", &fp), MB_OK);
    char *tmp = strdup(a.tmp);
    fputs("half", fp);
    /* The writer's own error is returned as it is, and the file goes. */
    mb_error_set(MB_ERR_INPUT, "bad record");
    ck_assert_int_eq(mb_atomic_finish(&a, MB_ERR_INPUT, fp, 0, "report"), MB_ERR_INPUT);
    ck_assert_str_eq(mb_error_message(), "bad record");
    ck_assert(!exists(tmp));
    ck_assert(!exists(path));
    free(tmp);
}
END_TEST

START_TEST(discard_removes_the_temporary_file)
{
    mb_atomic a;
    FILE *fp;
    ck_assert_int_eq(mb_atomic_begin(&a, path), MB_OK);
    ck_assert_int_eq(mb_atomic_fopen(&a, NULL, &fp), MB_OK);
    fclose(fp);
    char *tmp = strdup(a.tmp);
    ck_assert(exists(tmp));
    mb_atomic_discard(&a);
    ck_assert(!exists(tmp));
    ck_assert(!exists(path));
    mb_atomic_discard(&a); /* twice is harmless */
    free(tmp);
}
END_TEST

START_TEST(errors_name_the_final_file)
{
    mb_atomic a;
    FILE *fp = NULL;
    char missing[sizeof path + 16], want[sizeof path + 64];
    snprintf(missing, sizeof missing, "%s/no/r.json", dir);
    ck_assert_int_eq(mb_atomic_begin(&a, missing), MB_OK);
    ck_assert_int_eq(mb_atomic_fopen(&a, "report", &fp), MB_ERR_IO);
    snprintf(want, sizeof want, "cannot create report '%s': ", missing);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), want));
    mb_atomic_discard(&a);
    /* Without a name for the file, the message has no gap. */
    ck_assert_int_eq(mb_atomic_begin(&a, missing), MB_OK);
    ck_assert_int_eq(mb_atomic_fopen(&a, NULL, &fp), MB_ERR_IO);
    snprintf(want, sizeof want, "cannot create '%s': ", missing);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), want));
    mb_atomic_discard(&a);
    /* A directory in the final name's place: the rename fails, nothing stays. */
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(mb_atomic_begin(&a, path), MB_OK);
    ck_assert_int_eq(mb_atomic_fopen(&a, "status document", &fp), MB_OK);
    char *tmp = strdup(a.tmp);
    fputs("x", fp);
    ck_assert_int_eq(mb_atomic_finish(&a, MB_OK, fp, 0, "status document"), MB_ERR_IO);
    snprintf(want, sizeof want, "cannot rename status document into '%s': ", path);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), want));
    ck_assert(!exists(tmp));
    ck_assert_int_eq(rmdir(path), 0);
    free(tmp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("atomic");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, temporary_name_is_beside_the_final_one);
    tcase_add_test(tc, commit_renames_whole_file_into_place);
    tcase_add_test(tc, a_failed_write_leaves_nothing);
    tcase_add_test(tc, discard_removes_the_temporary_file);
    tcase_add_test(tc, errors_name_the_final_file);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
