/* command.h - subcommands that are not kernels (benchmarks, tools).
 *
 * A kernel runs a batch of tasks through the scheduler; a command is any
 * other program mode (the ring benchmark, model training, import).  Each
 * parses its own arguments with option tables and returns an exit status.
 */
#ifndef MPIBATCH_COMMAND_H
#define MPIBATCH_COMMAND_H

#include <mpi.h>
#include <stdio.h>

typedef struct mb_command {
    const char *name;
    const char *summary;  /* one line for `mpibatch --help` */
    /* argv[0] is the command's name.  comm is mpibatch's own duplicate with
     * MPI_ERRORS_RETURN set.  Collective; returns the exit status. */
    int (*main)(int argc, char **argv, MPI_Comm comm);
    /* Full help text (usage and options) for `mpibatch help NAME`. */
    void (*help)(FILE *fp);
} mb_command;

/* Command by name from the registry, or NULL. */
const mb_command *mb_command_find(const char *name);

/* The NULL-terminated registry, for help listings. */
const mb_command *const *mb_command_registry(void);

/* The commands, one file each in src/commands/, listed in registry.c. */
extern const mb_command mb_command_train;
extern const mb_command mb_command_import;
extern const mb_command mb_command_corpus;
extern const mb_command mb_command_ring;
extern const mb_command mb_command_status;
extern const mb_command mb_command_export;
extern const mb_command mb_command_cp;
extern const mb_command mb_command_logs;

#endif
