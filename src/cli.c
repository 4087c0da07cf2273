/* cli.c - subcommands and flags, turned into one JSON job spec. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli.h"
#include "commands/commands.h"
#include "io/transfer.h"
#include "kernels/kernels.h"
#include "mpibatch/job.h"
#include "kernels/plugin.h"
#include "stage.h"
#include "io/url.h"
#include "optparse.h"

static void print_usage(FILE *fp)
{
    const mb_kernel *const *k = mb_kernel_registry();
    fputs("Usage: mpirun -n RANKS mpibatch KERNEL [OPTIONS]\n"
          "       mpirun -n RANKS mpibatch run JOB.json [OPTIONS]\n"
          "       mpirun -n RANKS mpibatch --kernel-lib LIB --kernel NAME [OPTIONS]\n"
          "       mpibatch help [KERNEL] | --help | --version\n\n"
          "Runs a batch of independent tasks across the ranks of an MPI job, gathers\n"
          "the results to rank 0 in task order and writes them to HDF5 and JSON.\n\n"
          "Kernels:\n", fp);
    for (; *k; k++)
        fprintf(fp, "  %-8s %s\n", (*k)->name, (*k)->summary);
    fputs("\nCommands:\n"
          "  run      FILE: run the JSON job spec in FILE; flags after it override its keys\n", fp);
    for (const mb_command *const *c = mb_command_registry(); *c; c++)
        fprintf(fp, "  %-8s %s\n", (*c)->name, (*c)->summary);
    fputs("  help     this text, or `help NAME` for a kernel's or command's options\n"
          "  version  print the version\n\n"
          "Options of every kernel (also keys of the JSON job spec):\n", fp);
    mb_options_print_help(mb_job_options, fp);
    fputs("\nPlug-in kernels (first on the command line; see `Writing a kernel' in the guide):\n",
          fp);
    mb_options_print_help(mb_plugin_options, fp);
    fputs("\nExit status: 0 all tasks succeeded, 1 some tasks failed, 2 usage or job-spec\n"
          "error, 3 input or I/O error, 4 MPI or internal error.\n"
          "See mpibatch(1) and docs/user-guide.md.\n", fp);
}

static void print_kernel_help(const mb_kernel *k, FILE *fp)
{
    fprintf(fp, "Usage: mpirun -n RANKS mpibatch %s [OPTIONS]\n\n%s\n\n", k->name, k->summary);
    fprintf(fp, "Options of %s (JSON keys of a job spec with \"kernel\": \"%s\"):\n",
            k->name, k->name);
    mb_options_print_help(k->options, fp);
    fputs("\nOptions of every kernel:\n", fp);
    mb_options_print_help(mb_job_options, fp);
    fputs("\nStorage options (paths may be URLs: docs/storage.md):\n", fp);
    mb_options_print_help(mb_url_options, fp);
}

/* Where positional arguments go: up to max of them into list. */
typedef struct operands {
    const char **list;
    int max, n;
} operands;

/* Apply --name VALUE / --name=VALUE / --bool flags from argv[i..] to spec;
 * cmd names the kernel or command, for messages.  Other arguments are
 * operands, refused when ops is NULL or full. */
static mb_err apply_flags(cJSON *spec, const char *cmd, const mb_option *const *tables,
                          int argc, char **argv, int i, operands *ops)
{
    for (; i < argc; i++) {
        const char *arg = argv[i], *eq, *value;
        char name[64];
        cJSON *v;
        mb_err rc;
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            if (!ops || ops->n == ops->max)
                return mb_error_set(MB_ERR_USAGE, "unexpected argument '%s'", arg);
            ops->list[ops->n++] = arg;
            continue;
        }
        eq = strchr(arg, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - arg - 2 : (long)strlen(arg + 2)), arg + 2);
        const mb_option *o = mb_options_find(tables, name);
        if (!o) {
            const char *near = mb_options_suggest(tables, NULL, name);
            if (near)
                return mb_error_set(MB_ERR_USAGE, "unknown option --%s for '%s' (did you mean "
                                    "--%s? see mpibatch help %s)", name, cmd, near, cmd);
            return mb_error_set(MB_ERR_USAGE, "unknown option --%s for '%s' (see mpibatch help %s)",
                                name, cmd, cmd);
        }
        if (eq)
            value = eq + 1;
        else if (o->type == MB_OPT_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return mb_error_set(MB_ERR_USAGE, "option --%s needs a value", name);
        if ((rc = mb_options_parse_flag(o, value, &v)) != MB_OK)
            return rc;
        cJSON_DeleteItemFromObjectCaseSensitive(spec, name); /* the last one given wins */
        cJSON_AddItemToObject(spec, name, v);
    }
    return MB_OK;
}

