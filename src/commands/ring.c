/* ring.c - `mpibatch ring`: per-hop latency and bandwidth of MPI messages.
 *
 * A lap is one trip of the pattern: the ring passes a message once around
 * all P ranks (P hops), the bidirectional shift has every rank send right
 * and receive left at once (1 hop), the ping-pong is a round trip between
 * ranks 0 and 1 (2 hops).  For each size: warm-up laps, then R repeats of
 * the same number of laps, each timed between a barrier and the slowest
 * rank's clock; rank 0 prints a table as sizes finish and may write JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands/commands.h"
#include "config.h"
#include "cli.h"
#include "comm.h"
#include "mpibatch/options.h"
#include "report.h"
#include "commands/ring.h"
#include "optparse.h"

enum { TAG = 1 };

typedef enum ring_pattern { PATTERN_RING, PATTERN_BIDIRECTIONAL, PATTERN_PINGPONG } ring_pattern;

static const char *const pattern_names[] = {"ring", "bidirectional", "pingpong"};

static const mb_option ring_options[] = {
    {.name = "pattern", .type = MB_OPT_ENUM, .defval = "ring",
     .choices = "ring|bidirectional|pingpong",
     .help = "ring 0->1->..->0; all ranks shift right at once; ranks 0<->1"},
    {.name = "sizes", .type = MB_OPT_STR, .defval = "8", .meta = "LIST",
     .help = "message bytes: 0:4M is 0,1,2,4,..,4 MiB; or a list 0,8,64K"},
    {.name = "iterations", .type = MB_OPT_INT, .defval = "10000", .min = 1,
     .max = MB_OPT_INT_MAX, .meta = "N", .help = "timed laps per size, over all repeats"},
    {.name = "repeats", .type = MB_OPT_INT, .defval = "5", .min = 1, .max = 1000, .meta = "R",
     .help = "timed repeats per size (min/median/max are over these)"},
    {.name = "warmup", .type = MB_OPT_INT, .defval = "100", .min = 1, .max = MB_OPT_INT_MAX,
     .meta = "W", .help = "untimed laps before each size (stops early after 1/10 of S)"},
    {.name = "max-seconds", .type = MB_OPT_NUM, .defval = "2", .min = 0, .max = 1e6, .meta = "S",
     .help = "run fewer laps where a size would take longer; 0: no limit"},
    {.name = "buffer", .type = MB_OPT_ENUM, .defval = "forward", .choices = "forward|constant",
     .help = "send the buffer just received, or one never written"},
    {.name = "report", .type = MB_OPT_STR, .meta = "FILE", .help = "JSON results file"},
    {0}
};

typedef struct ring_cfg {
    cJSON *spec;              /* the validated options */
    ring_pattern pattern;
    int forward;              /* send what was just received (else a constant buffer) */
    uint64_t iterations, repeats, warmup;
    double max_seconds;
    size_t *sizes, nsizes;
    const char *report;       /* points into spec, NULL if not asked for */
} ring_cfg;

typedef struct ring_result {
    size_t bytes;
    uint64_t iterations;      /* laps timed, over all repeats */
    mb_ring_stats usec;       /* microseconds per hop over the repeats */
} ring_result;

typedef struct ring_run {
    MPI_Comm comm;
    int rank, size;
    ring_cfg cfg;
    char *a, *b;              /* message buffers of the largest size */
    double *per_hop;          /* one per repeat */
    ring_result *results;     /* one per size */
    char (*hosts)[MPI_MAX_PROCESSOR_NAME]; /* rank 0: one per rank */
    int *cores;               /* rank 0: online cores of each rank's host */
    mb_report_file *report;   /* rank 0 */
} ring_run;

/* --- pure helpers (ring.h) --- */

