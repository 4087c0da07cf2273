/* plugin.c - find a kernel in a shared library and check it can run. */
#define _GNU_SOURCE /* dlopen flags on older C libraries */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "kernels/plugin.h"

const mb_option mb_plugin_options[] = {
    {.name = "kernel-lib", .type = MB_OPT_STR, .meta = "LIB",
     .help = "shared library holding a plug-in kernel, loaded on every rank"},
    {.name = "kernel", .type = MB_OPT_STR, .meta = "NAME",
     .help = "the plug-in kernel to run: the library's symbol mb_kernel_NAME"},
    {0}
};

/* Kernel names become part of a symbol name. */
static int valid_name(const char *name)
{
    if (!*name || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

/* What the driver calls without checking: refuse a kernel lacking it. */
static mb_err check_kernel(const mb_kernel *k, const char *path, const char *name)
{
    const char *missing = !k->name ? "name" : !k->summary ? "summary" : !k->options ? "options"
                        : !k->setup ? "setup" : !k->fields ? "fields" : !k->run ? "run"
                        : !k->teardown ? "teardown" : NULL;
    if (missing)
        return mb_error_set(MB_ERR_USAGE, "kernel '%s' in '%s' has no '%s' (see kernel.h)", name,
                            path, missing);
    if (strcmp(k->name, name) != 0)
        return mb_error_set(MB_ERR_USAGE, "mb_kernel_%s in '%s' calls itself '%s', not '%s'", name,
                            path, k->name, name);
    if (!k->ntasks == !k->open_source)
        return mb_error_set(MB_ERR_USAGE,
                            "kernel '%s' in '%s' needs exactly one of 'ntasks' and 'open_source'",
                            name, path);
    if (!k->slots != !k->start || !k->start != !k->wait)
        return mb_error_set(MB_ERR_USAGE,
                            "kernel '%s' in '%s' needs all of 'slots', 'start' and 'wait' or none",
                            name, path);
    return MB_OK;
}

mb_err mb_plugin_load(const char *path, const char *name, const mb_kernel **k)
{
    char symbol[80];
    *k = NULL;
    if (!valid_name(name))
        return mb_error_set(MB_ERR_USAGE, "kernel name '%s' is not a C identifier of up to 64 "
                            "characters", name);
    /* RTLD_NOW: a call to an mpibatch function this program lacks fails
     * here, with the loader's message, rather than in the middle of a job. */
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return mb_error_set(MB_ERR_USAGE, "cannot load kernel library: %s", dlerror());
    const unsigned *abi = dlsym(lib, "mb_plugin_abi_version");
    mb_err rc = MB_OK;
    if (!abi)
        rc = mb_error_set(MB_ERR_USAGE, "'%s' is not an mpibatch kernel library: it lacks "
                          "MB_KERNEL_PLUGIN_ABI (symbol mb_plugin_abi_version)", path);
    else if (*abi != MB_KERNEL_ABI_VERSION)
        rc = mb_error_set(MB_ERR_USAGE, "'%s' was built for kernel ABI version %u, this mpibatch "
                          "has version %u: rebuild it against this mpibatch's headers", path,
                          *abi, MB_KERNEL_ABI_VERSION);
    snprintf(symbol, sizeof symbol, "mb_kernel_%s", name);
    if (rc == MB_OK && !(*k = dlsym(lib, symbol)))
        rc = mb_error_set(MB_ERR_USAGE, "'%s' has no kernel '%s' (symbol %s)", path, name, symbol);
    if (rc == MB_OK)
        rc = check_kernel(*k, path, name);
    if (rc != MB_OK) {
        *k = NULL;
        dlclose(lib);
    }
    return rc;
}
