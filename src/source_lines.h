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

/* Plain text, one document per line: like mb_source_open_lines, except
 * that lines holding only blanks (spaces, tabs, '\r') are left out, as
 * exec leaves them out, and each payload starts with the line's 1-based
 * number as a uint64_t (host byte order, MB_SOURCE_TEXT_TAG bytes) before
 * the line's bytes. */
#define MB_SOURCE_TEXT_TAG 8
mb_err mb_source_open_text(mb_source *src, const char *path, size_t max_record,
                          const mb_url_opts *o);

#endif
