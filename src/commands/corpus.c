/* corpus.c - a seeded generator of arXiv-like JSON lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/commands.h"
#include "config.h"
#include "cli.h"
#include "commands/corpus.h"
#include "atomic.h"
#include "optparse.h"

enum { NTOPICS = 5 };

/* Per topic: primary categories (first wins the label) and a vocabulary. */
static const char *const categories[NTOPICS][6] = {
    {"physics.optics", "cond-mat.quant-gas", "hep-th", "astro-ph.GA", "physics.flu-dyn", "quant-ph"},
    {"math.AG", "math.PR", "math.NT", "math.CO", "math.AP", "math.OC"},
    {"cs.LG", "cs.DS", "cs.CL", "cs.CR", "cs.DC", "cs.LO"},
    {"q-bio.NC", "q-bio.PE", "q-bio.BM", "q-bio.GN", "q-bio.QM", "q-bio.MN"},
    {"q-fin.ST", "q-fin.PR", "q-fin.RM", "q-fin.TR", "q-fin.MF", "q-fin.PM"},
};

static const char *const vocab[NTOPICS][24] = {
    {"quantum", "photon", "lattice", "spin", "magnetic", "scattering", "plasma", "laser",
     "entanglement", "particle", "boson", "fermion", "turbulence", "gravitational", "field",
     "energy", "temperature", "phase", "momentum", "cavity", "superconducting", "hamiltonian",
     "interferometer", "thermodynamic"},
    {"theorem", "lemma", "manifold", "algebra", "prime", "graph", "conjecture", "polynomial",
     "cohomology", "group", "integer", "topology", "homomorphism", "operator", "inequality",
     "sobolev", "eigenvalue", "bounded", "convex", "martingale", "ring", "module", "variety",
     "proof"},
    {"algorithm", "network", "learning", "neural", "protocol", "compiler", "software", "query",
     "database", "encryption", "parallel", "distributed", "classifier", "training", "language",
     "complexity", "graph", "scheduler", "cache", "benchmark", "security", "semantics",
     "dataset", "runtime"},
    {"protein", "gene", "cell", "neuron", "evolution", "species", "population", "genome",
     "enzyme", "tissue", "receptor", "brain", "mutation", "epidemic", "infection", "molecular",
     "expression", "ecological", "cortex", "metabolic", "sequencing", "phylogenetic", "virus",
     "synaptic"},
    {"portfolio", "volatility", "option", "market", "asset", "risk", "pricing", "hedging",
     "stock", "returns", "credit", "liquidity", "trading", "arbitrage", "derivative",
     "investor", "equity", "interest", "bond", "insurance", "financial", "default", "stochastic",
     "capital"},
};

static const char *const common[] = {
    "we", "study", "the", "of", "a", "model", "method", "results", "show", "that", "in", "and",
    "for", "this", "paper", "propose", "new", "analysis", "approach", "using", "based", "on",
    "data", "two", "which", "is", "are", "with", "our", "these", "by", "an", "as", "present",
    "framework", "general", "problem", "simple", "efficient", "numerical", "theory", "case",
    "also", "between", "can", "be", "under", "large", "small", "system", "dynamics", "structure",
    "experimental", "estimate", "function", "finally", "moreover", "consider", "obtain",
};

/* splitmix64: a small, well-mixed and reproducible generator. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
    return (unsigned)(next(s) % n);
}

static double uniform(uint64_t *s)
{
    return (double)(next(s) >> 11) * 0x1p-53;
}

/* Who a document is about: its own topic, and for interdisciplinary ones a
 * second topic that supplies part of its words (the label follows the
 * first, as arXiv's primary category does). */
typedef struct mix {
    int topic, other;
    double share;        /* of topic words taken from `other` */
} mix;

static const char *pick_word(uint64_t *s, const mix *m, double noise)
{
    double u = uniform(s);
    if (u < 0.7)
        return common[below(s, sizeof common / sizeof common[0])];
    if (uniform(s) < noise)
        return vocab[below(s, NTOPICS)][below(s, 24)];
    return vocab[uniform(s) < m->share ? m->other : m->topic][below(s, 24)];
}

static void words(FILE *fp, uint64_t *s, const mix *m, double noise, unsigned n, int tex)
{
    for (unsigned i = 0; i < n; i++) {
        if (i)
            fputc(' ', fp);
        /* Now and then inline TeX, as real abstracts have. */
        if (tex && below(s, 40) == 0)
            fprintf(fp, "$x_{%u}^2$", below(s, 9));
        else
            fputs(pick_word(s, m, noise), fp);
    }
}

/* Class sizes like the real data's: physics > math = cs > q-bio > q-fin. */
static int pick_topic(uint64_t *s)
{
    static const unsigned cut[NTOPICS] = {34, 58, 82, 92, 100};
    unsigned u = below(s, 100);
    int t = 0;
    while (u >= cut[t])
        t++;
    return t;
}

