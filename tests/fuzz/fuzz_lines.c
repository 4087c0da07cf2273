/* fuzz_lines.c - a JSON-lines (or any text) stream read as one task per
 * line, across the reader's block boundaries.
 *
 * The input's first four bytes choose where its rest starts relative to
 * the 1 MiB block the line source reads (src/source_lines.c), the record
 * limit and the batch size; the file is a filler line up to there, then
 * the rest.  Every delivered line must equal the same line split out here
 * independently, cut to max_record + 1 bytes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/transfer.h"
#include "mpibatch/source.h"
#include "fuzz.h"
#include "source_lines.h"

#define BLOCK (1u << 20) /* src/source_lines.c's read size */

/* The next expected line of buf[*pos..n) into line and len; 0 at the end. */
static int expected_line(const char *buf, size_t n, size_t *pos, const char **line,
                         size_t *len, size_t keep)
{
    const char *nl;
    size_t k;
    if (*pos >= n)
        return 0;
    nl = memchr(buf + *pos, '\n', n - *pos);
    k = nl ? (size_t)(nl - (buf + *pos)) : n - *pos;
    *line = buf + *pos;
    *len = k < keep ? k : keep;
    *pos += k + (nl != NULL);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t before, max_record, n = 0, pos = 0, total;
    uint64_t per_read;
    char *file, path[64];
    mb_source src;
    mb_batch batch;
    mb_url_opts o;
    int fd;
    if (size < 4)
        return 0;
    /* the rest starts up to 4 KiB before a block boundary, or at 0 */
    before = ((size_t)data[0] << 8 | data[1]) % 4097;
    max_record = 1 + data[2] * 37u;
    per_read = 1 + data[3] % 9;
    data += 4;
    size -= 4;
    total = (before ? BLOCK - before : 0) + size;
    file = malloc(total ? total : 1);
    fuzz_check(file != NULL, "out of memory");
    if (before) {
        memset(file, 'x', BLOCK - before - 1);
        file[BLOCK - before - 1] = '\n';
    }
    memcpy(file + total - size, data, size);
    fd = fuzz_memfile(file, total, path, sizeof path);
    mb_url_opts_default(&o);
    memset(&batch, 0, sizeof batch);
    fuzz_check(mb_source_open_lines(&src, path, max_record, &o) == MB_OK, "cannot open");
    for (;;) {
        mb_batch_clear(&batch);
        fuzz_check(src.read(src.state, per_read, &batch) == MB_OK, "read failed");
        for (uint64_t i = 0; i < batch.count; i++) {
            const char *want = NULL;
            size_t got_len = (size_t)(batch.offsets[i + 1] - batch.offsets[i]);
            fuzz_check(expected_line(file, total, &pos, &want, &n, max_record + 1),
                       "a line past the end of the input");
            fuzz_check(got_len == n && (n == 0 || memcmp(batch.bytes.data + batch.offsets[i],
                                                         want, n) == 0),
                       "a line differs from the input's");
        }
        if (batch.count < per_read)
            break;
    }
    fuzz_check(!expected_line(file, total, &pos, &(const char *){NULL}, &n, max_record + 1),
               "lines missing at the end");
    mb_source_close(&src);
    mb_batch_free(&batch);
    close(fd);
    free(file);
    return 0;
}
