/* test_plugin.c - kernels from shared libraries (plugin.c): the example
 * plug-in loads, by mb_plugin_load and by a job spec's "kernel-lib", and
 * runs through the kernel interface; loading again gives the same kernel;
 * a bad kernel name, a library that does not load, one without the ABI
 * symbol, one built for another ABI version, a missing kernel, and
 * kernels that break the interface's rules are refused with MB_ERR_USAGE
 * and a message naming the library and the problem.  The libraries are
 * those make check builds (examples/, tests/integration/, tests/unit/),
 * found through $top_builddir; without them the suite is skipped (77). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "kernels/kernels.h"
#include "kernels/plugin.h"
#include "mpibatch/job.h"
#include "unit.h"

static char example[4096], bad_abi[4096], incomplete[4096];

/* Load name from lib, expecting MB_ERR_USAGE and a message holding the
 * two pieces given (the second may be NULL). */
static void assert_refused(const char *lib, const char *name, const char *a, const char *b)
{
    const mb_kernel *k = (const mb_kernel *)1;
    ck_assert_int_eq(mb_plugin_load(lib, name, &k), MB_ERR_USAGE);
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(mb_error_message(), a) && (!b || strstr(mb_error_message(), b)),
                  "'%s' lacks '%s' or '%s'", mb_error_message(), a, b ? b : "");
}

START_TEST(example_kernel_loads_once)
{
    const mb_kernel *k, *again;
    ck_assert_int_eq(mb_plugin_load(example, "mcpi", &k), MB_OK);
    ck_assert_str_eq(k->name, "mcpi");
    ck_assert_ptr_nonnull(k->setup);
    ck_assert_ptr_nonnull(k->ntasks);
    ck_assert_ptr_null(k->open_source);
    ck_assert_int_eq(mb_plugin_load(example, "mcpi", &again), MB_OK);
    ck_assert_ptr_eq(k, again);
    /* A built-in of the same interface is not in the library. */
    assert_refused(example, "euler", "has no kernel 'euler' (symbol mb_kernel_euler)", example);
}
END_TEST

/* The job spec's keys load it, validate its options and run it: the
 * library calls mb_job_int, mb_record_set_str and cJSON from here. */
START_TEST(example_kernel_runs_from_a_job_spec)
{
    char text[4200];
    mb_job job;
    void *state = NULL;
    size_t n;
    double rec[8] = {0};
    char generator[17] = "";
    snprintf(text, sizeof text, "{\"kernel\": \"mcpi\", \"kernel-lib\": \"%s\", \"tasks\": 3, "
             "\"samples\": 1000}", example);
    ck_assert_int_eq(mb_job_from_text(text, "job.json", &job), MB_OK);
    ck_assert_str_eq(job.kernel->name, "mcpi");
    ck_assert_int_eq(mb_job_int(&job, "seed"), 1); /* the plug-in's default */
    ck_assert_int_eq(job.kernel->setup(&job, MPI_COMM_NULL, &state), MB_OK);
    const mb_field *f = job.kernel->fields(state, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(f[2].name, "generator");
    ck_assert_uint_eq(mb_kernel_record_len(f, n), 4);
    ck_assert_uint_eq(job.kernel->ntasks(state), 3);
    ck_assert_int_eq(job.kernel->run(state, 1, (mb_payload){NULL, 0}, rec), MB_OK);
    ck_assert(rec[0] > 0 && rec[0] <= 1000);
    ck_assert_double_eq(rec[1], 4.0 * rec[0] / 1000);
    memcpy(generator, rec + 2, 16);
    ck_assert_str_eq(generator, "splitmix64");
    ck_assert_int_eq(job.kernel->reduce(state, 1, NULL, rec), MB_OK);
    cJSON *result = cJSON_CreateObject();
    ck_assert_int_eq(job.kernel->summarize(state, result), MB_OK);
    ck_assert_double_eq(cJSON_GetObjectItem(result, "samples")->valuedouble, 1000);
    ck_assert_double_eq(cJSON_GetObjectItem(result, "hits")->valuedouble, rec[0]);
    cJSON_Delete(result);
    job.kernel->teardown(state);
    mb_job_free(&job);
    /* Its own options are validated like a built-in's. */
    snprintf(text, sizeof text, "{\"kernel\": \"mcpi\", \"kernel-lib\": \"%s\", \"tasks\": 0}",
             example);
    ck_assert_int_eq(mb_job_from_text(text, "job.json", &job), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "tasks"));
    mb_job_free(&job);
    /* A library that does not load is named with the job file. */
    ck_assert_int_eq(mb_job_from_text("{\"kernel\": \"mcpi\", \"kernel-lib\": \"/no/lib.so\"}",
                                      "job.json", &job), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "job.json: cannot load kernel library"));
    mb_job_free(&job);
}
END_TEST

