/* cli.h - the command line: subcommands, flags, help and version. */
#ifndef MPIBATCH_CLI_H
#define MPIBATCH_CLI_H

#include <stdio.h>

#include "mpibatch/error.h"

/* Parse argv (rank 0 only).  Either prints help or version to out and sets
 * *done, or returns the validated job spec as JSON text in *spec (caller
 * frees).  `run FILE` reads the job file; flags after it override its keys. */
mb_err mb_cli_parse(int argc, char **argv, FILE *out, char **spec, int *done);

#endif