static void record(FILE *fp, uint64_t *s, const mb_corpus_params *p, uint64_t i)
{
    static const char *const names[NTOPICS] = {"physics", "math", "cs", "q-bio", "q-fin"};
    mix m = {pick_topic(s), (int)below(s, NTOPICS), 0};
    int topic = m.topic;
    if (uniform(s) < 0.3) /* interdisciplinary */
        m.share = 0.2 + 0.3 * uniform(s);
    fprintf(fp, "{\"id\": \"gen.%llu\", \"title\": \"", (unsigned long long)(p->first_id + i));
    words(fp, s, &m, p->noise, 5 + below(s, 8), 0);
    fputs("\", \"abstract\": \"", fp);
    words(fp, s, &m, p->noise, 25 + below(s, 60), 1);
    fprintf(fp, "\", \"categories\": \"%s", categories[topic][below(s, 6)]);
    if (m.share > 0) /* cross-listed where its other words come from */
        fprintf(fp, " %s", categories[m.other][below(s, 6)]);
    fprintf(fp, "\", \"update_date\": \"20%02u-%02u-%02u\", \"label\": \"%s\"}\n",
            10 + below(s, 10), 1 + below(s, 12), 1 + below(s, 28), names[topic]);
}

mb_err mb_corpus_write(FILE *fp, const mb_corpus_params *p)
{
    uint64_t s = p->seed;
    for (uint64_t i = 0; i < p->docs; i++)
        record(fp, &s, p, i);
    return ferror(fp) ? mb_error_set(MB_ERR_IO, "write error: %s", strerror(errno)) : MB_OK;
}

static const mb_option corpus_options[] = {
    {.name = "docs", .type = MB_OPT_INT, .defval = "10000", .min = 1, .max = MB_OPT_INT_MAX,
     .meta = "N", .help = "number of documents"},
    {.name = "seed", .type = MB_OPT_INT, .defval = "1", .min = 0, .max = MB_OPT_INT_MAX,
     .meta = "S", .help = "generator seed: the same seed gives the same file"},
    {.name = "first-id", .type = MB_OPT_INT, .defval = "0", .min = 0, .max = MB_OPT_INT_MAX,
     .meta = "I", .help = "ids run gen.I, gen.I+1, ..."},
    {.name = "noise", .type = MB_OPT_NUM, .defval = "0.6", .min = 0, .max = 1, .meta = "X",
     .help = "share of topic words drawn from any topic (harder when larger)"},
    {.name = "out", .type = MB_OPT_STR, .meta = "FILE", .help = "output JSON lines file"},
    {0}
};

/* Write to a temporary name and rename, like every other output. */
static mb_err write_file(const char *path, const mb_corpus_params *p)
{
    mb_atomic a;
    FILE *fp = NULL;
    mb_err rc = mb_atomic_begin(&a, path);
    if (rc != MB_OK)
        return rc;
    if ((rc = mb_atomic_fopen(&a, NULL, &fp)) == MB_OK)
        rc = mb_corpus_write(fp, p);
    return mb_atomic_finish(&a, rc, fp, 0, NULL);
}

static int corpus_main(int argc, char **argv, MPI_Comm comm)
{
    const mb_option *const tables[] = {corpus_options, NULL};
    cJSON *spec = NULL;
    int rank;
    mb_err rc = mb_cli_command_spec(argc, argv, tables, &spec, NULL, 0, NULL);
    MPI_Comm_rank(comm, &rank);
    if (rc == MB_OK && !cJSON_IsString(cJSON_GetObjectItem(spec, "out")))
        rc = mb_error_set(MB_ERR_USAGE, "'out' is required (the file to write)");
    /* Generation is serial and cheap: rank 0 writes, the others wait. */
    if (rc == MB_OK && rank == 0) {
        mb_corpus_params p = {
            .docs = (uint64_t)cJSON_GetObjectItem(spec, "docs")->valuedouble,
            .seed = (uint64_t)cJSON_GetObjectItem(spec, "seed")->valuedouble,
            .first_id = (uint64_t)cJSON_GetObjectItem(spec, "first-id")->valuedouble,
            .noise = cJSON_GetObjectItem(spec, "noise")->valuedouble,
        };
        rc = write_file(cJSON_GetObjectItem(spec, "out")->valuestring, &p);
    }
    if (rc != MB_OK && rank == 0)
        fprintf(stderr, "mpibatch corpus: %s\n", mb_error_message());
    cJSON_Delete(spec);
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    return mb_error_exit_status(rc);
}

static void corpus_help(FILE *fp)
{
    fputs("Usage: mpibatch corpus --out FILE [--docs N] [--seed S] [--noise X]\n\n"
          "Write generated arXiv-like JSON lines (generated text, not real abstracts)\n"
          "for the quick start, tests and scale runs.  The same seed gives the same file.\n\n"
          "Options:\n", fp);
    mb_options_print_help(corpus_options, fp);
}

const mb_command mb_command_corpus = {
    .name = "corpus",
    .summary = "write generated arXiv-like JSON lines (the embedded default data)",
    .main = corpus_main,
    .help = corpus_help,
};
