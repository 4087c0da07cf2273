/* fuzz_job.c - the JSON job spec (a job file or the broadcast spec).
 * A spec that validates must print back to text that validates to the
 * same text: the canonical spec is what rank 0 broadcasts.  The job owns
 * the spec whatever the outcome, so it is freed on failure too. */
#include <stdlib.h>
#include <string.h>

#include "mpibatch/job.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    mb_job job;
    if (mb_job_from_text(text, "fuzz.json", &job) == MB_OK) {
        char *canon = mb_job_to_text(&job), *again;
        mb_job job2;
        fuzz_check(canon != NULL, "mb_job_to_text failed");
        fuzz_check(mb_job_from_text(canon, "canonical", &job2) == MB_OK,
                   "the canonical spec does not validate");
        again = mb_job_to_text(&job2);
        fuzz_check(again && strcmp(canon, again) == 0, "the canonical spec is not stable");
        free(again);
        free(canon);
        mb_job_free(&job2);
    }
    mb_job_free(&job);
    mb_error_clear();
    free(text);
    return 0;
}
