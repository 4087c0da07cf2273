/* fuzz_model.c - the model loader on any file: a mutated HDF5 model is
 * refused with a message or loads into a model that survives the packed
 * round trip the classify kernel broadcasts. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "mpibatch/model_io.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors come back as messages */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    mb_model m, back;
    if (mb_model_load(&m, path) == MB_OK) {
        size_t n = mb_model_packed_size(&m);
        void *buf = malloc(n);
        fuzz_check(buf != NULL, "out of memory");
        mb_model_pack(&m, buf);
        fuzz_check(mb_model_unpack(&back, buf, n) == MB_OK, "a loaded model does not unpack");
        fuzz_check(back.n_labels == m.n_labels && back.n_buckets == m.n_buckets,
                   "the packed model differs");
        mb_model_free(&back);
        mb_model_free(&m);
        free(buf);
    } else {
        fuzz_check(strstr(mb_error_message(), path) != NULL, "the message does not name the file");
    }
    mb_error_clear();
    close(fd);
    return 0;
}
