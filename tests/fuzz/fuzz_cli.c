/* fuzz_cli.c - the command line: the input is argv[1..], NUL-separated.
 * A line that parses gives a spec that mb_job_from_text accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpibatch/job.h"
#include "fuzz.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), *argv[MAX_ARGS + 2], *spec = NULL;
    int argc = 0, done = 0;
    FILE *out = fopen("/dev/null", "w");
    fuzz_check(out != NULL, "cannot open /dev/null");
    argv[argc++] = (char *)"mpibatch";
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i += strlen(text + i) + 1)
        argv[argc++] = text + i;
    argv[argc] = NULL;
    if (mb_cli_parse(argc, argv, out, &spec, &done) == MB_OK && !done) {
        mb_job job;
        fuzz_check(spec != NULL, "no spec from a successful parse");
        fuzz_check(mb_job_from_text(spec, "cli", &job) == MB_OK,
                   "the parsed command line gives a spec that does not validate");
        mb_job_free(&job);
    }
    mb_error_clear();
    free(spec);
    fclose(out);
    free(text);
    return 0;
}