/* One size with an optional K, M or G suffix (powers of 1024). */
static mb_err parse_size(const char *text, size_t len, size_t *out)
{
    char buf[32], *end;
    unsigned long long v;
    int shift = 0;
    if (len == 0 || len >= sizeof buf)
        return mb_error_set(MB_ERR_USAGE, "option --sizes: '%.*s' is not a size", (int)len, text);
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (!isdigit((unsigned char)buf[0]))
        return mb_error_set(MB_ERR_USAGE, "option --sizes: '%s' is not a size (bytes, or with K, M or G)",
                            buf);
    errno = 0;
    v = strtoull(buf, &end, 10);
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: break;
    }
    if (end[shift != 0] != '\0')
        return mb_error_set(MB_ERR_USAGE, "option --sizes: '%s' is not a size (bytes, or with K, M or G)",
                            buf);
    if (errno == ERANGE || v > (MB_RING_MAX_BYTES >> shift))
        return mb_error_set(MB_ERR_USAGE, "option --sizes: '%s' is larger than 1G", buf);
    *out = (size_t)v << shift;
    return MB_OK;
}

static mb_err push_size(size_t *list, size_t *count, size_t v)
{
    if (*count == MB_RING_MAX_SIZES)
        return mb_error_set(MB_ERR_USAGE, "option --sizes: more than %d sizes", MB_RING_MAX_SIZES);
    list[(*count)++] = v;
    return MB_OK;
}

static int zero_or_power_of_two(size_t v)
{
    return (v & (v - 1)) == 0;
}

/* One item of the list: a size, or a range A:B of 0 and powers of two. */
static mb_err parse_item(const char *item, size_t len, size_t *list, size_t *count)
{
    const char *colon = memchr(item, ':', len);
    size_t a, b, alen = colon ? (size_t)(colon - item) : len;
    mb_err rc = parse_size(item, alen, &a);
    if (rc != MB_OK || !colon)
        return rc == MB_OK ? push_size(list, count, a) : rc;
    if ((rc = parse_size(colon + 1, len - alen - 1, &b)) != MB_OK)
        return rc;
    if (!zero_or_power_of_two(a) || !zero_or_power_of_two(b) || a > b)
        return mb_error_set(MB_ERR_USAGE, "option --sizes: range '%.*s' needs A <= B, "
                            "each 0 or a power of two", (int)len, item);
    if (a == 0) {
        rc = push_size(list, count, 0);
        a = 1;
    }
    for (size_t v = a; rc == MB_OK && b > 0 && v <= b; v *= 2)
        rc = push_size(list, count, v);
    return rc;
}