/* Read the job file at path (shown to users as `name`). */
static mb_err read_file(const char *path, const char *name, char **text)
{
    FILE *fp = fopen(path, "rb");
    size_t len = 0, cap = 4096, n;
    char *buf = NULL;
    if (!fp)
        return mb_error_set(MB_ERR_INPUT, "cannot read job file '%s': %s", name, strerror(errno));
    for (;;) {
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            fclose(fp);
            return mb_error_set(MB_ERR_NOMEM, "out of memory reading '%s'", name);
        }
        buf = nb;
        len += n = fread(buf + len, 1, cap - len, fp);
        if (len < cap)
            break;
        cap *= 2;
    }
    int bad = ferror(fp) || memchr(buf, '\0', len) != NULL;
    fclose(fp);
    buf[len] = '\0';
    if (bad) {
        free(buf);
        return mb_error_set(MB_ERR_INPUT, "cannot read job file '%s': read error or NUL byte", name);
    }
    *text = buf;
    return MB_OK;
}

/* Whether the option names a file or folder (by its placeholder). */
static int is_path_option(const mb_option *o)
{
    return o->type == MB_OPT_STR && o->meta &&
           (!strcmp(o->meta, "FILE") || !strcmp(o->meta, "DIR") || !strcmp(o->meta, "LIB"));
}

/* Make the string item, a path relative to the job file, relative to the
 * current directory instead: dir/path.  Absolute paths, URLs and paths
 * of a job file in the current directory stay as they are. */
