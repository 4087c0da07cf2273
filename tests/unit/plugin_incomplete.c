/* plugin_incomplete.c - a kernel library of the right ABI version whose
 * kernels each break one rule that mpibatch checks when it loads a kernel
 * (test_plugin): no setup, a name other than its symbol's, both or
 * neither of ntasks and open_source. */
#include <mpibatch/kernel.h>

MB_KERNEL_PLUGIN_ABI;

static const mb_option no_options[] = {{0}};

static mb_err setup(const struct mb_job *job, MPI_Comm comm, void **state)
{
    *state = NULL;
    return MB_OK;
}

static const mb_field *fields(void *state, size_t *n)
{
    *n = 0;
    return NULL;
}

static uint64_t ntasks(void *state)
{
    return 1;
}

static mb_err open_source(void *state, const struct mb_job *job, struct mb_source *src)
{
    return MB_OK;
}

static mb_err run(void *state, uint64_t task, mb_payload payload, double *record)
{
    return MB_OK;
}

static void teardown(void *state)
{
}

#define ALL_BUT_SETUP(NAME) .name = NAME, .summary = "a test kernel", .options = no_options, \
    .fields = fields, .run = run, .teardown = teardown
#define COMPLETE(NAME) ALL_BUT_SETUP(NAME), .setup = setup

extern const mb_kernel mb_kernel_nosetup, mb_kernel_misnamed, mb_kernel_both,
    mb_kernel_neither, mb_kernel_whole;
const mb_kernel mb_kernel_nosetup = {ALL_BUT_SETUP("nosetup"), .ntasks = ntasks};
const mb_kernel mb_kernel_misnamed = {COMPLETE("other"), .ntasks = ntasks};
const mb_kernel mb_kernel_both = {COMPLETE("both"), .ntasks = ntasks, .open_source = open_source};
const mb_kernel mb_kernel_neither = {COMPLETE("neither")};
/* The rules are met: it loads. */
const mb_kernel mb_kernel_whole = {COMPLETE("whole"), .open_source = open_source};
