/* options.h - the option tables a kernel declares (part of the plug-in ABI).
 *
 * Every option is at once a command-line flag (--name VALUE) and a key of
 * the JSON job spec.  mpibatch resolves both through one table-driven
 * parser (src/optparse.h, not part of the ABI), so the flag form and
 * `mpibatch run job.json` go through the same validation.
 */
#ifndef MPIBATCH_OPTIONS_H
#define MPIBATCH_OPTIONS_H

#include <stddef.h>

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
#endif
