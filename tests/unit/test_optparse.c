/* test_optparse.c - option tables, flag parsing and job-spec validation. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "mpibatch/error.h"
#include "mpibatch/job.h"
#include "mpibatch/options.h"
#include "io/transfer.h"
#include "unit.h"
#include "optparse.h"

static mb_err job_of(const char *text, mb_job *job)
{
    return mb_job_from_text(text, "t.json", job);
}

START_TEST(defaults_are_filled)
{
    mb_job job;
    ck_assert_int_eq(job_of("{\"kernel\":\"euler\"}", &job), MB_OK);
    ck_assert_int_eq(mb_job_int(&job, "terms"), 1000000000);
    ck_assert_int_eq(mb_job_int(&job, "blocks"), 100);
    ck_assert_int_eq(job.schedule, MB_SCHEDULE_DYNAMIC);
    ck_assert_ptr_null(job.out);
    ck_assert(!job.quiet);
    mb_job_free(&job);
}
END_TEST

START_TEST(values_are_read)
{
    mb_job job;
    ck_assert_int_eq(job_of("{\"kernel\":\"sleep\",\"tasks\":7,\"seconds\":0.5,"
                            "\"schedule\":\"static\",\"chunk\":3,\"out\":\"o.h5\",\"quiet\":true}",
                            &job), MB_OK);
    ck_assert_int_eq(mb_job_int(&job, "tasks"), 7);
    ck_assert(mb_job_num(&job, "seconds") == 0.5);
    ck_assert_int_eq(job.schedule, MB_SCHEDULE_STATIC);
    ck_assert_int_eq(job.chunk, 3);
    ck_assert_str_eq(job.out, "o.h5");
    ck_assert(job.quiet);
    mb_job_free(&job);
}
END_TEST

/* Each bad spec must fail as a usage error whose message names the key. */
static const struct { const char *spec, *needle; } bad[] = {
    {"{\"kernel\":\"euler\",\"termz\":5}", "unknown key 'termz'"},
    {"{\"kernel\":\"euler\",\"terms\":\"5\"}", "'terms' must be an integer"},
    {"{\"kernel\":\"euler\",\"terms\":0}", "'terms' must be between"},
    {"{\"kernel\":\"euler\",\"terms\":-4}", "'terms' must be between"},
    {"{\"kernel\":\"euler\",\"terms\":2.5}", "'terms' must be a whole number"},
    {"{\"kernel\":\"euler\",\"terms\":1e400}", "'terms'"},
    {"{\"kernel\":\"euler\",\"schedule\":\"guided\"}", "'schedule' is 'guided'"},
    {"{\"kernel\":\"euler\",\"quiet\":1}", "'quiet' must be true or false"},
    {"{\"kernel\":\"nope\"}", "unknown kernel 'nope'"},
    {"{\"terms\":5}", "key 'kernel'"},
    {"[1,2]", "must be a JSON object"},
    {"{\"kernel\":\"euler\",", "t.json:1:"},
    {"{\"kernel\":\"sleep\",\"seconds\":-1}", "'seconds' must be between"},
};

START_TEST(bad_specs_name_the_key)
{
    mb_job job;
    mb_error_clear();
    ck_assert_int_eq(job_of(bad[_i].spec, &job), MB_ERR_USAGE);
    ck_assert_msg(strstr(mb_error_message(), bad[_i].needle) != NULL,
                  "spec %s: message '%s' lacks '%s'", bad[_i].spec, mb_error_message(),
                  bad[_i].needle);
    mb_job_free(&job);
}
END_TEST

START_TEST(flags_parse_by_type)
{
    const mb_option *const tables[] = {mb_job_options, NULL};
    const mb_option *chunk = mb_options_find(tables, "chunk");
    cJSON *v = NULL;
    ck_assert_ptr_nonnull(chunk);
    ck_assert_int_eq(mb_options_parse_flag(chunk, "1e3", &v), MB_OK);
    ck_assert(v->valuedouble == 1000);
    cJSON_Delete(v);
    ck_assert_int_eq(mb_options_parse_flag(chunk, "12abc", &v), MB_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(mb_error_message(), "--chunk"));
    ck_assert_int_eq(mb_options_parse_flag(chunk, "1.5", &v), MB_ERR_USAGE);
    ck_assert_int_eq(mb_options_parse_flag(chunk, "-1", &v), MB_ERR_USAGE);
    ck_assert_ptr_null(mb_options_find(tables, "terms"));
}
END_TEST

