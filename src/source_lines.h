/* source_lines.h - the lines source: one task per line of a file or URL. */
#ifndef MPIBATCH_SOURCE_LINES_H
#define MPIBATCH_SOURCE_LINES_H

#include <stddef.h>

#include "io/transfer.h"
#include "mpibatch/source.h"

/* One task per line of a text file or of an object at a URL (JSON lines
 * or plain text, streamed in ranges with o's retries), without the line's
 * '\n'.  A line longer than max_record bytes is delivered cut to
 * max_record + 1 bytes (so the kernel can reject it) and the rest is
 * skipped, keeping memory bounded.  The caller owns *src and releases it
 * with mb_source_close(). */
mb_err mb_source_open_lines(mb_source *src, const char *path, size_t max_record,
                           const mb_url_opts *o);

#endif
