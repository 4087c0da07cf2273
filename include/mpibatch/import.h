/* import.h - `mpibatch import`: arXiv JSON lines into a document store.
 *
 * Rank 0 streams the input (bounded memory at any size), validates each
 * record and appends it to the HDF5 store (docstore.h) that classify reads
 * as fast as JSON lines but without re-parsing JSON.  Bad records are
 * skipped, counted and reported with their line numbers; --strict makes
 * the first one fatal (exit 3, no store written).
 */
#ifndef MPIBATCH_IMPORT_H
#define MPIBATCH_IMPORT_H

#include "mpibatch/command.h"

extern const mb_command mb_command_import;

#endif