mb_err mb_ring_parse_sizes(const char *text, size_t **sizes, size_t *n)
{
    size_t *list = malloc(MB_RING_MAX_SIZES * sizeof *list), count = 0;
    mb_err rc = list ? MB_OK : mb_error_set(MB_ERR_NOMEM, "out of memory for --sizes");
    for (const char *p = text; rc == MB_OK; p++) {
        size_t len = strcspn(p, ",");
        rc = parse_item(p, len, list, &count);
        p += len;
        if (!*p)
            break;
    }
    if (rc != MB_OK) {
        free(list);
        return rc;
    }
    *sizes = list;
    *n = count;
    return MB_OK;
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void mb_ring_summarize(double *v, size_t n, mb_ring_stats *s)
{
    double sum = 0;
    qsort(v, n, sizeof *v, compare_doubles);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    s->min = v[0];
    s->max = v[n - 1];
    s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s->mean = sum / (double)n;
}

uint64_t mb_ring_plan(uint64_t iterations, uint64_t repeats, double max_seconds,
                      double lap_seconds)
{
    double total = (double)iterations;
    uint64_t per;
    if (max_seconds > 0 && lap_seconds > 0 && max_seconds / lap_seconds < total)
        total = max_seconds / lap_seconds;
    per = (uint64_t)(total / (double)repeats);
    return per ? per : 1;
}

/* --- options --- */

static const char *spec_str(const cJSON *spec, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double spec_num(const cJSON *spec, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(spec, name)->valuedouble;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

/* Every rank parses the same argv, so all reach the same verdict. */
static mb_err configure(ring_cfg *c, int argc, char **argv, int nranks)
{
    const mb_option *const tables[] = {ring_options, NULL};
    mb_err rc;
    if ((rc = mb_cli_command_spec(argc, argv, tables, &c->spec, NULL, 0, NULL)) != MB_OK)
        return rc;
    for (size_t p = 0; p < sizeof pattern_names / sizeof *pattern_names; p++)
        if (!strcmp(spec_str(c->spec, "pattern"), pattern_names[p]))
            c->pattern = (ring_pattern)p;
    c->forward = !strcmp(spec_str(c->spec, "buffer"), "forward");
    c->iterations = (uint64_t)spec_num(c->spec, "iterations");
    c->repeats = (uint64_t)spec_num(c->spec, "repeats");
    c->warmup = (uint64_t)spec_num(c->spec, "warmup");
    c->max_seconds = spec_num(c->spec, "max-seconds");
    c->report = spec_str(c->spec, "report");
    if (c->iterations < c->repeats)
        return mb_error_set(MB_ERR_USAGE, "option --iterations (%llu) must be at least --repeats (%llu)",
                            (unsigned long long)c->iterations, (unsigned long long)c->repeats);
    if ((rc = mb_ring_parse_sizes(spec_str(c->spec, "sizes"), &c->sizes, &c->nsizes)) != MB_OK)
        return rc;
    if (nranks < 2)
        return mb_error_set(MB_ERR_USAGE, "option --pattern %s needs at least 2 ranks, got %d "
                            "(mpirun -n 2 or more)", pattern_names[c->pattern], nranks);
    return MB_OK;
}

/* --- the patterns --- */

/* The ring on ranks 0..members-1 (the ping-pong is the ring of two):
 * rank 0 sends first, every other rank receives from its left, then sends
 * to its right.  Forwarding receives into the buffer it sends from. */
static mb_err ring_laps(const ring_run *r, int members, int count, uint64_t n)
{
    int right = (r->rank + 1) % members, left = (r->rank + members - 1) % members;
    char *in = r->cfg.forward ? r->a : r->b;
    if (r->rank >= members)
        return MB_OK;
    for (uint64_t i = 0; i < n; i++) {
        int rc;
        if (r->rank == 0) {
            rc = MPI_Send(r->a, count, MPI_BYTE, right, TAG, r->comm);
            if (rc == MPI_SUCCESS)
                rc = MPI_Recv(in, count, MPI_BYTE, left, TAG, r->comm, MPI_STATUS_IGNORE);
        } else {
            rc = MPI_Recv(in, count, MPI_BYTE, left, TAG, r->comm, MPI_STATUS_IGNORE);
            if (rc == MPI_SUCCESS)
                rc = MPI_Send(r->a, count, MPI_BYTE, right, TAG, r->comm);
        }
        if (rc != MPI_SUCCESS)
            return mb_mpi_check(rc, "MPI_Send/MPI_Recv");
    }
    return MB_OK;
}

/* Every rank sends right and receives left at once.  Forwarding
 * alternates two buffers: each lap sends what the previous one received. */
static mb_err bidirectional_laps(const ring_run *r, int count, uint64_t n)
{
    int right = (r->rank + 1) % r->size, left = (r->rank + r->size - 1) % r->size;
    for (uint64_t i = 0; i < n; i++) {
        char *out = r->cfg.forward && i % 2 ? r->b : r->a;
        char *in = r->cfg.forward && i % 2 ? r->a : r->b;
        int rc = MPI_Sendrecv(out, count, MPI_BYTE, right, TAG, in, count, MPI_BYTE, left, TAG,
                              r->comm, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mb_mpi_check(rc, "MPI_Sendrecv");
    }
    return MB_OK;
}

static mb_err laps(const ring_run *r, int count, uint64_t n)
{
    switch (r->cfg.pattern) {
    case PATTERN_RING: return ring_laps(r, r->size, count, n);
    case PATTERN_PINGPONG: return ring_laps(r, 2, count, n);
    case PATTERN_BIDIRECTIONAL: return bidirectional_laps(r, count, n);
    }
    return mb_error_set(MB_ERR_INTERNAL, "unknown ring pattern");
}

static int hops_per_lap(const ring_run *r)
{
    return r->cfg.pattern == PATTERN_RING ? r->size : r->cfg.pattern == PATTERN_PINGPONG ? 2 : 1;
}

/* n laps started together after a barrier; *seconds is the slowest rank's
 * time, known to every rank, so all take the same decisions after it. */
static mb_err timed_laps(const ring_run *r, int count, uint64_t n, double *seconds)
{
    double t;
    mb_err rc = mb_mpi_check(MPI_Barrier(r->comm), "MPI_Barrier");
    t = MPI_Wtime();
    if (rc == MB_OK)
        rc = laps(r, count, n);
    t = MPI_Wtime() - t;
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Allreduce(&t, seconds, 1, MPI_DOUBLE, MPI_MAX, r->comm),
                          "MPI_Allreduce");
    return rc;
}

/* Untimed laps in doubling batches, up to --warmup laps or a tenth of
 * --max-seconds, so a slow large size does not spend its budget warming
 * up.  *lap_seconds is the last (warmest) batch's time per lap. */
static mb_err warm_up(const ring_run *r, int count, double *lap_seconds)
{
    uint64_t done = 0, batch = 1;
    double spent = 0, t = 0;
    mb_err rc = MB_OK;
    while (rc == MB_OK && done < r->cfg.warmup) {
        uint64_t n = batch < r->cfg.warmup - done ? batch : r->cfg.warmup - done;
        rc = timed_laps(r, count, n, &t);
        done += n;
        spent += t;
        *lap_seconds = t / (double)n;
        if (r->cfg.max_seconds > 0 && spent >= r->cfg.max_seconds / 10)
            break;
        batch *= 2;
    }
    return rc;
}

static mb_err measure(const ring_run *r, size_t bytes, ring_result *res)
{
    double lap = 0, t = 0;
    int count = (int)bytes;
    mb_err rc = warm_up(r, count, &lap);
    uint64_t n = mb_ring_plan(r->cfg.iterations, r->cfg.repeats, r->cfg.max_seconds, lap);
    for (uint64_t k = 0; rc == MB_OK && k < r->cfg.repeats; k++) {
        rc = timed_laps(r, count, n, &t);
        r->per_hop[k] = t * 1e6 / ((double)n * hops_per_lap(r));
    }
    res->bytes = bytes;
    res->iterations = n * r->cfg.repeats;
    if (rc == MB_OK)
        mb_ring_summarize(r->per_hop, r->cfg.repeats, &res->usec);
    return rc;
}

/* --- hosts --- */

static mb_err gather_hosts(ring_run *r)
{
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int len, cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    mb_err rc = mb_mpi_check(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name");
    if (r->rank == 0 && (!(r->hosts = calloc((size_t)r->size, sizeof *r->hosts)) ||
                         !(r->cores = calloc((size_t)r->size, sizeof *r->cores))))
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for host names");
    rc = mb_comm_agree(r->comm, rc);
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, r->hosts,
                                     MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, r->comm), "MPI_Gather");
    if (rc == MB_OK)
        rc = mb_mpi_check(MPI_Gather(&cores, 1, MPI_INT, r->cores, 1, MPI_INT, 0, r->comm),
                          "MPI_Gather");
    return rc;
}

/* The first rank on the same host as rank i. */
static int first_on_host(const ring_run *r, int i)
{
    int j = 0;
    while (strcmp(r->hosts[j], r->hosts[i]) != 0)
        j++;
    return j;
}

static int ranks_on_host(const ring_run *r, int i)
{
    int n = 0;
    for (int j = 0; j < r->size; j++)
        n += strcmp(r->hosts[j], r->hosts[i]) == 0;
    return n;
}

/* Rank 0: the hosts with their rank counts, and a warning on standard
 * error for each host with more ranks than cores. */
static void print_hosts(const ring_run *r, FILE *out)
{
    fputs("# hosts:", out);
    for (int i = 0; i < r->size; i++) {
        int n;
        if (first_on_host(r, i) != i)
            continue;
        n = ranks_on_host(r, i);
        fprintf(out, " %s (%d rank%s, %d cores)", r->hosts[i], n, n == 1 ? "" : "s", r->cores[i]);
        if (n > r->cores[i])
            fprintf(stderr, "mpibatch ring: warning: %d ranks on %s, which has %d cores: ranks "
                    "share cores, and timings mean something only if waiting ranks yield the "
                    "CPU (Open MPI does under mpirun --oversubscribe)\n", n, r->hosts[i], r->cores[i]);
    }
    fputc('\n', out);
}

/* --- output --- */

/* "Open MPI v4.1.4" from the library's version text: up to a comma or newline. */
static void mpi_library(char *buf, size_t size)
{
    char text[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(text, &len);
    snprintf(buf, size, "%.*s", (int)strcspn(text, ",\n"), text);
}

static const char *lap_words(const ring_run *r)
{
    switch (r->cfg.pattern) {
    case PATTERN_RING: return "the message goes once around 0 -> 1 -> .. -> P-1 -> 0 (P hops)";
    case PATTERN_BIDIRECTIONAL: return "every rank sends right and receives left at once "
                                       "(MPI_Sendrecv, 1 hop)";
    case PATTERN_PINGPONG: return "rank 0 -> 1 -> 0 (2 hops: a hop is half a round trip); "
                                  "other ranks wait";
    }
    return "";
}

static void print_header(const ring_run *r, FILE *out)
{
    char lib[256];
    mpi_library(lib, sizeof lib);
    fprintf(out, "# mpibatch %s ring: pattern %s, %d ranks, %s\n", PACKAGE_VERSION,
            pattern_names[r->cfg.pattern], r->size, lib);
    fprintf(out, "# lap: %s\n", lap_words(r));
    fprintf(out, "# buffer: %s\n", r->cfg.forward
            ? "forward (each rank sends the buffer it has just received into)"
            : "constant (each rank sends a buffer it never writes; receives go elsewhere)");
    print_hosts(r, out);
    fprintf(out, "# microseconds per hop: mean, and min/median/max over %llu repeats; "
            "MB/s = bytes / median hop time\n", (unsigned long long)r->cfg.repeats);
    fprintf(out, "# %10s %12s %10s %10s %10s %10s %12s\n", "bytes", "iterations", "mean", "min",
            "median", "max", "MB/s");
    fflush(out);
}

static double mb_per_s(const ring_result *res)
{
    return res->usec.median > 0 ? (double)res->bytes / res->usec.median : 0;
}

static void print_row(const ring_result *res, FILE *out)
{
    fprintf(out, "  %10zu %12llu %10.3f %10.3f %10.3f %10.3f %12.2f\n", res->bytes,
            (unsigned long long)res->iterations, res->usec.mean, res->usec.min, res->usec.median,
            res->usec.max, mb_per_s(res));
    fflush(out);
}

static cJSON *size_json(const ring_result *res)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "bytes", (double)res->bytes);
    cJSON_AddNumberToObject(o, "iterations", (double)res->iterations);
    cJSON_AddNumberToObject(o, "usec_per_hop_mean", res->usec.mean);
    cJSON_AddNumberToObject(o, "usec_per_hop_min", res->usec.min);
    cJSON_AddNumberToObject(o, "usec_per_hop_median", res->usec.median);
    cJSON_AddNumberToObject(o, "usec_per_hop_max", res->usec.max);
    cJSON_AddNumberToObject(o, "mb_per_s", mb_per_s(res));
    return o;
}

static cJSON *hosts_json(const ring_run *r, int distinct)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < r->size; i++)
        if (!distinct || first_on_host(r, i) == i)
            cJSON_AddItemToArray(list, cJSON_CreateString(r->hosts[i]));
    return list;
}

