/* model_io.h - trained classifier models in HDF5 files and flat buffers.
 *
 * File layout (h5dump and h5py read it as it is):
 *   attributes of /   format ("mpibatch-model"), format_version, every
 *                     feature and training parameter (hash_bits,
 *                     title_weight, min_df, ...), the fixed feature rules
 *                     (token_max, prefix_bytes, hash), provenance
 *                     (train_file, train_documents, train_iterations,
 *                     mpibatch_version) - nothing that depends on the
 *                     rank count or the time, so h5diff finds models
 *                     trained at 1 and 64 ranks identical;
 *                     train_documents is the model's n_train_docs
 *   /labels           label names, UTF-8 variable-length strings [K]
 *   /buckets          uint32 [A], the A active buckets in increasing order
 *   /idf              float32 [A], their feature weights
 *   /weights          float32 [A, K], their class weights
 *   /bias             float64 [K]
 *   /sub/<label>      level 2 only: the sub-topic model of the documents
 *                     of that label, laid out like / (attributes with its
 *                     own hash_bits, labels, buckets, idf, weights, bias);
 *                     labels with fewer than two sub-topics have none
 * Format versions: 1 has one level; 2 adds the root attribute "levels"
 * (1 or 2) and, for 2, /sub; 3 adds the training parameter attribute
 * label_smoothing (root and each /sub group).  Version 1 files still load
 * (one level); version 1 and 2 files load with label_smoothing 0, the
 * value they were trained with.  Prediction reads the same arrays in
 * every version.
 * Only active buckets are stored; the arrays are chunked and deflated.
 * mb_model_save writes under a temporary name and renames it into place.
 *
 * mb_model_pack_meta / mb_model_unpack_meta turn a model, all but the
 * topic model's table, into one flat byte buffer and back: rank 0 builds
 * the table in memory its node shares (mpibatch/shm.h) and MPI_Bcasts
 * the rest (MPI_BYTE).  The buffer holds the labels, parameters, bias
 * and the level-2 sub-models whole; it is in native byte order and only
 * meant for processes running the same build.
 */
#ifndef MPIBATCH_MODEL_IO_H
#define MPIBATCH_MODEL_IO_H

#include <stddef.h>

#include "mpibatch/error.h"
#include "ml/model.h"

#define MB_MODEL_FORMAT "mpibatch-model"
/* Raise when the layout or the feature rules change; newer files are
 * refused by older code. */
#define MB_MODEL_FORMAT_VERSION 3

/* Where a model came from; stored as attributes, all fields borrowed. */
typedef struct mb_model_provenance {
    const char *train_file;  /* training data as given by the user */
    unsigned iterations;     /* L-BFGS iterations */
} mb_model_provenance;

/* Write the trained model m (only read) to path, with prov (may be NULL)
 * and the creation time; MB_ERR_IO names path on failure and leaves no
 * file behind. */
mb_err mb_model_save(const mb_model *m, const char *path,
                     const mb_model_provenance *prov);

/* Load path into m; on success the caller owns m and releases it with
 * mb_model_free, on failure m holds nothing and the MB_ERR_INPUT message
 * names the file and what is wrong with it. */
mb_err mb_model_load(mb_model *m, const char *path);

/* mb_model_load, with the sub-topic models only when levels is 2: one
 * level needs neither their memory nor their load time. */
mb_err mb_model_load_levels(mb_model *m, const char *path, int levels);

/* Where mb_model_load_into puts the main model's dense table (the
 * sub-models keep their own): get sets *table to room for n floats that
 * outlives the model, which borrows it (mb_model.table_borrowed), or
 * fails with an error of its own. */
typedef struct mb_model_table_at {
    mb_err (*get)(void *ctx, size_t n, float **table);
    void *ctx;
} mb_model_table_at;

/* mb_model_load_levels, with the main table in at's memory (at NULL: the
 * model's own).  The model is built straight into it, so a node-shared
 * segment (mpibatch/shm.h) needs no second copy. */
mb_err mb_model_load_into(mb_model *m, const char *path, int levels,
                          const mb_model_table_at *at);

/* Bytes mb_model_pack_meta writes for the trained model m; writing them
 * into buf, which the caller owns; and rebuilding the model from len such
 * bytes (only read) around table, which it borrows and which already
 * holds the 2^hash_bits rows of n_labels + 1 floats of mb_model.  The
 * caller owns m as after mb_model_load; MB_ERR_INPUT if the bytes are not
 * such a buffer. */
size_t mb_model_packed_meta_size(const mb_model *m);
void mb_model_pack_meta(const mb_model *m, void *buf);
mb_err mb_model_unpack_meta(mb_model *m, const void *buf, size_t len,
                            float *table);

#endif
