/* options.h - table-driven options: one resolver for flags and JSON keys.
 *
 * Every option is at once a command-line flag (--name VALUE) and a key of
 * the JSON job spec.  Flags are first turned into a JSON object, so the
 * flag form and `mpibatch run job.json` go through the same validation.
 */
#ifndef MPIBATCH_OPTIONS_H
#define MPIBATCH_OPTIONS_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"

typedef enum mb_opt_type {
    MB_OPT_INT,    /* integer in [min, max]; JSON number, flag may use 1e9 */
    MB_OPT_NUM,    /* real number in [min, max] */
    MB_OPT_STR,    /* free text (paths) */
    MB_OPT_ENUM,   /* one of `choices`, separated by '|' */
    MB_OPT_BOOL    /* flag without value; JSON true/false */
} mb_opt_type;

typedef struct mb_option {
    const char *name;    /* flag without dashes and JSON key */
    mb_opt_type type;
    const char *defval;  /* default as flag text; NULL: unset unless given */
    double min, max;     /* bounds for MB_OPT_INT and MB_OPT_NUM */
    const char *choices; /* MB_OPT_ENUM only */
    const char *meta;    /* value placeholder in --help, e.g. "N" */
    const char *help;    /* one line */
} mb_option;

/* Largest integer a JSON number (a double) holds exactly: 2^53. */
#define MB_OPT_INT_MAX 9007199254740992.0

/* Find name in the NULL-name-terminated tables (searched in order). */
const mb_option *mb_options_find(const mb_option *const *tables, const char *name);

/* Convert one flag's text to a JSON value of the option's type.  The caller
 * owns the returned item.  Errors name the flag. */
mb_err mb_options_parse_flag(const mb_option *opt, const char *text, cJSON **out);

/* The option name in tables, or in the NULL-terminated extra list (may be
 * NULL), closest to the unknown name by edit distance, when it is close
 * enough to be a likely misspelling (at most half the letters of the
 * longer one differ); NULL otherwise.  A static string from the tables. */
const char *mb_options_suggest(const mb_option *const *tables, const char *const *extra,
                               const char *name);

/* The first option name that appears twice across tables, or NULL. */
const char *mb_options_clash(const mb_option *const *tables);

/* Check every key of spec against tables (except those listed in skip, a
 * NULL-terminated list), type and range, and add defaults for missing keys.
 * where names the origin in messages ("job.json" or "command line"). */
mb_err mb_options_validate(cJSON *spec, const mb_option *const *tables,
                           const char *const *skip, const char *where);

/* Print "  --name META  help [default: X]" lines for a table. */
void mb_options_print_help(const mb_option *table, FILE *fp);

#endif