START_TEST(kernel_names_are_identifiers)
{
    char long_name[80];
    memset(long_name, 'k', 65);
    long_name[65] = '\0';
    assert_refused(example, "mc-pi", "kernel name 'mc-pi' is not a C identifier", NULL);
    assert_refused(example, "", "is not a C identifier", NULL);
    assert_refused(example, long_name, "is not a C identifier of up to 64 characters", NULL);
}
END_TEST

START_TEST(libraries_that_are_not_kernel_libraries)
{
    char missing[4200];
    snprintf(missing, sizeof missing, "%s.missing", example);
    assert_refused(missing, "mcpi", "cannot load kernel library: ", missing);
    /* A shared library without MB_KERNEL_PLUGIN_ABI, found by the loader. */
    assert_refused("libm.so.6", "mcpi", "'libm.so.6' is not an mpibatch kernel library",
                   "mb_plugin_abi_version");
}
END_TEST

START_TEST(another_abi_version_is_refused)
{
    char want[64];
    snprintf(want, sizeof want, "kernel ABI version %u, this mpibatch has version %u",
             MB_KERNEL_ABI_VERSION + 1, MB_KERNEL_ABI_VERSION);
    /* Before its kernel (which lacks setup) is looked at. */
    assert_refused(bad_abi, "future", want, bad_abi);
}
END_TEST

START_TEST(kernels_must_meet_the_interface)
{
    const mb_kernel *k;
    assert_refused(incomplete, "nosetup", "kernel 'nosetup' in", "has no 'setup'");
    assert_refused(incomplete, "misnamed", "mb_kernel_misnamed in", "calls itself 'other'");
    assert_refused(incomplete, "both", "needs exactly one of 'ntasks' and 'open_source'", NULL);
    assert_refused(incomplete, "neither", "needs exactly one of 'ntasks' and 'open_source'",
                   incomplete);
    ck_assert_int_eq(mb_plugin_load(incomplete, "whole", &k), MB_OK);
    ck_assert_str_eq(k->name, "whole");
}
END_TEST

/* $top_builddir/rel into out; 0 if it is not there. */
static int built(char *out, size_t cap, const char *rel)
{
    const char *top = getenv("top_builddir");
    snprintf(out, cap, "%s/%s", top ? top : ".", rel);
    return access(out, R_OK) == 0;
}

int main(void)
{
    if (!built(example, sizeof example, "examples/libmbexample.so") ||
        !built(bad_abi, sizeof bad_abi, "tests/integration/libmbbadabi.so") ||
        !built(incomplete, sizeof incomplete, "tests/unit/libmbincomplete.so")) {
        fprintf(stderr, "test_plugin: %s is not built (make check builds it): skipped\n",
                access(example, R_OK) ? example : access(bad_abi, R_OK) ? bad_abi : incomplete);
        return 77;
    }
    Suite *s = suite_create("plugin");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, example_kernel_loads_once);
    tcase_add_test(tc, example_kernel_runs_from_a_job_spec);
    tcase_add_test(tc, kernel_names_are_identifiers);
    tcase_add_test(tc, libraries_that_are_not_kernel_libraries);
    tcase_add_test(tc, another_abi_version_is_refused);
    tcase_add_test(tc, kernels_must_meet_the_interface);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
