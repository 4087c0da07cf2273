/* corpus.h - `mpibatch corpus`: generated arXiv-like documents.
 *
 * Writes JSON lines in the arXiv metadata schema (id, title, abstract,
 * categories, update_date, label) whose text is generated from per-topic
 * and shared word lists by a seeded generator: the same seed gives the same
 * bytes.  It is the embedded default data of the quick start and the input
 * of the tests, so nothing needs downloading.  It is generated text, not
 * real abstracts: accuracy on it says nothing about real data.
 */
#ifndef MPIBATCH_CORPUS_H
#define MPIBATCH_CORPUS_H

#include <stdint.h>
#include <stdio.h>

#include "mpibatch/error.h"

typedef struct mb_corpus_params {
    uint64_t docs;       /* records to write */
    uint64_t seed;
    uint64_t first_id;   /* ids are "gen.<first_id + i>" */
    double noise;        /* share of words drawn from other topics' lists */
} mb_corpus_params;

/* Write p->docs records to fp. */
mb_err mb_corpus_write(FILE *fp, const mb_corpus_params *p);

#endif
