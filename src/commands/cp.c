/* cp.c - `mpibatch cp SRC DST`: copy between local files and URLs.
 *
 * For staging in batch scripts (Slurm, Azure Batch start tasks) with the
 * same schemes, credentials and retries as the path options of a job.
 * Under mpirun only rank 0 transfers; the others wait for the outcome.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "comm.h"
#include "commands/commands.h"
#include "io/url.h"
#include "io/transfer.h"
#include "optparse.h"

static void cp_help(FILE *fp)
{
    fputs("Usage: mpibatch cp [OPTIONS] SRC DST\n\n"
          "Copies SRC to DST, each a local file or a URL: http://, https:// (an Azure\n"
          "blob with a SAS), s3://BUCKET/KEY, az://ACCOUNT/CONTAINER/BLOB,\n"
          "gs://BUCKET/OBJECT.  Credentials come from the environment (see\n"
          "docs/storage.md); secrets are never printed.  Under mpirun only rank 0\n"
          "copies.\n\nOptions:\n", fp);
    mb_options_print_help(mb_url_options, fp);
    fputs("\nExit status: 0 copied, 2 usage error, 3 transfer failed.\n", fp);
}

static bool is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* Flags anywhere, exactly two operands. */
static mb_err parse(int argc, char **argv, mb_url_opts *o, const char **src, const char **dst)
{
    const mb_option *const tables[] = {mb_url_options, NULL};
    const char *operands[2];
    int n = 0;
    cJSON *spec = NULL;
    mb_err rc = mb_cli_command_spec(argc, argv, tables, &spec, operands, 2, &n);
    if (rc == MB_ERR_USAGE && strncmp(mb_error_message(), "unexpected argument", 19) == 0)
        rc = mb_error_set(MB_ERR_USAGE, "cp takes two operands, SRC and DST");
    if (rc == MB_OK && n != 2)
        rc = mb_error_set(MB_ERR_USAGE, "cp needs SRC and DST: mpibatch cp [OPTIONS] SRC DST");
    if (rc == MB_OK) {
        mb_url_opts_from_spec(spec, o);
        *src = operands[0];
        *dst = operands[1];
    }
    cJSON_Delete(spec);
    return rc;
}

/* URL to URL: through a temporary file, removed whatever happens. */
static mb_err relay(const char *src, const char *dst, const mb_url_opts *o, uint64_t *bytes)
{
    char tmp[4096];
    const char *dir = getenv("TMPDIR");
    int fd;
    mb_err rc;
    snprintf(tmp, sizeof tmp, "%s/mpibatch-cp.XXXXXX", dir && *dir ? dir : "/tmp");
    if ((fd = mkstemp(tmp)) < 0)
        return mb_error_set(MB_ERR_IO, "cannot create a temporary file in %s: %s",
                            dir && *dir ? dir : "/tmp", strerror(errno));
    close(fd);
    rc = mb_url_fetch(src, tmp, o, bytes);
    if (rc == MB_OK)
        rc = mb_url_put(tmp, dst, o);
    unlink(tmp);
    return rc;
}

static mb_err copy(const char *src, const char *dst, const mb_url_opts *o, uint64_t *bytes)
{
    struct stat st;
    if (!mb_url_is_remote(dst))
        return mb_url_fetch(src, dst, o, bytes);
    if (mb_url_is_remote(src))
        return relay(src, dst, o, bytes);
    if (stat(src, &st) == 0)
        *bytes = (uint64_t)st.st_size;
    return mb_url_put(src, dst, o);
}

/* "copied N bytes from SRC to DST" with both names redacted. */
static void print_done(const char *src, const char *dst, uint64_t bytes)
{
    char *s = mb_url_redacted(src), *d = mb_url_redacted(dst);
    printf("mpibatch cp: copied %llu bytes from %s to %s\n", (unsigned long long)bytes,
           s ? s : "?", d ? d : "?");
    free(s);
    free(d);
}

static int cp_main(int argc, char **argv, MPI_Comm comm)
{
    mb_url_opts o;
    const char *src = NULL, *dst = NULL;
    uint64_t bytes = 0;
    int rank = 0;
    mb_err rc;
    MPI_Comm_rank(comm, &rank);
    for (int i = 1; i < argc; i++)
        if (is_help(argv[i])) {
            if (rank == 0)
                cp_help(stdout);
            return MB_EXIT_OK;
        }
    /* Every rank parses (same argv), so all agree on usage errors. */
    rc = parse(argc, argv, &o, &src, &dst);
    if (rc == MB_OK && rank == 0)
        rc = copy(src, dst, &o, &bytes);
    rc = mb_comm_agree(comm, rc);
    if (rank == 0) {
        if (rc == MB_OK)
            print_done(src, dst, bytes);
        else
            fprintf(stderr, "mpibatch: %s\n%s", mb_error_message(),
                    rc == MB_ERR_USAGE ? "Try 'mpibatch help cp' for usage.\n" : "");
    }
    return mb_error_exit_status(rc);
}

const mb_command mb_command_cp = {
    .name = "cp",
    .summary = "SRC DST: copy between files and URLs (http, https, s3, az, gs)",
    .main = cp_main,
    .help = cp_help,
};