/* Keys in docs/benchmarks.md (The ring benchmark). */
static cJSON *report_json(const ring_run *r)
{
    cJSON *o = cJSON_CreateObject(), *sizes = cJSON_CreateArray();
    char lib[256];
    if (!o || !sizes) {
        cJSON_Delete(o);
        cJSON_Delete(sizes);
        return NULL;
    }
    mpi_library(lib, sizeof lib);
    cJSON_AddStringToObject(o, "program", "mpibatch");
    cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(o, "command", "ring");
    cJSON_AddStringToObject(o, "mpi", lib);
    cJSON_AddStringToObject(o, "pattern", pattern_names[r->cfg.pattern]);
    cJSON_AddStringToObject(o, "buffer", r->cfg.forward ? "forward" : "constant");
    cJSON_AddNumberToObject(o, "ranks", r->size);
    cJSON_AddNumberToObject(o, "hops_per_iteration", hops_per_lap(r));
    cJSON_AddItemToObject(o, "hosts", hosts_json(r, 1));
    cJSON_AddItemToObject(o, "rank_hosts", hosts_json(r, 0));
    cJSON_AddNumberToObject(o, "repeats", (double)r->cfg.repeats);
    for (size_t i = 0; i < r->cfg.nsizes; i++)
        cJSON_AddItemToArray(sizes, size_json(&r->results[i]));
    cJSON_AddItemToObject(o, "sizes", sizes);
    return o;
}

