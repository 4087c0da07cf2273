/* import.c - the import command: JSON lines to an HDF5 document store. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli.h"
#include "io/transfer.h"
#include "mpibatch/clock.h"
#include "docstore.h"
#include "commands/commands.h"
#include "report.h"
#include "source_lines.h"
#include "stage.h"
#include "io/url.h"
#include "optparse.h"

#define READ_BLOCK 1024  /* lines per read */
#define KEEP 100         /* failures listed in the report */

static const mb_option import_options[] = {
    {.name = "input", .type = MB_OPT_STR, .meta = "FILE",
     .help = "arXiv metadata JSON lines (e.g. arxiv-metadata-oai-snapshot.json)"},
    {.name = "out", .type = MB_OPT_STR, .meta = "FILE", .help = "the document store to write (HDF5)"},
    {.name = "strict", .type = MB_OPT_BOOL, .defval = "false",
     .help = "stop at the first bad record (exit 3) instead of skipping it"},
    {.name = "report", .type = MB_OPT_STR, .meta = "FILE", .help = "JSON report of the import"},
    {.name = "quiet", .type = MB_OPT_BOOL, .defval = "false", .help = "print no summary"},
    {0}
};

typedef struct importer {
    const cJSON *spec;
    mb_source src;
    mb_docstore_writer *w;
    mb_url_opts url;
    mb_staged out_at, report_at;
    uint64_t docs, bad, line;
    cJSON *failures;     /* the first KEEP: {line, reason} */
} importer;

static mb_err bad_record(importer *im, int strict)
{
    im->bad++;
    if (strict)
        return mb_error_set(MB_ERR_INPUT, "%s (--strict)", mb_error_message());
    if (cJSON_GetArraySize(im->failures) < KEEP) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "line", (double)im->line);
        cJSON_AddStringToObject(f, "reason", mb_error_message());
        cJSON_AddItemToArray(im->failures, f);
    }
    return MB_OK;
}

static mb_err import_all(importer *im, int strict)
{
    mb_batch b = {0};
    mb_err rc = MB_OK;
    do {
        mb_batch_clear(&b);
        rc = im->src.read(im->src.state, READ_BLOCK, &b);
        for (uint64_t i = 0; rc == MB_OK && i < b.count; i++) {
            mb_jsonl_record r;
            const char *p = b.bytes.data + b.offsets[i];
            im->line++;
            if (mb_jsonl_parse(p, b.offsets[i + 1] - b.offsets[i], (unsigned long)im->line, &r) != MB_OK) {
                rc = bad_record(im, strict);
                continue;
            }
            rc = mb_docstore_append(im->w, &r, im->line);
            im->docs += rc == MB_OK;
            mb_jsonl_record_free(&r);
        }
    } while (rc == MB_OK && b.count == READ_BLOCK);
    mb_batch_free(&b);
    return rc;
}

static cJSON *import_report(const importer *im, double seconds)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "program", "mpibatch");
    cJSON_AddStringToObject(r, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(r, "command", "import");
    cJSON_AddNumberToObject(r, "lines", (double)im->line);
    cJSON_AddNumberToObject(r, "documents", (double)im->docs);
    cJSON_AddNumberToObject(r, "bad_records", (double)im->bad);
    cJSON_AddItemToObject(r, "failures", cJSON_Duplicate(im->failures, 1));
    cJSON_AddNumberToObject(r, "seconds", seconds);
    cJSON *spec = cJSON_Duplicate(im->spec, 1);
    mb_url_redact_json(spec); /* no secret from a URL reaches a report */
    cJSON_AddItemToObject(r, "job", spec);
    return r;
}

