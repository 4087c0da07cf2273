/* commands.h - the lines of an exec commands file, parsed without side effects.
 *
 * A commands file (--commands) holds one shell command per line; an args
 * file (--args) one argument per line for a --command template.  Blank
 * lines and '#' comments are skipped, so task ids (0, 1, ... over the
 * remaining lines) and line numbers (1-based, every line counted) differ:
 * each task's payload carries its line number in a tag, so that messages
 * can name FILE:LINE.  Everything here works on plain byte ranges, so it
 * can be unit-tested and fuzzed without MPI or processes.
 */
#ifndef MPIBATCH_COMMANDS_H
#define MPIBATCH_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

/* Longest command passed to /bin/sh -c, in bytes: Linux refuses a single
 * argument of 128 KiB or more (MAX_ARG_STRLEN) with E2BIG. */
#define MB_COMMANDS_MAX 131071

/* Bytes of the line-number tag in front of a task's line in its payload. */
#define MB_COMMANDS_TAG 8

/* Whether line[0..len) (without its '\n') is a task: 1, or 0 for a blank
 * line (spaces, tabs and '\r' only) or a comment (first other byte '#'). */
int mb_commands_is_task(const char *line, size_t len);

/* Write line number lineno as a tag (little-endian, the same on every rank). */
void mb_commands_tag(uint64_t lineno, char tag[MB_COMMANDS_TAG]);

/* Split a payload into its line number and line; 0 if it is too short to
 * hold a tag. *line points into payload. */
int mb_commands_untag(const char *payload, size_t len, uint64_t *lineno, const char **line,
                      size_t *linelen);

/* The shell command of one task line: the line itself when tmpl is NULL,
 * else tmpl with every "{}" replaced by the line, verbatim.  A trailing
 * '\r' of the line (CRLF files) is dropped.  On success *cmd is a
 * NUL-terminated string the caller frees with free().  A line holding a
 * NUL byte, or a command longer than MB_COMMANDS_MAX bytes, is refused with
 * MB_ERR_INPUT and a message without location (the caller adds FILE:LINE). */
mb_err mb_commands_expand(const char *tmpl, const char *line, size_t len, char **cmd);

#endif