/* --- the command --- */

static size_t largest_size(const ring_cfg *c)
{
    size_t m = 1;
    for (size_t i = 0; i < c->nsizes; i++)
        if (c->sizes[i] > m)
            m = c->sizes[i];
    return m;
}

/* Buffers, results and, on rank 0, the report's temporary file (so a bad
 * path fails before any timing). */
static mb_err prepare(ring_run *r)
{
    size_t big = largest_size(&r->cfg);
    mb_err rc = MB_OK;
    r->a = calloc(big, 1);
    r->b = calloc(big, 1);
    r->per_hop = calloc(r->cfg.repeats, sizeof *r->per_hop);
    r->results = calloc(r->cfg.nsizes, sizeof *r->results);
    if (!r->a || !r->b || !r->per_hop || !r->results)
        rc = mb_error_set(MB_ERR_NOMEM, "out of memory for two %zu-byte message buffers", big);
    if (rc == MB_OK && r->rank == 0 && r->cfg.report)
        rc = mb_report_open(&r->report, r->cfg.report);
    return rc;
}

/* Every size in order; an MPI failure mid-sweep leaves ranks unable to
 * meet, so it removes the report's temporary file and aborts. */
static void sweep(ring_run *r)
{
    if (r->rank == 0)
        print_header(r, stdout);
    for (size_t i = 0; i < r->cfg.nsizes; i++) {
        mb_err rc = measure(r, r->cfg.sizes[i], &r->results[i]);
        if (rc != MB_OK) {
            mb_report_discard(r->report);
            r->report = NULL;
            mb_comm_abort(r->comm, rc);
        }
        if (r->rank == 0)
            print_row(&r->results[i], stdout);
    }
}

