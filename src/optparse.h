/* optparse.h - the one resolver of option tables (mpibatch/options.h):
 * flags and JSON keys, their validation, suggestions for typos and the
 * option lines of --help.  Internal: plug-ins only declare tables. */
#ifndef MPIBATCH_OPTPARSE_H
#define MPIBATCH_OPTPARSE_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"
#include "mpibatch/options.h"

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
