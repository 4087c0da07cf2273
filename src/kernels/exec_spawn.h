/* exec_spawn.h - the messages between the exec kernel and mpibatch-spawn.
 *
 * Each rank that runs commands starts one small helper process,
 * mpibatch-spawn, and asks it over a SOCK_SEQPACKET socket pair to start
 * commands.  The helper forks them from its own small address space, so
 * that a command's peak resident memory (wait4's ru_maxrss) is the
 * command's own: a process started with posix_spawn (vfork) from mpibatch
 * would carry mpibatch's resident memory into its exec.  The helper reaps
 * each command as soon as it exits and reports the exit status and
 * resource use; the rank waits on that socket and the command's pipes in
 * one poll loop.
 *
 * Messages (one per datagram):
 *   rank -> helper  SPAWN: header, then env_len bytes of NUL-terminated
 *                   "NAME=value" strings put in front of the helper's own
 *                   environment, then the command (cmd_len bytes, no NUL);
 *                   two descriptors ride along (SCM_RIGHTS): the write
 *                   ends of the command's stdout and stderr pipes.
 *   rank -> helper  KILL: header; signal the command's process group.
 *   helper -> rank  DONE: the command ended (or could not start: err).
 * A tag chosen by the rank names the command in every message.  When the
 * rank closes its end, the helper kills every command still running and
 * exits.
 */
#ifndef MB_KERNELS_EXEC_SPAWN_H
#define MB_KERNELS_EXEC_SPAWN_H
#include <stdint.h>
#include <sys/resource.h>

/* The helper's descriptor of the socket (its standard input is /dev/null). */
#define MB_SPAWN_FD 3
/* Its program name, looked for beside the running mpibatch, then in the
 * installed helper directory. */
#define MB_SPAWN_PROGRAM "mpibatch-spawn"

enum mb_spawn_type { MB_SPAWN_START = 1, MB_SPAWN_KILL = 2, MB_SPAWN_DONE = 3 };

typedef struct mb_spawn_req {
    uint32_t type;       /* MB_SPAWN_START or MB_SPAWN_KILL */
    int32_t sig;         /* KILL: the signal */
    uint64_t tag;
    uint32_t env_len, cmd_len;
} mb_spawn_req;

typedef struct mb_spawn_done {
    uint32_t type;       /* MB_SPAWN_DONE */
    int32_t err;         /* errno of a failed start, else 0 */
    uint64_t tag;
    int32_t status;      /* from wait4 */
    int32_t pad;
    struct rusage ru;    /* the command's, from wait4 */
} mb_spawn_done;

#endif