START_TEST(spec_round_trips)
{
    mb_job a, b;
    char *text;
    ck_assert_int_eq(job_of("{\"kernel\":\"euler\",\"terms\":1000000000000,\"blocks\":7}", &a), MB_OK);
    text = mb_job_to_text(&a);
    ck_assert_int_eq(mb_job_from_text(text, "copy", &b), MB_OK);
    ck_assert_int_eq(mb_job_int(&b, "terms"), 1000000000000LL);
    ck_assert(cJSON_Compare(a.spec, b.spec, 1));
    free(text);
    mb_job_free(&a);
    mb_job_free(&b);
}
END_TEST

START_TEST(default_chunks)
{
    mb_job job;
    ck_assert_int_eq(job_of("{\"kernel\":\"sleep\"}", &job), MB_OK);
    mb_job_set_chunk(&job, 100, 2);          /* few tasks: one at a time */
    ck_assert_int_eq(job.chunk, 1);
    job.chunk = 0;
    mb_job_set_chunk(&job, 1280000, 2);      /* 64 chunks per rank: 10000, capped */
    ck_assert_int_eq(job.chunk, 1024);
    ck_assert_int_eq(mb_job_int(&job, "chunk"), 1024); /* recorded in the spec */
    job.chunk = 0;
    job.schedule = MB_SCHEDULE_STATIC;
    mb_job_set_chunk(&job, 101, 4);          /* one block per rank */
    ck_assert_int_eq(job.chunk, 26);
    job.chunk = 5;
    mb_job_set_chunk(&job, 101, 4);          /* the user's choice stands */
    ck_assert_int_eq(job.chunk, 5);
    job.chunk = 0;
    mb_job_set_chunk(&job, 0, 4);            /* streamed input: the measured best */
    ck_assert_int_eq(job.chunk, 32);
    mb_job_free(&job);
}
END_TEST

/* Wrapping the last message with context must keep it (the formatter
 * reads the buffer it writes). */
START_TEST(errors_wrap_the_last_message)
{
    mb_error_set(MB_ERR_INPUT, "missing \"abstract\"");
    ck_assert_int_eq(mb_error_set(MB_ERR_INPUT, "line %d: %s", 7, mb_error_message()), MB_ERR_INPUT);
    ck_assert_str_eq(mb_error_message(), "line 7: missing \"abstract\"");
    ck_assert_int_eq(mb_error_exit_status(MB_ERR_INPUT), 3);
    ck_assert_int_eq(mb_error_exit_status(MB_ERR_TASKS), 1);
    ck_assert_int_eq(mb_error_exit_status(MB_ERR_USAGE), 2);
    ck_assert_int_eq(mb_error_exit_status(MB_ERR_MPI), 4);
}
END_TEST

/* A key must mean one option: no kernel may reuse a common option's name
 * (exec's --timeout once also set the URL transfer timeout). */
START_TEST(no_option_is_defined_twice)
{
    const mb_option two[] = {{.name = "chunk", .type = MB_OPT_INT, .help = "x"}, {0}};
    const mb_option *const clashing[] = {mb_job_options, two, NULL};
    ck_assert_str_eq(mb_options_clash(clashing), "chunk");
    for (const mb_kernel *const *k = mb_kernel_registry(); *k; k++) {
        const mb_option *const tables[] = {mb_job_options, (*k)->options, mb_url_options, NULL};
        const char *clash = mb_options_clash(tables);
        ck_assert_msg(clash == NULL, "kernel %s: option '%s' defined twice", (*k)->name, clash);
    }
}
END_TEST

/* Misspellings get the nearest option; far-off names get none. */
START_TEST(suggestions_for_misspellings)
{
    const mb_option *const tables[] = {mb_job_options, mb_url_options, NULL};
    const char *const extra[] = {"kernel", "kernel-lib", NULL};
    ck_assert_str_eq(mb_options_suggest(tables, NULL, "retry"), "retries");
    ck_assert_str_eq(mb_options_suggest(tables, NULL, "shedule"), "schedule");
    ck_assert_str_eq(mb_options_suggest(tables, NULL, "chnuk"), "chunk");
    ck_assert_str_eq(mb_options_suggest(tables, extra, "kernl"), "kernel");
    ck_assert_ptr_null(mb_options_suggest(tables, NULL, "zzzzzz"));
    ck_assert_ptr_null(mb_options_suggest(tables, NULL, "x"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_are_filled);
    tcase_add_test(tc, values_are_read);
    tcase_add_loop_test(tc, bad_specs_name_the_key, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, flags_parse_by_type);
    tcase_add_test(tc, spec_round_trips);
    tcase_add_test(tc, default_chunks);
    tcase_add_test(tc, errors_wrap_the_last_message);
    tcase_add_test(tc, no_option_is_defined_twice);
    tcase_add_test(tc, suggestions_for_misspellings);
    suite_add_tcase(s, tc);
    return mb_test_run(s);
}
