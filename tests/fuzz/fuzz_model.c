/* fuzz_model.c - the model loader on any file: a mutated HDF5 model is
 * refused with a message, or loads, the way classify's rank 0 does it,
 * into a table it borrows, and survives the round trip classify
 * broadcasts (everything but the table). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "ml/model_io.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors come back as messages */
    return 0;
}

/* Stands in for the node-shared segment: uninitialised, as that may be. */
static mb_err table_get(void *ctx, size_t n, float **table)
{
    fuzz_check((*(float **)ctx = *table = malloc(n * sizeof **table)) != NULL, "out of memory");
    return MB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    float *table = NULL;
    mb_model_table_at at = {table_get, &table};
    mb_model m, back;
    if (mb_model_load_into(&m, path, 2, &at) == MB_OK) {
        size_t n = mb_model_packed_meta_size(&m);
        void *buf = malloc(n);
        fuzz_check(buf != NULL, "out of memory");
        mb_model_pack_meta(&m, buf);
        fuzz_check(mb_model_unpack_meta(&back, buf, n, table) == MB_OK,
                   "a loaded model does not unpack");
        fuzz_check(back.n_labels == m.n_labels && back.n_buckets == m.n_buckets &&
                       back.n_active == m.n_active && !back.sub == !m.sub,
                   "the packed model differs");
        mb_model_free(&back);
        mb_model_free(&m);
        free(buf);
    } else {
        fuzz_check(strstr(mb_error_message(), path) != NULL, "the message does not name the file");
    }
    free(table);
    mb_error_clear();
    close(fd);
    return 0;
}
