/* plugin.h - kernels from shared libraries (--kernel-lib LIB --kernel NAME).
 *
 * Every rank loads the library itself (it must be readable on every node)
 * and finds the kernel by its symbol, mb_kernel_NAME, after checking the
 * library's mb_plugin_abi_version (kernel.h, MB_KERNEL_PLUGIN_ABI).  The
 * program is linked with --export-dynamic, so the library's calls to
 * mpibatch functions resolve to the program's own.
 */
#ifndef MPIBATCH_PLUGIN_H
#define MPIBATCH_PLUGIN_H

#include "mpibatch/error.h"
#include "mpibatch/kernel.h"
#include "mpibatch/options.h"

/* The flags that name a plug-in (shown in `mpibatch --help`); they are
 * also the job-spec keys "kernel-lib" and "kernel". */
extern const mb_option mb_plugin_options[];

/* Load the library at path (dlopen's rules: a name with '/' is a path,
 * else the loader's search) and return its kernel `name` in *k.  The
 * library stays loaded until the process exits, since *k points into it;
 * loading it again returns the same kernel.  Errors are MB_ERR_USAGE
 * naming the library: not loadable, no such kernel, another ABI version,
 * or a kernel without the functions every kernel needs. */
mb_err mb_plugin_load(const char *path, const char *name, const mb_kernel **k);

#endif