static mb_err write_report(ring_run *r)
{
    cJSON *json;
    mb_err rc;
    if (!r->report)
        return MB_OK;
    if (!(json = report_json(r)))
        return mb_error_set(MB_ERR_NOMEM, "out of memory building the ring report");
    rc = mb_report_commit(r->report, json);
    r->report = NULL;
    cJSON_Delete(json);
    return rc;
}

static void cleanup(ring_run *r)
{
    mb_report_discard(r->report);
    cJSON_Delete(r->cfg.spec);
    free(r->cfg.sizes);
    free(r->a);
    free(r->b);
    free(r->per_hop);
    free(r->results);
    free(r->hosts);
    free(r->cores);
}

static void ring_help(FILE *fp)
{
    fputs("Usage: mpirun -n RANKS mpibatch ring [OPTIONS]\n\n"
          "Microseconds per hop and MB/s of MPI messages for each message size: the\n"
          "textbook ring, a bidirectional shift (as IMB Sendrecv) or a ping-pong between\n"
          "ranks 0 and 1.  Needs at least 2 ranks; rank 0 prints a table.\n\n"
          "Options:\n", fp);
    mb_options_print_help(ring_options, fp);
}

static int ring_main(int argc, char **argv, MPI_Comm comm)
{
    ring_run r = {.comm = comm};
    mb_err rc = MB_OK;
    MPI_Comm_rank(comm, &r.rank);
    MPI_Comm_size(comm, &r.size);
    if (wants_help(argc, argv)) {
        if (r.rank == 0)
            ring_help(stdout);
        return MB_EXIT_OK;
    }
    rc = mb_comm_agree(comm, configure(&r.cfg, argc, argv, r.size));
    if (rc == MB_OK)
        rc = mb_comm_agree(comm, gather_hosts(&r));
    if (rc == MB_OK)
        rc = mb_comm_agree(comm, prepare(&r));
    if (rc == MB_OK) {
        sweep(&r);
        rc = mb_comm_agree(comm, r.rank == 0 ? write_report(&r) : MB_OK);
    }
    if (rc != MB_OK && r.rank == 0) {
        fprintf(stderr, "mpibatch: %s\n", mb_error_message());
        if (rc == MB_ERR_USAGE)
            fputs("Try 'mpibatch help ring' for usage.\n", stderr);
    }
    cleanup(&r);
    return mb_error_exit_status(rc);
}

const mb_command mb_command_ring = {
    .name = "ring",
    .summary = "per-hop latency and bandwidth: ring, bidirectional or ping-pong",
    .main = ring_main,
    .help = ring_help,
};
