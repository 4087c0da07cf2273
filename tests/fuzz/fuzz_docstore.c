/* fuzz_docstore.c - the document-store reader on any file: it is refused
 * with a message naming the file, or every document it yields unpacks. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "docstore.h"
#include "fuzz.h"

/* Batches read before giving up on a store that claims many documents. */
#define MAX_READS 16

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    mb_source src;
    mb_batch batch;
    memset(&batch, 0, sizeof batch);
    (void)mb_docstore_is_hdf5(path);
    if (mb_source_open_docstore(&src, path) == MB_OK) {
        for (int r = 0; r < MAX_READS; r++) {
            mb_batch_clear(&batch);
            if (src.read(src.state, 64, &batch) != MB_OK) {
                fuzz_check(strstr(mb_error_message(), path) != NULL, "read error without the file");
                break;
            }
            for (uint64_t i = 0; i < batch.count; i++) {
                mb_doc doc;
                fuzz_check(mb_docstore_unpack(batch.bytes.data + batch.offsets[i],
                                              (size_t)(batch.offsets[i + 1] - batch.offsets[i]),
                                              &doc) == MB_OK, "a yielded document does not unpack");
            }
            if (batch.count < 64)
                break;
        }
        mb_source_close(&src);
    } else {
        fuzz_check(strstr(mb_error_message(), path) != NULL, "the message does not name the file");
    }
    mb_batch_free(&batch);
    mb_error_clear();
    close(fd);
    return 0;
}
