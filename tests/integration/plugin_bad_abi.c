/* plugin_bad_abi.c - a kernel library built for another ABI version, which
 * mpibatch must refuse before using anything in it (plugin.sh). */
#include <mpibatch/kernel.h>

extern const unsigned mb_plugin_abi_version;
const unsigned mb_plugin_abi_version = MB_KERNEL_ABI_VERSION + 1;

static const mb_option no_options[] = {{0}};

extern const mb_kernel mb_kernel_future;
const mb_kernel mb_kernel_future = {
    .name = "future",
    .summary = "a kernel from a later mpibatch",
    .options = no_options,
};