/* Rank 0: the whole import, report included. */
static mb_err run_import(importer *im)
{
    const char *in = cJSON_GetObjectItem(im->spec, "input")->valuestring;
    const char *out = cJSON_GetObjectItem(im->spec, "out")->valuestring;
    char *source = mb_url_redacted(in), *shown = mb_url_redacted(out);
    const cJSON *rep = cJSON_GetObjectItem(im->spec, "report");
    int strict = cJSON_IsTrue(cJSON_GetObjectItem(im->spec, "strict"));
    double t0 = mb_clock_now();
    mb_report_file *rf = NULL;
    mb_url_opts_from_spec(im->spec, &im->url);
    mb_err rc = mb_source_open_lines(&im->src, in, MB_JSONL_MAX_RECORD, &im->url);
    if (rc == MB_OK && cJSON_IsString(rep) &&
        (rc = mb_stage_output(&im->report_at, rep->valuestring)) == MB_OK)
        rc = mb_report_open(&rf, im->report_at.local);
    if (rc == MB_OK && (!source || !shown))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory");
    if (rc == MB_OK && (rc = mb_stage_output(&im->out_at, out)) == MB_OK)
        rc = mb_docstore_create(&im->w, im->out_at.local, source);
    if (rc == MB_OK)
        rc = import_all(im, strict);
    if (rc == MB_OK) {
        rc = mb_docstore_close(im->w);
        im->w = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&im->out_at, &im->url);
    }
    cJSON *report = rc == MB_OK ? import_report(im, mb_clock_now() - t0) : NULL;
    if (rc == MB_OK && rf) {
        rc = mb_report_commit(rf, report);
        rf = NULL;
        if (rc == MB_OK)
            rc = mb_stage_commit(&im->report_at, &im->url);
    }
    if (rc == MB_OK && !cJSON_IsTrue(cJSON_GetObjectItem(im->spec, "quiet")))
        printf("mpibatch %s: imported %llu documents from %llu lines (%llu bad) in %.2f s\n"
               "  store: %s\n", PACKAGE_VERSION, (unsigned long long)im->docs,
               (unsigned long long)im->line, (unsigned long long)im->bad, mb_clock_now() - t0, shown);
    cJSON_Delete(report);
    mb_report_discard(rf);
    free(source);
    free(shown);
    /* Exit status 1 tells scripts that records were skipped. */
    if (rc == MB_OK && im->bad > 0)
        rc = mb_error_set(MB_ERR_TASKS, "%llu bad records skipped (listed in the report)",
                          (unsigned long long)im->bad);
    return rc;
}

static int import_main(int argc, char **argv, MPI_Comm comm)
{
    const mb_option *const tables[] = {import_options, mb_url_options, NULL};
    importer im;
    int rank, code;
    memset(&im, 0, sizeof im);
    MPI_Comm_rank(comm, &rank);
    cJSON *spec = NULL;
    mb_err rc = mb_cli_command_spec(argc, argv, tables, &spec, NULL, 0, NULL);
    im.spec = spec;
    if (rc == MB_OK && (!cJSON_IsString(cJSON_GetObjectItem(spec, "input")) ||
                        !cJSON_IsString(cJSON_GetObjectItem(spec, "out"))))
        rc = mb_error_set(MB_ERR_USAGE, "'input' and 'out' are required");
    if (rc == MB_OK && rank == 0) {
        im.failures = cJSON_CreateArray();
        rc = run_import(&im);
    }
    if (rc != MB_OK && rank == 0)
        fprintf(stderr, "mpibatch import: %s\n", mb_error_message());
    mb_docstore_discard(im.w);
    mb_source_close(&im.src);
    mb_stage_release(&im.out_at);
    mb_stage_release(&im.report_at);
    cJSON_Delete(im.failures);
    cJSON_Delete(spec);
    code = (int)rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm); /* the other ranks share the outcome */
    return mb_error_exit_status((mb_err)code);
}

static void import_help(FILE *fp)
{
    fputs("Usage: mpibatch import --input SNAPSHOT.json --out DOCS.h5 [--strict]\n\n"
          "Convert arXiv metadata JSON lines into an HDF5 document store that\n"
          "`mpibatch classify --input DOCS.h5` reads.  Bad records are skipped and\n"
          "reported with their line numbers.\n\nOptions:\n", fp);
    mb_options_print_help(import_options, fp);
    fputs("\nStorage options (paths may be URLs: docs/storage.md):\n", fp);
    mb_options_print_help(mb_url_options, fp);
}

const mb_command mb_command_import = {
    .name = "import",
    .summary = "convert arXiv JSON lines into an HDF5 document store for classify",
    .main = import_main,
    .help = import_help,
};
