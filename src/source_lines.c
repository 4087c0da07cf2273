/* source_lines.c - a text file or object as one task per line, read in
 * blocks through the URL reader (which reads plain paths as files). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "io/transfer.h"
#include "mpibatch/source.h"
#include "source_lines.h"

#define BLOCK (1u << 20) /* bytes per fread */

typedef struct lines {
    mb_url_reader *in;
    char *path;
    size_t max_record;
    char *block;         /* unread bytes are block[pos..fill) */
    size_t pos, fill;
    int eof;
    mb_buf line;         /* the line being assembled across blocks */
    uint64_t lineno;
    int text;            /* mb_source_open_text: skip blank lines, tag */
    mb_buf tagged;       /* text: line number and line */
} lines;

static mb_err refill(lines *l)
{
    mb_err rc = mb_url_reader_read(l->in, l->block, BLOCK, &l->fill);
    l->pos = 0;
    if (rc != MB_OK)
        return mb_error_set(rc, "after line %llu: %s", (unsigned long long)l->lineno,
                            mb_error_message());
    l->eof = l->fill == 0;
    return MB_OK;
}

/* The next line (cut past max_record + 1 bytes) in *data, *len: in the
 * block itself when it lies wholly inside it, which spares a copy of
 * nearly every line, else assembled across blocks in l->line.  Valid until
 * the next call; *got is 0 at the end of input. */
static mb_err next_line(lines *l, const char **data, size_t *len, int *got)
{
    size_t keep = l->max_record + 1;
    int any = 0;
    l->line.len = 0;
    for (;;) {
        mb_err rc;
        if (l->pos == l->fill && !l->eof && (rc = refill(l)) != MB_OK)
            return rc;
        if (l->pos == l->fill) {
            *got = any; /* a last line without '\n' still counts */
            break;
        }
        char *start = l->block + l->pos;
        char *nl = memchr(start, '\n', l->fill - l->pos);
        size_t n = nl ? (size_t)(nl - start) : l->fill - l->pos;
        l->pos += n + (nl != NULL);
        if (nl && !any) {
            *data = start;
            *len = n < keep ? n : keep;
            *got = 1;
            return MB_OK;
        }
        size_t room = l->line.len < keep ? keep - l->line.len : 0;
        if ((rc = mb_buf_append(&l->line, start, n < room ? n : room)) != MB_OK)
            return rc;
        any = 1;
        if (nl) {
            *got = 1;
            break;
        }
    }
    *data = l->line.data;
    *len = l->line.len;
    return MB_OK;
}

static int is_blank(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r')
            return 0;
    return 1;
}

/* Text: the line number, then the line, as one payload. */
static mb_err add_tagged(lines *l, const char *data, size_t len, mb_batch *out)
{
    uint64_t n = l->lineno;
    mb_err rc;
    l->tagged.len = 0;
    if ((rc = mb_buf_append(&l->tagged, &n, sizeof n)) != MB_OK ||
        (rc = mb_buf_append(&l->tagged, data, len)) != MB_OK)
        return rc;
    return mb_batch_add(out, l->tagged.data, l->tagged.len);
}

static mb_err lines_read(void *state, uint64_t max, mb_batch *out)
{
    lines *l = state;
    uint64_t added = 0;
    while (added < max) {
        const char *data;
        size_t len;
        int got;
        mb_err rc = next_line(l, &data, &len, &got);
        if (rc != MB_OK || !got)
            return rc;
        l->lineno++;
        if (l->text && is_blank(data, len))
            continue; /* not a task */
        if ((rc = l->text ? add_tagged(l, data, len, out) : mb_batch_add(out, data, len)))
            return rc;
        added++;
    }
    return MB_OK;
}

static void lines_close(void *state)
{
    lines *l = state;
    if (!l)
        return;
    mb_url_reader_close(l->in);
    free(l->path);
    free(l->block);
    mb_buf_free(&l->line);
    mb_buf_free(&l->tagged);
    free(l);
}

mb_err mb_source_open_lines(mb_source *src, const char *path, size_t max_record,
                           const mb_url_opts *o)
{
    lines *l = calloc(1, sizeof *l);
    memset(src, 0, sizeof *src);
    if (!l || !(l->path = strdup(path)) || !(l->block = malloc(BLOCK))) {
        lines_close(l);
        return mb_error_set(MB_ERR_NOMEM, "out of memory opening '%s'", path);
    }
    mb_err rc = mb_url_reader_open(&l->in, path, o);
    if (rc != MB_OK) {
        lines_close(l);
        return rc;
    }
    l->max_record = max_record;
    *src = (mb_source){.name = "lines", .read = lines_read, .close = lines_close, .state = l};
    return MB_OK;
}

mb_err mb_source_open_text(mb_source *src, const char *path, size_t max_record,
                          const mb_url_opts *o)
{
    mb_err rc = mb_source_open_lines(src, path, max_record, o);
    if (rc == MB_OK) {
        ((lines *)src->state)->text = 1;
        src->name = "text";
    }
    return rc;
}

mb_err mb_source_read_through(mb_source *src, uint64_t max, mb_batch *out)
{
    uint64_t before = out->count;
    mb_err rc = src->read(src->state, max, out);
    while (rc == MB_OK && out->count - before < max && src->at_barrier &&
           src->at_barrier(src->state))
        rc = src->read(src->state, max - (out->count - before), out);
    return rc;
}

void mb_source_close(mb_source *src)
{
    if (src->close)
        src->close(src->state);
    memset(src, 0, sizeof *src);
}