static mb_err rebase_path(cJSON *item, const char *dir, size_t dirlen)
{
    const char *p = item->valuestring;
    char *joined;
    if (dirlen == 0 || p[0] == '/' || p[0] == '\0' || mb_url_is_remote(p))
        return MB_OK;
    if (!(joined = malloc(dirlen + strlen(p) + 2)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    sprintf(joined, "%.*s/%s", (int)dirlen, dir, p);
    free(item->valuestring);
    item->valuestring = joined;
    return MB_OK;
}

/* The job file's folder, as a prefix of path: its length, 0 when the
 * file is in the current directory or at a URL (whose paths stay as they
 * are: relative to the current directory). */
static size_t job_dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (mb_url_is_remote(path) || !slash)
        return 0;
    return slash == path ? 1 : (size_t)(slash - path);
}

/* `run FILE`: the spec in the file, its paths relative to the file.  The
 * plug-in library is rebased before the spec is validated (which loads
 * it), the kernel's path options after. */
static mb_err job_from_file_text(const char *text, const char *path, mb_job *job)
{
    size_t dirlen = job_dir_len(path);
    cJSON *spec = cJSON_ParseWithOpts(text, NULL, 1), *item, *lib;
    mb_err rc = MB_OK;
    memset(job, 0, sizeof *job);
    if (!spec) /* for the message with the line and column */
        return mb_job_from_text(text, path, job);
    lib = cJSON_GetObjectItemCaseSensitive(spec, "kernel-lib");
    if (cJSON_IsString(lib) && (rc = rebase_path(lib, path, dirlen)) != MB_OK) {
        cJSON_Delete(spec);
        return rc;
    }
    if ((rc = mb_job_from_spec(spec, path, job)) != MB_OK) /* it owns spec now */
        return rc;
    const mb_option *const tables[] = {job->kernel->options, mb_job_options, mb_url_options, NULL};
    cJSON_ArrayForEach(item, spec) {
        const mb_option *o = mb_options_find(tables, item->string);
        if (o && is_path_option(o) && cJSON_IsString(item) &&
            (rc = rebase_path(item, path, dirlen)) != MB_OK)
            break;
    }
    return rc;
}

/* `run FILE [flags]`: the file's spec, then the flags on top (their paths
 * relative to the current directory, as on any command line). */
static mb_err spec_from_file(int argc, char **argv, cJSON **spec)
{
    char *text = NULL;
    mb_job probe;
    mb_err rc;
    if (argc < 3)
        return mb_error_set(MB_ERR_USAGE, "'run' needs a job file: mpibatch run JOB.json");
    mb_url_opts o;
    mb_staged job;
    mb_url_opts_default(&o);
    rc = mb_stage_input(&job, argv[2], &o);
    if (rc == MB_OK)
        rc = read_file(job.local, argv[2], &text);
    mb_stage_release(&job);
    if (rc != MB_OK)
        return rc;
    rc = job_from_file_text(text, argv[2], &probe); /* validates the file alone first */
    free(text);
    if (rc != MB_OK) {
        mb_job_free(&probe);
        return rc;
    }
    *spec = probe.spec;
    const mb_option *const tables[] = {probe.kernel->options, mb_job_options, mb_url_options, NULL};
    return apply_flags(*spec, probe.kernel->name, tables, argc, argv, 3, NULL);
}

/* Flags from argv[first..] for kernel k; lib is the plug-in library or NULL. */
static mb_err spec_from_flags(const mb_kernel *k, const char *lib, int argc, char **argv,
                              int first, cJSON **spec)
{
    if (!(*spec = cJSON_CreateObject()))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(*spec, "kernel", k->name);
    if (lib)
        cJSON_AddStringToObject(*spec, "kernel-lib", lib);
    const mb_option *const tables[] = {k->options, mb_job_options, mb_url_options, NULL};
    return apply_flags(*spec, k->name, tables, argc, argv, first, NULL);
}

/* The value of argv[*i] if it is the flag --name (as --name V or
 * --name=V), advancing *i past it; NULL otherwise. */
static const char *leading_flag(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
        return NULL;
    if (a[2 + n] == '=') {
        ++*i;
        return a + 3 + n;
    }
    if (a[2 + n] != '\0' || *i + 1 >= argc)
        return NULL;
    *i += 2;
    return argv[*i - 1];
}

/* `--kernel-lib LIB --kernel NAME [flags]`: rank 0 loads the library here
 * for the kernel's options; every rank loads it again from the spec. */
static mb_err plugin_kernel(int argc, char **argv, const mb_kernel **k, const char **lib,
                            int *first)
{
    const char *name = NULL, *v;
    int i = 1;
    *lib = NULL;
    for (;;) {
        if (i < argc && (v = leading_flag(argc, argv, &i, "kernel-lib")))
            *lib = v;
        else if (i < argc && (v = leading_flag(argc, argv, &i, "kernel")))
            name = v;
        else
            break;
    }
    if (!*lib || !name)
        return mb_error_set(MB_ERR_USAGE, "a plug-in kernel needs both --kernel-lib LIB and "
                            "--kernel NAME, before its other options");
    *first = i;
    return mb_plugin_load(*lib, name, k);
}

static int is_help(const char *a)
{
    return !strcmp(a, "help") || !strcmp(a, "--help") || !strcmp(a, "-h");
}

static mb_err help(int argc, char **argv, FILE *out)
{
    const mb_kernel *k;
    const mb_command *c;
    if (argc < 3)
        print_usage(out);
    else if ((k = mb_kernel_find(argv[2])))
        print_kernel_help(k, out);
    else if ((c = mb_command_find(argv[2])))
        c->help(out);
    else
        return mb_error_set(MB_ERR_USAGE, "no help for unknown kernel or command '%s'", argv[2]);
    return MB_OK;
}

mb_err mb_cli_command_spec(int argc, char **argv, const mb_option *const *tables, cJSON **spec,
                           const char **list, int max, int *n)
{
    operands ops = {list, max, 0};
    mb_err rc;
    if (!(*spec = cJSON_CreateObject()))
        return mb_error_set(MB_ERR_NOMEM, "out of memory");
    rc = apply_flags(*spec, argv[0], tables, argc, argv, 1, list ? &ops : NULL);
    if (n)
        *n = ops.n;
    if (rc == MB_OK)
        rc = mb_options_validate(*spec, tables, NULL, "command line");
    if (rc != MB_OK) {
        cJSON_Delete(*spec);
        *spec = NULL;
    }
    return rc;
}

mb_err mb_cli_parse(int argc, char **argv, FILE *out, char **spec_text, int *done)
{
    const mb_kernel *k;
    cJSON *spec = NULL;
    mb_job job;
    mb_err rc;
    *spec_text = NULL;
    *done = 1;
    if (argc < 2)
        return mb_error_set(MB_ERR_USAGE, "no kernel or command given (try mpibatch --help)");
    if (is_help(argv[1]))
        return help(argc, argv, out);
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        fprintf(out, "mpibatch %s\n", PACKAGE_VERSION);
        return MB_OK;
    }
    *done = 0;
    if (!strcmp(argv[1], "run"))
        rc = spec_from_file(argc, argv, &spec);
    else if ((k = mb_kernel_find(argv[1])) || !strncmp(argv[1], "--kernel", 8)) {
        const char *lib = NULL;
        int first = 2;
        if (!k && (rc = plugin_kernel(argc, argv, &k, &lib, &first)) != MB_OK)
            return rc;
        for (int i = first; i < argc; i++)
            if (is_help(argv[i]) && argv[i][0] == '-') {
                print_kernel_help(k, out);
                *done = 1;
                return MB_OK;
            }
        rc = spec_from_flags(k, lib, argc, argv, first, &spec);
    } else
        return mb_error_set(MB_ERR_USAGE, "unknown kernel or command '%s' (try mpibatch --help)",
                            argv[1]);
    if (rc != MB_OK) {
        cJSON_Delete(spec);
        return rc;
    }
    /* Validate the combined spec exactly as every rank will. */
    if ((rc = mb_job_from_spec(spec, "command line", &job)) == MB_OK &&
        !(*spec_text = mb_job_to_text(&job)))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    mb_job_free(&job);
    return rc;
}
