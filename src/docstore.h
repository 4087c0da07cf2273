/* docstore.h - the HDF5 document store that `mpibatch import` writes.
 *
 * Layout (h5py reads it as it is):
 *   /documents/id, /documents/title, /documents/abstract,
 *   /documents/categories   UTF-8 variable-length strings [N]
 *   /documents/label        int32 [N], the topic of the first category, -1 if none
 *   /documents/line         int64 [N], the record's line in the imported file
 *   attributes of /         format ("mpibatch-docstore"), format_version,
 *                           documents, source (the imported file)
 * Datasets are chunked (MB_DOCSTORE_BLOCK records) and deflated.  The
 * writer works under a temporary name and renames when complete.
 *
 * As a source, the store yields one payload per document, packed as
 * [label int32][line int64] id NUL title NUL abstract NUL; classify
 * unpacks it with mb_docstore_unpack().
 */
#ifndef MPIBATCH_DOCSTORE_H
#define MPIBATCH_DOCSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"
#include "ml/jsonl.h"
#include "mpibatch/source.h"

#define MB_DOCSTORE_FORMAT "mpibatch-docstore"
#define MB_DOCSTORE_VERSION 1
#define MB_DOCSTORE_BLOCK 4096

typedef struct mb_docstore_writer mb_docstore_writer;

/* Create path's temporary file; the caller owns *w until close/discard. */
mb_err mb_docstore_create(mb_docstore_writer **w, const char *path, const char *source);

/* Append one parsed record found at line `line` of the input. */
mb_err mb_docstore_append(mb_docstore_writer *w, const mb_jsonl_record *r, uint64_t line);

/* Write what is buffered, close and rename into place; frees w. */
mb_err mb_docstore_close(mb_docstore_writer *w);

/* Remove the temporary file and free w (NULL is fine). */
void mb_docstore_discard(mb_docstore_writer *w);

/* Open path as a source of packed documents; the caller owns *src. */
mb_err mb_source_open_docstore(mb_source *src, const char *path);

/* Whether path starts with the HDF5 signature (to pick the input format). */
int mb_docstore_is_hdf5(const char *path);

typedef struct mb_doc {
    const char *id, *title, *abstract;   /* NUL-terminated, inside the payload */
    size_t title_len, abstract_len;
    int label;
    int64_t line;
} mb_doc;

/* Unpack a payload of the docstore source. */
mb_err mb_docstore_unpack(const char *payload, size_t len, mb_doc *doc);

#endif
