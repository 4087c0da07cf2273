/* exec_lines.h - the lines of an exec commands file, parsed without side effects.
 *
 * A commands file (--commands) holds one shell command per line; an args
 * file (--args) one argument per line for a --command template.  Blank
 * lines and '#' comments are skipped, so task ids (0, 1, ... over the
 * remaining lines) and line numbers (1-based, every line counted) differ:
 * each task's payload carries its line number in a tag, so that messages
 * can name FILE:LINE.  A comment that starts with the word "#mpibatch" is
 * a directive (mb_commands_classify).  Everything here works on plain byte
 * ranges, so it can be unit-tested and fuzzed without MPI or processes.
 */
#ifndef MPIBATCH_COMMANDS_H
#define MPIBATCH_COMMANDS_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "mpibatch/error.h"

/* Longest command passed to /bin/sh -c, in bytes: Linux refuses a single
 * argument of 128 KiB or more (MAX_ARG_STRLEN) with E2BIG. */
#define MB_COMMANDS_MAX 131071

/* Bytes of the line-number tag in front of a task's line in its payload. */
#define MB_COMMANDS_TAG 8

/* What a line of a commands or args file is. */
typedef enum mb_commands_kind {
    MB_LINE_SKIP,     /* blank, or a plain '#' comment */
    MB_LINE_TASK,     /* a command (or an argument for the template) */
    MB_LINE_BARRIER,  /* "#mpibatch barrier": the tasks before it end before any after starts */
    MB_LINE_RESOURCES /* "#mpibatch cores=N gpus=G": amounts for the next task line */
} mb_commands_kind;

/* What a resources directive asks for the next command: cores and GPUs
 * per task (-1: not given, the options' defaults hold). */
typedef struct mb_directive {
    long cores, gpus;
} mb_directive;

/* Classify line[0..len): a task, a line to skip, or a directive.  A
 * directive is a comment whose first word is "#mpibatch" (leading blanks
 * allowed), followed by its words; other comments are plain comments.  An
 * unknown or malformed directive is MB_ERR_INPUT with a message without
 * location (the caller adds FILE:LINE). */
mb_err mb_commands_classify(const char *line, size_t len, mb_commands_kind *kind);

/* mb_commands_classify, and for MB_LINE_RESOURCES the amounts in *d
 * (otherwise both -1). */
mb_err mb_commands_parse(const char *line, size_t len, mb_commands_kind *kind, mb_directive *d);

/* Write line number lineno as a tag (little-endian, the same on every rank). */
void mb_commands_tag(uint64_t lineno, char tag[MB_COMMANDS_TAG]);

/* Split a payload into its line number and line; 0 if it is too short to
 * hold a tag. *line points into payload. */
int mb_commands_untag(const char *payload, size_t len, uint64_t *lineno, const char **line,
                      size_t *linelen);

/* A --command template and its --colsep, ready to expand. */
typedef struct mb_commands_template {
    const char *text;   /* the template (borrowed), or NULL: the line is the command */
    int colsep;         /* --colsep was given: sep splits lines into columns */
    regex_t sep;
} mb_commands_template;

/* Prepare t from a template (NULL: none) and a column separator (NULL:
 * none), both borrowed.  The separator is a POSIX extended regular
 * expression in which "\t" stands for a tab; one that matches the empty
 * string is refused.  A template must hold at least one replacement
 * string.  Errors are MB_ERR_USAGE; free t with mb_commands_template_free
 * whatever the outcome. */
mb_err mb_commands_template_init(mb_commands_template *t, const char *text, const char *colsep);
void mb_commands_template_free(mb_commands_template *t);

/* Whether text holds a replacement string ({}, {.}, {#}, {1}, ...). */
int mb_commands_template_has_holes(const char *text);

/* The shell command of one task line: the line itself when t->text is
 * NULL, else the template with its replacement strings filled in (GNU
 * parallel's):
 *   {}  the line ({} with --colsep: its columns joined by single spaces)
 *   {.} without its extension    {/} its basename    {//} its dirname
 *   {/.} basename without extension    {#} seq, the task's 1-based number
 *   {N} column N (1-based) of the line split at --colsep, the whole line
 *       without it; {N.} {N/} {N//} {N/.} the same operations on column N.
 * A '{' that starts none of these stays as it is.  A trailing '\r' of the
 * line (CRLF files) is dropped.  On success *cmd is a NUL-terminated
 * string the caller frees with free().  A line holding a NUL byte, a
 * column the line lacks, or a command longer than MB_COMMANDS_MAX bytes is
 * refused with MB_ERR_INPUT and a message without location (the caller
 * adds FILE:LINE). */
mb_err mb_commands_expand(const mb_commands_template *t, uint64_t seq, const char *line,
                          size_t len, char **cmd);



#endif
