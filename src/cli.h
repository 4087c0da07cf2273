/* cli.h - the command line: subcommands, flags, help and version. */
#ifndef MPIBATCH_CLI_H
#define MPIBATCH_CLI_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "mpibatch/error.h"
#include "mpibatch/options.h"

/* Parse argv (rank 0 only).  Either prints help or version to out and sets
 * *done, or returns the validated job spec as JSON text in *spec (caller
 * frees).  `run FILE` reads the job file; flags after it override its keys. */
mb_err mb_cli_parse(int argc, char **argv, FILE *out, char **spec, int *done);

/* For commands: parse argv[1..] (argv[0] is the command's name) as flags of
 * the NULL-terminated tables into a validated spec with defaults filled
 * in; the caller owns *spec.  Errors name the flag.  Up to max positional
 * arguments are stored in list (pointers into argv) and counted in *n;
 * with list NULL none is accepted. */
mb_err mb_cli_command_spec(int argc, char **argv, const mb_option *const *tables, cJSON **spec,
                           const char **list, int max, int *n);

#endif
