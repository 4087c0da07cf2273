/* registry.c - the registry of non-kernel subcommands. */
#include <string.h>

#include "commands/commands.h"

/* One entry per command, each defined in its own file. */
static const mb_command *const registry[] = {
    &mb_command_ring,
    &mb_command_cp,
    &mb_command_train,
    &mb_command_corpus,
    &mb_command_import,
    &mb_command_status,
    &mb_command_export,
    &mb_command_logs,
    NULL
};

const mb_command *const *mb_command_registry(void)
{
    return registry;
}

const mb_command *mb_command_find(const char *name)
{
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
